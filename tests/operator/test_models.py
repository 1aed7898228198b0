"""The models accept what the examples say and reject bad specs with the field's path."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from quckchat_operator.models import (
    QuckChatClusterSpec,
    ServiceGroupSpec,
    StoreMode,
    WorkspaceSpec,
    field_errors,
)
from quckchat_operator.render.meta import Cluster, InvalidCluster
from tests.worlds.clusters import example_documents


def errors_of(model: type[Any], spec: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(spec)
    return "\n".join(field_errors(caught.value))


def test_an_empty_spec_is_a_whole_cluster_of_defaults() -> None:
    spec = QuckChatClusterSpec.model_validate({})
    assert spec.version == "1.0.0"
    assert spec.image_ref == "ghcr.io/quckchat/quckchat:1.0.0"
    assert spec.stores.kafka.mode == StoreMode.MANAGED
    assert spec.stores.mysql.storage.size == "10Gi"
    assert spec.deletion_policy == "Retain"
    assert not spec.paused


def test_the_image_tag_defaults_to_the_version_and_can_be_pinned() -> None:
    assert QuckChatClusterSpec(version="1.2.3").image_ref.endswith(":1.2.3")
    pinned = QuckChatClusterSpec.model_validate({"version": "1.2.3", "image": {"tag": "dev"}})
    assert pinned.image_ref.endswith(":dev")


@pytest.mark.parametrize(
    ("spec", "path", "words"),
    [
        ({"groups": {"edge": {"replicas": -1}}}, "spec.groups.edge.replicas", "greater than"),
        ({"services": {"auth": {"replicas": -3}}}, "spec.services.auth.replicas", "greater"),
        ({"groups": {"edge": {"replicas": 101}}}, "spec.groups.edge.replicas", "less than"),
        ({"stores": {"mysql": {"mode": "borrowed"}}}, "spec.stores.mysql.mode", "'managed'"),
        ({"version": "1.0"}, "spec.version", "pattern"),
        ({"version": "latest"}, "spec.version", "pattern"),
        (
            {"groups": {"edge": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}}},
            "spec.groups.edge.autoscaling",
            "minReplicas must not exceed maxReplicas",
        ),
        (
            {"stores": {"redis": {"mode": "external"}}},
            "spec.stores.redis",
            "secretRef is required when mode is external",
        ),
        ({"groups": {"frontend": {}}}, "spec.groups", "unknown group frontend"),
        ({"services": {"chat": {}}}, "spec.services", "unknown service chat"),
        ({"stoers": {}}, "spec.stoers", "Extra inputs"),
        (
            {"stores": {"mysql": {"storage": {"size": "ten gigs"}}}},
            "spec.stores.mysql.storage.size",
            "pattern",
        ),
        (
            {"services": {"ml": {"resources": {"limits": {"cpu": 0.5}}}}},
            "spec.services.ml.resources.limits.cpu",
            "string",
        ),
        ({"deletionPolicy": "Shred"}, "spec.deletionPolicy", "'Retain'"),
    ],
)
def test_a_bad_cluster_spec_is_rejected_naming_the_field(
    spec: dict[str, Any], path: str, words: str
) -> None:
    message = errors_of(QuckChatClusterSpec, spec)
    assert f"{path}: " in message
    assert words in message


def test_an_external_store_with_a_secret_and_integer_quantities_are_accepted() -> None:
    spec = QuckChatClusterSpec.model_validate(
        {
            "stores": {"redis": {"mode": "external", "secretRef": {"name": "r"}}},
            "services": {"ml": {"resources": {"requests": {"cpu": 2, "memory": "1Gi"}}}},
        }
    )
    assert spec.stores.redis.secret_ref is not None
    assert spec.stores.redis.secret_ref.key == "url"
    resources = spec.services["ml"].resources
    assert resources is not None
    assert resources.as_manifest() == {"requests": {"cpu": "2", "memory": "1Gi"}}


def test_a_service_group_names_only_its_own_services() -> None:
    ok = ServiceGroupSpec.model_validate(
        {"cluster": "qc", "group": "edge", "services": {"realtime": {"replicas": 3}}}
    )
    assert ok.services["realtime"].replicas == 3
    message = errors_of(
        ServiceGroupSpec, {"cluster": "qc", "group": "edge", "services": {"auth": {}}}
    )
    assert "spec: " in message and "auth are not in group edge" in message
    assert "spec.replicas: " in errors_of(
        ServiceGroupSpec, {"cluster": "qc", "group": "edge", "replicas": -1}
    )
    assert "spec.group: " in errors_of(ServiceGroupSpec, {"cluster": "qc", "group": "chat"})


def test_the_example_workspace_is_valid() -> None:
    (document,) = example_documents("workspace")
    spec = WorkspaceSpec.model_validate(document["spec"])
    assert spec.quotas.storage_gib == 250
    assert spec.owner.email == "owner@acme.example"


@pytest.mark.parametrize(
    ("owner", "words"),
    [
        ({}, "owner needs email or phone"),
        ({"email": "nope"}, "email"),
        ({"phone": "555"}, "pattern"),
    ],
)
def test_a_workspace_owner_must_be_reachable(owner: dict[str, str], words: str) -> None:
    message = errors_of(WorkspaceSpec, {"clusterRef": "qc", "displayName": "A", "owner": owner})
    assert "spec.owner" in message and words in message


def test_a_cluster_manifest_reports_every_wrong_field_at_once() -> None:
    with pytest.raises(InvalidCluster) as caught:
        Cluster.from_manifest(
            {
                "kind": "QuckChatCluster",
                "metadata": {"name": "x" * 38},
                "spec": {"version": "one", "groups": {"edge": {"replicas": -1}}},
            }
        )
    joined = "\n".join(caught.value.errors)
    assert "metadata.name" in joined
    assert "spec.version" in joined
    assert "spec.groups.edge.replicas" in joined


@pytest.mark.parametrize(
    ("clamd", "words"),
    [
        ("clamav:3310", "pattern"),
        ("tcp://clamav", "pattern"),
        ("tcp://clamav:99999", "at most 65535"),
        ("tcp://-bad-:3310", "pattern"),
    ],
)
def test_clamd_is_an_address_with_a_port(clamd: str, words: str) -> None:
    assert words in errors_of(QuckChatClusterSpec, {"files": {"clamd": clamd}})


SMTP = {"urlSecret": {"name": "relay", "key": "url"}, "from": "QuckChat <chat@example.com>"}
APNS = {
    "keySecret": {"name": "apple", "key": "AuthKey.p8"},
    "keyId": "ABC123DEFG",
    "teamId": "TEAM123456",
    "topic": "io.quckchat.app",
}


@pytest.mark.parametrize(
    ("notifications", "words"),
    [
        ({"smtp": {"urlSecret": SMTP["urlSecret"]}}, "notifications.smtp.from: Field required"),
        ({"smtp": {"from": SMTP["from"]}}, "notifications.smtp.urlSecret: Field required"),
        ({"smtp": {**SMTP, "from": "not an address"}}, "notifications.smtp.from: String should"),
        ({"smtp": {**SMTP, "port": 70000}}, "notifications.smtp.port"),
        ({"smtp": {**SMTP, "urlSecret": {"name": "relay"}}}, "urlSecret.key: Field required"),
        ({"smtp": {**SMTP, "urlSecret": {"name": "r", "key": "a/b"}}}, "urlSecret.key: String"),
        ({"fcm": {"credentialsSecret": {"name": "f", "key": "k"}}}, "fcm.projectId: Field"),
        ({"fcm": {"projectId": "Bad_Project"}}, "fcm.projectId: String should"),
        ({"apns": {k: v for k, v in APNS.items() if k != "teamId"}}, "apns.teamId: Field"),
        ({"apns": {**APNS, "keyId": "short"}}, "apns.keyId: String should"),
        ({"webpush": {"vapidSecret": {"name": "v", "key": "k"}}}, "webpush.subject: Field"),
        (
            {"webpush": {"vapidSecret": {"name": "v", "key": "k"}, "subject": "ops@x.io"}},
            "webpush.subject: String should",
        ),
        ({"sms": {}}, "notifications.sms: Extra inputs"),
    ],
)
def test_a_provider_comes_whole_and_well_formed(notifications: dict[str, Any], words: str) -> None:
    assert words in errors_of(QuckChatClusterSpec, {"notifications": notifications})


def test_notifications_default_to_none_and_take_each_provider() -> None:
    assert QuckChatClusterSpec.model_validate({}).notifications.smtp is None
    spec = QuckChatClusterSpec.model_validate({"notifications": {"smtp": SMTP, "apns": APNS}})
    assert spec.notifications.smtp is not None and spec.notifications.smtp.port == 587
    assert spec.notifications.smtp.from_ == "QuckChat <chat@example.com>"
    assert spec.notifications.apns is not None and not spec.notifications.apns.sandbox
    dumped = spec.model_dump(mode="json", exclude_none=True)["notifications"]["smtp"]
    assert dumped["from"] == SMTP["from"]
