"""spec.notifications reaches the notification service alone: Secrets by reference, key files
mounted read-only, and egress to its relay and to HTTPS, nothing more."""

from __future__ import annotations

from typing import Any

from quckchat import catalog
from quckchat_operator.render.meta import Manifest
from tests.operator.support import container, env, of_kind, one, pod_spec, render

EVERYTHING: dict[str, Any] = {
    "notifications": {
        "smtp": {
            "urlSecret": {"name": "relay", "key": "url"},
            "from": "QuckChat <chat@example.com>",
            "port": 2525,
        },
        "fcm": {
            "credentialsSecret": {"name": "firebase", "key": "service-account.json"},
            "projectId": "quckchat-prod",
        },
        "apns": {
            "keySecret": {"name": "apple", "key": "AuthKey.p8"},
            "keyId": "ABC123DEFG",
            "teamId": "TEAM123456",
            "topic": "io.quckchat.app",
            "sandbox": True,
        },
        "webpush": {
            "vapidSecret": {"name": "vapid", "key": "private"},
            "subject": "mailto:ops@example.com",
        },
    }
}


def deployment(objects: list[Manifest], service: str) -> Manifest:
    return one(objects, "Deployment", f"qc-{service}")


def external_ports(objects: list[Manifest], service: str) -> set[int]:
    egress = one(objects, "NetworkPolicy", f"qc-{service}")["spec"]["egress"]
    return {
        port["port"]
        for rule in egress
        if any("ipBlock" in peer for peer in rule.get("to", []))
        for port in rule["ports"]
    }


def test_secrets_reach_the_notification_service_by_reference_and_settings_as_values() -> None:
    values = env(deployment(render(EVERYTHING), "notification"))
    assert values["QUCKCHAT_SMTP_URL"]["valueFrom"] == {
        "secretKeyRef": {"name": "relay", "key": "url"}
    }
    assert values["QUCKCHAT_WEBPUSH_VAPID_PRIVATE_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "vapid", "key": "private"}
    }
    plain = {name: e["value"] for name, e in values.items() if "value" in e}
    assert plain.pop("QUCKCHAT_KAFKA_BOOTSTRAP") == "qc-kafka:9092"
    assert plain == {
        "QUCKCHAT_SMTP_FROM": "QuckChat <chat@example.com>",
        "QUCKCHAT_SMTP_STARTTLS": "true",
        "QUCKCHAT_FCM_CREDENTIALS_FILE": "/var/run/quckchat/fcm/service-account.json",
        "QUCKCHAT_FCM_PROJECT_ID": "quckchat-prod",
        "QUCKCHAT_APNS_KEY_FILE": "/var/run/quckchat/apns/AuthKey.p8",
        "QUCKCHAT_APNS_KEY_ID": "ABC123DEFG",
        "QUCKCHAT_APNS_TEAM_ID": "TEAM123456",
        "QUCKCHAT_APNS_TOPIC": "io.quckchat.app",
        "QUCKCHAT_APNS_URL": "https://api.sandbox.push.apple.com",
        "QUCKCHAT_WEBPUSH_VAPID_SUBJECT": "mailto:ops@example.com",
    }
    # No secret and no provider setting in the ConfigMap every service reads.
    shared = one(render(EVERYTHING), "ConfigMap", "qc-config")["data"]
    assert not [k for k in shared if k.startswith(("QUCKCHAT_SMTP", "QUCKCHAT_FCM", "QUCKCHAT_AP"))]


def test_key_files_are_the_secrets_keys_mounted_read_only_each_in_its_own_directory() -> None:
    workload = deployment(render(EVERYTHING), "notification")
    volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
    assert volumes["fcm"]["secret"] == {
        "secretName": "firebase",
        "items": [{"key": "service-account.json", "path": "service-account.json"}],
        "defaultMode": 0o440,
    }
    assert volumes["apns"]["secret"]["secretName"] == "apple"
    mounts = {m["name"]: m for m in container(workload)["volumeMounts"]}
    assert mounts["fcm"] == {"name": "fcm", "mountPath": "/var/run/quckchat/fcm", "readOnly": True}
    assert mounts["apns"]["readOnly"] and mounts["apns"]["mountPath"] == "/var/run/quckchat/apns"
    assert container(workload)["securityContext"]["readOnlyRootFilesystem"]


def test_production_apns_unless_sandbox_and_no_starttls_when_turned_off() -> None:
    spec: dict[str, Any] = {
        "notifications": {
            "smtp": {**EVERYTHING["notifications"]["smtp"], "starttls": False},
            "apns": {**EVERYTHING["notifications"]["apns"], "sandbox": False},
        }
    }
    values = env(deployment(render(spec), "notification"))
    assert values["QUCKCHAT_APNS_URL"]["value"] == "https://api.push.apple.com"
    assert values["QUCKCHAT_SMTP_STARTTLS"]["value"] == "false"


def test_no_other_service_gets_any_of_it() -> None:
    with_it, without = render(EVERYTHING), render()
    for name, workload in of_kind(with_it, "Deployment").items():
        if name == "qc-notification":
            continue
        assert workload == of_kind(without, "Deployment")[name], name
    for job in of_kind(with_it, "Job").values():
        assert not [e for e in container(job).get("env", []) if "SMTP" in e["name"]]


def test_unset_notifications_render_the_service_as_before() -> None:
    values = env(deployment(render(), "notification"))
    assert not [k for k in values if k.startswith(("QUCKCHAT_SMTP", "QUCKCHAT_FCM"))]
    assert {v["name"] for v in pod_spec(deployment(render(), "notification"))["volumes"]} == {"tmp"}


def test_the_notification_service_alone_reaches_its_relay_and_https() -> None:
    objects = render(EVERYTHING)
    baseline = render()
    for service in catalog.implemented():
        gained = external_ports(objects, service.name) - external_ports(baseline, service.name)
        assert gained == ({2525, 443} if service.name == "notification" else set()), service.name


def test_https_is_opened_only_for_a_push_provider() -> None:
    smtp_only = {"notifications": {"smtp": EVERYTHING["notifications"]["smtp"]}}
    assert 443 not in external_ports(render(smtp_only), "notification")
    assert 2525 in external_ports(render(smtp_only), "notification")
    webpush_only = {"notifications": {"webpush": EVERYTHING["notifications"]["webpush"]}}
    ports = external_ports(render(webpush_only), "notification")
    assert 443 in ports and 2525 not in ports
