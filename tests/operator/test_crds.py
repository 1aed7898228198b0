"""The CRDs: generated from the models, structural, and identical to what crds/ holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from pydantic import BaseModel

from quckchat_operator import crds, models
from quckchat_operator.cli import main
from tests.support import ROOT

KUBERNETES_VERSIONS = ("1.30.0", "1.34.0")
CRD_DIRECTORIES = [ROOT / "crds", ROOT / crds.CHART / "crds"]


def by_kind() -> dict[str, dict[str, Any]]:
    return {c["spec"]["names"]["kind"]: c for c in crds.all_crds()}


def version(crd: dict[str, Any]) -> dict[str, Any]:
    (only,) = crd["spec"]["versions"]
    result: dict[str, Any] = only
    return result


def schema(kind: str) -> dict[str, Any]:
    result: dict[str, Any] = version(by_kind()[kind])["schema"]["openAPIV3Schema"]
    return result


def nodes(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from nodes(child, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from nodes(node["additionalProperties"], f"{path}.*")
    if "items" in node:
        yield from nodes(node["items"], f"{path}[]")


def test_three_namespaced_kinds_in_one_group_and_category() -> None:
    kinds = by_kind()
    assert set(kinds) == {"QuckChatCluster", "ServiceGroup", "Workspace"}
    short = {k: c["spec"]["names"]["shortNames"] for k, c in kinds.items()}
    assert short == {"QuckChatCluster": ["qc"], "ServiceGroup": ["qsg"], "Workspace": ["qws"]}
    for crd in kinds.values():
        assert crd["spec"]["group"] == "quckchat.io"
        assert crd["spec"]["scope"] == "Namespaced"
        assert crd["spec"]["names"]["categories"] == ["quckchat"]
        assert version(crd)["name"] == "v1alpha1"
        assert version(crd)["served"] and version(crd)["storage"]
        assert version(crd)["subresources"]["status"] == {}


def test_only_the_service_group_scales() -> None:
    kinds = by_kind()
    assert version(kinds["ServiceGroup"])["subresources"]["scale"] == {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }
    assert "scale" not in version(kinds["QuckChatCluster"])["subresources"]
    assert "scale" not in version(kinds["Workspace"])["subresources"]
    status = schema("ServiceGroup")["properties"]["status"]["properties"]
    assert status["replicas"]["type"] == "integer"
    assert status["selector"]["type"] == "string"


def test_the_cluster_prints_ready_version_phase_and_age() -> None:
    columns = version(by_kind()["QuckChatCluster"])["additionalPrinterColumns"]
    assert [(c["name"].upper(), c["jsonPath"]) for c in columns] == [
        ("READY", ".status.readyServices"),
        ("VERSION", ".status.currentVersion"),
        ("PHASE", ".status.phase"),
        ("AGE", ".metadata.creationTimestamp"),
    ]


@pytest.mark.parametrize("kind", ["QuckChatCluster", "ServiceGroup", "Workspace"])
def test_every_schema_node_is_structural(kind: str) -> None:
    for path, node in nodes(schema(kind)):
        assert not {"$ref", "$defs", "title", "allOf", "oneOf", "not"} & set(node), path
        if node.get("x-kubernetes-int-or-string"):
            assert node.get("anyOf") == [{"type": "integer"}, {"type": "string"}], path
            continue
        assert "type" in node, f"{kind}{path} has no type"
        assert "anyOf" not in node, path
        assert "uniqueItems" not in node, path
        if node["type"] == "object":
            assert not ("properties" in node and "additionalProperties" in node), path
            assert node.get("additionalProperties") is not False, path


def rules(kind: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path, node in nodes(schema(kind)):
        for rule in node.get("x-kubernetes-validations", []):
            assert rule["message"], path
            found.setdefault(path, []).append(rule["rule"])
    return found


def test_cel_rules_guard_what_a_schema_alone_cannot() -> None:
    cluster = rules("QuckChatCluster")
    assert "self.minReplicas <= self.maxReplicas" in cluster[".spec.groups.*.autoscaling"]
    assert "self.mode == 'managed' || has(self.secretRef)" in cluster[".spec.stores.redis"]
    assert any("'backend-gateway'" in r for r in cluster[".spec.services"])
    assert any("'identity'" in r for r in cluster[".spec.groups"])
    group = rules("ServiceGroup")
    assert group[".spec.cluster"] == group[".spec.group"] == ["self == oldSelf"]
    assert any("[self.group]" in r for r in group[".spec"])
    assert "self.minReplicas <= self.maxReplicas" in group[".spec.services.*.autoscaling"]
    assert "has(self.email) || has(self.phone)" in rules("Workspace")[".spec.owner"]


def test_bounds_enums_and_patterns_survive() -> None:
    spec = schema("QuckChatCluster")["properties"]["spec"]
    assert spec["properties"]["version"]["pattern"] == models.SEMVER
    override = spec["properties"]["groups"]["additionalProperties"]
    assert override["properties"]["replicas"] | {"nullable": True} == {
        "type": "integer",
        "minimum": 0,
        "maximum": 100,
        "nullable": True,
    }
    mode = spec["properties"]["stores"]["properties"]["mysql"]["properties"]["mode"]
    assert mode["enum"] == ["managed", "external"] and mode["default"] == "managed"
    assert spec["properties"]["services"]["maxProperties"] == 32
    metadata = schema("QuckChatCluster")["properties"]["metadata"]
    assert metadata["properties"]["name"]["maxLength"] == 37


def apply_defaults(node: dict[str, Any], value: Any) -> Any:
    """The apiserver's defaulting, enough of it to see what an empty spec becomes."""
    if value is None and "default" in node:
        value = node["default"]
    if isinstance(value, dict) and "properties" in node:
        value = dict(value)
        for name, child in node["properties"].items():
            defaulted = apply_defaults(child, value.get(name))
            if defaulted is not None:
                value[name] = defaulted
    return value


