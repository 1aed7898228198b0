"""A Workspace's spec rendered: the requests to the workspace service and the Secrets beside it."""

from __future__ import annotations

import base64
import json
from typing import Any

from quckchat_operator import naming
from quckchat_operator.models import QuckChatClusterSpec, WorkspaceSpec
from quckchat_operator.render.workspace import (
    EXPORT_KEY,
    changes,
    export_secret,
    export_size,
    export_summary,
    invite_secret,
    provision_body,
    public_url,
)


def workspace_spec(**overrides: Any) -> WorkspaceSpec:
    spec: dict[str, Any] = {
        "clusterRef": "quckchat",
        "displayName": "Acme",
        "owner": {"email": "owner@acme.example"},
        "quotas": {"members": 500, "storageGiB": 250},
        "settings": {"retentionDays": 365, "guestsAllowed": False},
        **overrides,
    }
    return WorkspaceSpec.model_validate(spec)


def workspace_object() -> dict[str, Any]:
    return {
        "apiVersion": naming.GROUP_VERSION,
        "kind": naming.WORKSPACE.kind,
        "metadata": {"name": "acme", "namespace": "team", "uid": "u-1", "generation": 3},
    }


def live_from(body: dict[str, Any]) -> dict[str, Any]:
    """The workspace as the service shows it after provisioning `body`."""
    return {"id": "w1", **body, "owner_ids": []}


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def test_the_provisioning_body_carries_the_whole_spec() -> None:
    body = provision_body(workspace_spec(), "team-acme")
    assert body == {
        "tenant": "default",
        "name": "Acme",
        "slug": "team-acme",
        "owner": {"email": "owner@acme.example"},
        "quotas": {"max_members": 500, "max_storage_bytes": 250 * 2**30},
        "settings": {"retention_days": 365, "guests_allowed": False},
    }


def test_keep_forever_is_null_and_a_phone_owner_is_sent_as_phone() -> None:
    spec = workspace_spec(owner={"phone": "+4915112345678"}, settings={"retentionDays": 0})
    body = provision_body(spec, "s")
    assert body["owner"] == {"phone": "+4915112345678"}
    assert body["settings"] == {"retention_days": None, "guests_allowed": False}


def test_an_unchanged_workspace_needs_no_update() -> None:
    spec = workspace_spec()
    assert changes(spec, live_from(provision_body(spec, "s"))) == {}


def test_only_what_differs_is_sent() -> None:
    live = live_from(provision_body(workspace_spec(), "s"))
    edited = workspace_spec(
        displayName="Acme Two",
        quotas={"members": 10, "storageGiB": 250},
        settings={"retentionDays": 0, "guestsAllowed": False},
    )
    assert changes(edited, live) == {
        "name": "Acme Two",
        "quotas": {"max_members": 10},
        "settings": {"retention_days": None},
    }


def test_a_section_the_service_left_out_is_sent_whole() -> None:
    live = {"id": "w1", "name": "Acme", "quotas": {"max_members": 500}}
    assert changes(workspace_spec(), live) == {
        "quotas": {"max_storage_bytes": 250 * 2**30},
        "settings": {"retention_days": 365, "guests_allowed": False},
    }


def test_the_public_url_uses_the_ingress_host_when_there_is_one() -> None:
    plain = QuckChatClusterSpec()
    assert public_url("qc", "team", plain, "w1") == (
        "http://qc-backend-gateway.team.svc:3000/api/v1/workspaces/w1"
    )
    tls = QuckChatClusterSpec.model_validate(
        {"ingress": {"enabled": True, "host": "chat.acme.example", "tlsSecretName": "tls"}}
    )
    assert public_url("qc", "team", tls, "w1") == "https://chat.acme.example/api/v1/workspaces/w1"
    plain_host = QuckChatClusterSpec.model_validate(
        {"ingress": {"enabled": True, "host": "chat.acme.example"}}
    )
    assert public_url("qc", "team", plain_host, "w1").startswith("http://chat.acme.example/")


def test_the_owner_link_is_a_secret_labelled_for_the_workspace() -> None:
    invite = {"token": "t" * 32, "url": "http://chat/join/" + "t" * 32}
    secret = invite_secret(workspace_object(), invite)
    assert secret["kind"] == "Secret" and secret["type"] == "Opaque"
    assert secret["metadata"]["name"] == "acme-owner-invite"
    assert secret["metadata"]["namespace"] == "team"
    assert secret["metadata"]["labels"] == {
        naming.LABEL_PART_OF: naming.PART_OF,
        naming.LABEL_MANAGED_BY: naming.MANAGED_BY,
        naming.LABEL_WORKSPACE: "acme",
    }
    # Rendering owns nothing: the reconcile adopts it (see test_reconcile_workspace).
    assert "ownerReferences" not in secret["metadata"]
    assert decoded(secret) == {"token": invite["token"], "url": invite["url"]}


def test_an_export_secret_holds_the_document_as_sorted_json() -> None:
    document = {"workspace": {"id": "w1", "slug": "team-acme"}, "members": [], "channels": []}
    secret = export_secret(workspace_object(), document)
    assert secret["metadata"]["name"] == "acme-export"
    assert "ownerReferences" not in secret["metadata"]
    text = decoded(secret)[EXPORT_KEY]
    assert json.loads(text) == document
    assert text == json.dumps(document, sort_keys=True)
    assert export_size(document) == len(json.dumps(document))


def test_the_export_summary_counts_members_and_channels() -> None:
    document = {
        "workspace": {"id": "w1", "slug": "team-acme"},
        "members": [{"user_id": "a"}, {"user_id": "b"}],
        "channels": [{"name": "general"}],
    }
    assert export_summary(document) == "workspace team-acme (w1): 2 members, 1 channels"
