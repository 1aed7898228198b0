"""The restricted Pod Security profile, for every pod a cluster runs."""

from __future__ import annotations

from typing import Any

# The platform image's non-root user (images/ creates it with this id).
PLATFORM_UID = 10001
SCRATCH_LIMIT = "256Mi"


def pod_security(uid: int = PLATFORM_UID) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        # Skip the recursive chown of a large store volume on every start.
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security(*, read_only_root: bool = True) -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": read_only_root,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def scratch_volumes(paths: tuple[str, ...]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """emptyDir volumes and their mounts for the paths a read-only container must write."""
    volumes = []
    mounts = []
    for index, path in enumerate(paths):
        name = "tmp" if path == "/tmp" else f"scratch-{index}"
        volumes.append({"name": name, "emptyDir": {"sizeLimit": SCRATCH_LIMIT}})
        mounts.append({"name": name, "mountPath": path})
    return volumes, mounts


def pod_defaults(service_account: str) -> dict[str, Any]:
    """What every pod of a cluster sets: no API token, no service-link env clutter."""
    return {
        "serviceAccountName": service_account,
        "automountServiceAccountToken": False,
        # 32 Services would put ~200 *_PORT variables in every container, some QUCKCHAT_*-named.
        "enableServiceLinks": False,
    }
