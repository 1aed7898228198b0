"""Names fit Kubernetes' limits, and the URL template reaches each service's real name."""

from __future__ import annotations

import re

import pytest

from quckchat import catalog
from quckchat.catalog import Group, Store
from quckchat_operator import naming

LONGEST_CLUSTER = "c" * naming.MAX_CLUSTER_NAME
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def test_a_short_name_is_kept_and_a_long_one_shortened_with_a_stable_hash() -> None:
    assert naming.fit("qc-auth") == "qc-auth"
    long_a, long_b = "a" * 70 + "-one", "a" * 70 + "-two"
    assert len(naming.fit(long_a)) == naming.MAX_NAME
    assert naming.fit(long_a) == naming.fit(long_a)
    assert naming.fit(long_a) != naming.fit(long_b)
    assert not naming.fit("x" * 54 + "-" * 20).endswith("--")


def test_the_longest_cluster_name_leaves_every_service_name_whole() -> None:
    assert naming.MAX_CLUSTER_NAME == 37
    template = naming.service_url_template(LONGEST_CLUSTER)
    for service in catalog.SERVICES:
        name = naming.service_name(LONGEST_CLUSTER, service.name)
        assert name == f"{LONGEST_CLUSTER}-{service.name}"
        assert template.format(name=service.name, port=service.port) == (
            f"http://{name}:{service.port}"
        )


def test_store_names_leave_room_for_the_statefulset_revision_label() -> None:
    for store in Store:
        assert len(naming.store_name(LONGEST_CLUSTER, store)) <= naming.MAX_STATEFULSET_NAME


@pytest.mark.parametrize("name", ["x" * 38, "Prod", "9lives", "a_b", "end-"])
def test_a_cluster_name_that_cannot_prefix_its_children_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"metadata\.name"):
        naming.check_cluster_name(name)


def test_labels_carry_the_recommended_set_and_selectors_only_name_and_instance() -> None:
    labels = naming.labels("qc", "auth", naming.Component.SERVICE, Group.IDENTITY)
    assert labels == {
        "app.kubernetes.io/name": "auth",
        "app.kubernetes.io/instance": "qc",
        "app.kubernetes.io/component": "service",
        "app.kubernetes.io/part-of": "quckchat",
        "app.kubernetes.io/managed-by": "quckchat-operator",
        "quckchat.io/group": "identity",
    }
    assert naming.selector("qc", "auth") == {
        "app.kubernetes.io/name": "auth",
        "app.kubernetes.io/instance": "qc",
    }
    assert naming.group_selector("qc", Group.EDGE) == (
        "app.kubernetes.io/instance=qc,quckchat.io/group=edge"
    )


def test_the_workspace_slug_is_stable_unique_and_valid() -> None:
    assert naming.workspace_slug("team", "acme") == "team-acme"
    dotted = naming.workspace_slug("team", "acme.corp")
    assert dotted == naming.workspace_slug("team", "acme.corp")
    assert dotted != naming.workspace_slug("team", "acme-corp")
    long = naming.workspace_slug("n" * 63, "w" * 200)
    for slug in (dotted, long, naming.workspace_slug("team", "Acme")):
        assert SLUG_PATTERN.match(slug), slug
