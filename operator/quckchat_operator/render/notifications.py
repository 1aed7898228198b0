"""What `spec.notifications` gives the notification service: its env, its files, its egress.

Only that service's pod gets any of it. A Secret's value reaches it by `secretKeyRef`, never
through the ConfigMap; a setting the service reads as a file (FCM's key JSON, APNs' .p8) is the
Secret's key mounted read-only, each in a directory of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quckchat.catalog import ServiceSpec
from quckchat_operator.models import NotificationsSpec, SecretKeySelector
from quckchat_operator.render.meta import Cluster
from quckchat_operator.render.stores import secret_env

SERVICE = "notification"
FILES_ROOT = "/var/run/quckchat"
APNS_SANDBOX = "https://api.sandbox.push.apple.com"
APNS_PRODUCTION = "https://api.push.apple.com"
PUSH_PORT = 443
# Owner and group may read (the pod's fsGroup owns the files), nobody may write.
FILE_MODE = 0o440


@dataclass(frozen=True)
class SecretUse:
    """One Secret key the spec names: where in the spec, and which Secret and key."""

    field: str
    ref: SecretKeySelector


@dataclass(frozen=True)
class Extras:
    """What a service's container gains from the spec beyond what every service gets."""

    env: list[dict[str, Any]]
    volumes: list[dict[str, Any]]
    mounts: list[dict[str, Any]]


NOTHING = Extras(env=[], volumes=[], mounts=[])


def _value(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def _secret_value(name: str, ref: SecretKeySelector) -> dict[str, Any]:
    return secret_env(name, ref.name, ref.key)


def _file(volume: str, ref: SecretKeySelector) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A Secret key as a read-only file: the volume, its mount, and the file's path."""
    directory = f"{FILES_ROOT}/{volume}"
    source = {
        "secretName": ref.name,
        "items": [{"key": ref.key, "path": ref.key}],
        "defaultMode": FILE_MODE,
    }
    mount = {"name": volume, "mountPath": directory, "readOnly": True}
    return {"name": volume, "secret": source}, mount, f"{directory}/{ref.key}"


def extras(cluster: Cluster, service: ServiceSpec) -> Extras:
    """The env, volumes and mounts `service` gets from spec.notifications (none but one does)."""
    spec = cluster.spec.notifications
    if service.name != SERVICE:
        return NOTHING
    env: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if spec.smtp is not None:
        env += [
            _secret_value("QUCKCHAT_SMTP_URL", spec.smtp.url_secret),
            _value("QUCKCHAT_SMTP_FROM", spec.smtp.from_),
            _value("QUCKCHAT_SMTP_STARTTLS", str(spec.smtp.starttls).lower()),
        ]
    if spec.fcm is not None:
        volume, mount, path = _file("fcm", spec.fcm.credentials_secret)
        volumes.append(volume)
        mounts.append(mount)
        env += [
            _value("QUCKCHAT_FCM_CREDENTIALS_FILE", path),
            _value("QUCKCHAT_FCM_PROJECT_ID", spec.fcm.project_id),
        ]
    if spec.apns is not None:
        volume, mount, path = _file("apns", spec.apns.key_secret)
        volumes.append(volume)
        mounts.append(mount)
        env += [
            _value("QUCKCHAT_APNS_KEY_FILE", path),
            _value("QUCKCHAT_APNS_KEY_ID", spec.apns.key_id),
            _value("QUCKCHAT_APNS_TEAM_ID", spec.apns.team_id),
            _value("QUCKCHAT_APNS_TOPIC", spec.apns.topic),
            _value("QUCKCHAT_APNS_URL", APNS_SANDBOX if spec.apns.sandbox else APNS_PRODUCTION),
        ]
    if spec.webpush is not None:
        env += [
            _secret_value("QUCKCHAT_WEBPUSH_VAPID_PRIVATE_KEY", spec.webpush.vapid_secret),
            _value("QUCKCHAT_WEBPUSH_VAPID_SUBJECT", spec.webpush.subject),
        ]
    return Extras(env=env, volumes=volumes, mounts=mounts)


def secret_uses(spec: NotificationsSpec) -> list[SecretUse]:
    """Every Secret key spec.notifications names, by the field that names it."""
    uses = []
    if spec.smtp is not None:
        uses.append(SecretUse("spec.notifications.smtp.urlSecret", spec.smtp.url_secret))
    if spec.fcm is not None:
        uses.append(
            SecretUse("spec.notifications.fcm.credentialsSecret", spec.fcm.credentials_secret)
        )
    if spec.apns is not None:
        uses.append(SecretUse("spec.notifications.apns.keySecret", spec.apns.key_secret))
    if spec.webpush is not None:
        uses.append(SecretUse("spec.notifications.webpush.vapidSecret", spec.webpush.vapid_secret))
    return uses


def egress_ports(cluster: Cluster, service: ServiceSpec) -> list[int]:
    """The ports `service` reaches outside the cluster for spec.notifications: the SMTP
    relay's, and HTTPS once any push provider is set (FCM, APNs and browsers' push services
    are on the internet at no address known ahead)."""
    spec = cluster.spec.notifications
    if service.name != SERVICE:
        return []
    ports = [spec.smtp.port] if spec.smtp is not None else []
    if (spec.fcm or spec.apns or spec.webpush) and PUSH_PORT not in ports:
        ports.append(PUSH_PORT)
    return ports