@pytest.mark.parametrize(
    ("kind", "model", "given"),
    [
        ("QuckChatCluster", models.QuckChatClusterSpec, None),
        ("ServiceGroup", models.ServiceGroupSpec, {"cluster": "qc", "group": "edge"}),
        (
            "Workspace",
            models.WorkspaceSpec,
            {"clusterRef": "qc", "displayName": "A", "owner": {"phone": "+15550100"}},
        ),
    ],
)
def test_the_apiserver_defaults_a_spec_as_the_model_does(
    kind: str, model: type[BaseModel], given: dict[str, Any] | None
) -> None:
    defaulted = apply_defaults(schema(kind)["properties"]["spec"], given)
    expected = model.model_validate(given or {}).model_dump(mode="json", exclude_none=True)
    # An empty map is {} in the model and absent in the apiserver: both mean "no overrides".
    assert {k: v for k, v in defaulted.items() if v != {}} == {
        k: v for k, v in expected.items() if v != {}
    }


@pytest.mark.parametrize("kubernetes", KUBERNETES_VERSIONS)
def test_the_crds_are_valid_custom_resource_definitions(kubernetes: str) -> None:
    for crd in crds.all_crds():
        kubernetes_validate.validate(crd, kubernetes, strict=True)


@pytest.mark.parametrize("directory", CRD_DIRECTORIES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_committed_crds_match_the_models(directory: Path) -> None:
    assert crds.drift(directory) == [], "run `quckchat-operator crds` to regenerate"


def test_crds_check_exits_1_on_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crds", "--out", str(tmp_path), "--check"]) == 1
    assert main(["crds", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(crds.rendered_files())
    assert main(["crds", "--out", str(tmp_path), "--check"]) == 0
    edited = tmp_path / "quckchat.io_workspaces.yaml"
    edited.write_text(edited.read_text().replace("qws", "ws"))
    assert main(["crds", "--out", str(tmp_path), "--check"]) == 1
    assert "quckchat.io_workspaces.yaml: differs" in capsys.readouterr().err


def test_crds_writes_and_checks_the_charts_copy_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / crds.CHART
    chart.mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: quckchat-operator\nversion: 0.1.0\n")
    kopf = chart / "crds" / "kopf.dev_kopfpeerings.yaml"
    kopf.parent.mkdir()
    kopf.write_text("# hand-written, not generated\n")
    out = tmp_path / "crds"
    assert main(["crds", "--out", str(out)]) == 0
    for directory in (out, chart / "crds"):
        assert {p.name: p.read_text() for p in directory.glob("quckchat.io_*")} == (
            crds.rendered_files()
        )
    assert main(["crds", "--out", str(out), "--check"]) == 0
    assert kopf.read_text() == "# hand-written, not generated\n"
    edited = chart / "crds" / "quckchat.io_servicegroups.yaml"
    edited.write_text(edited.read_text().replace("qsg", "sg"))
    capsys.readouterr()
    assert main(["crds", "--out", str(out), "--check"]) == 1
    assert f"{edited}: differs" in capsys.readouterr().err
    edited.unlink()
    assert main(["crds", "--out", str(out), "--check"]) == 1
    assert f"{edited}: missing" in capsys.readouterr().err


def test_a_union_with_no_structural_form_is_refused() -> None:
    class Either(BaseModel):
        value: int | str

    with pytest.raises(crds.UnsupportedSchema):
        crds.structural(Either.model_json_schema())


def test_a_notification_provider_is_required_whole_by_the_apiserver_too() -> None:
    spec = schema("QuckChatCluster")["properties"]["spec"]["properties"]["notifications"]
    providers = spec["properties"]
    assert providers["smtp"]["required"] == ["urlSecret", "from"]
    assert providers["fcm"]["required"] == ["credentialsSecret", "projectId"]
    assert providers["apns"]["required"] == ["keySecret", "keyId", "teamId", "topic"]
    assert providers["webpush"]["required"] == ["vapidSecret", "subject"]
    assert providers["smtp"]["properties"]["from"]["pattern"] == models.MAILBOX
    assert providers["apns"]["properties"]["keyId"]["pattern"] == models.APPLE_ID
    secret = providers["fcm"]["properties"]["credentialsSecret"]
    assert secret["required"] == ["name", "key"]
    assert secret["properties"]["key"]["pattern"] == models.SECRET_DATA_KEY
