"""What a QuckChatCluster's, a ServiceGroup's and a Workspace's status say, from what was seen.

Pure functions: the handlers read the live Deployments, StatefulSets and the migration Job,
describe here what the cluster looks like, and write the result only where it differs from the
status already stored. A condition keeps its lastTransitionTime while its status stays the same,
so a cluster that did not change gets a status that did not change, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from quckchat_operator.models import (
    Condition,
    ConditionStatus,
    ConditionType,
    Phase,
    QuckChatClusterStatus,
    ReadyCount,
    ServiceGroupStatus,
    WorkspacePhase,
    WorkspaceStatus,
)
from quckchat_operator.render.meta import Manifest

MAX_LISTED = 5


class State(StrEnum):
    """Where one workload's rollout stands."""

    COMPLETE = "complete"
    PROGRESSING = "progressing"
    FAILED = "failed"


@dataclass(frozen=True)
class Rollout:
    """One Deployment's or StatefulSet's progress towards its spec."""

    name: str
    ready: int
    desired: int
    state: State
    message: str = ""
    exists: bool = True
    # Why one of its pods cannot run (crash loop, image missing), whatever the rollout says.
    trouble: str = ""

    @property
    def complete(self) -> bool:
        return self.state == State.COMPLETE

    def count(self) -> str:
        return f"{self.ready}/{self.desired}"


@dataclass(frozen=True)
class Problem:
    """Why the operator stopped short of applying everything; `degraded` if it failed.

    `backoff`: check again less and less often; a rollout is bounded by its progress deadline
    instead, so it is checked at a steady pace.
    """

    reason: str
    message: str
    degraded: bool = False
    backoff: bool = True


def _condition(workload: Manifest, kind: str) -> Mapping[str, Any] | None:
    conditions = (workload.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == kind), None)


def rollout(workload: Manifest) -> Rollout:
    """A Deployment's or StatefulSet's rollout: complete once every replica is updated and
    ready at the current generation; failed once a Deployment passed its progress deadline."""
    name = workload["metadata"]["name"]
    exists = "uid" in workload["metadata"]
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    desired = spec.get("replicas", 1)
    ready = status.get("readyReplicas", 0)
    progress = _condition(workload, "Progressing")
    if progress and progress.get("reason") == "ProgressDeadlineExceeded":
        return Rollout(name, ready, desired, State.FAILED, progress.get("message", ""), exists)
    generation = workload["metadata"].get("generation")
    observed = status.get("observedGeneration")
    current = generation is not None and observed is not None and observed >= generation
    settled = (
        status.get("updatedReplicas", 0) >= desired
        and ready >= desired
        and status.get("replicas", 0) == desired
        and status.get("availableReplicas", ready) >= desired
    )
    if workload["kind"] == "StatefulSet" and status.get("updateRevision"):
        settled = settled and status.get("currentRevision") == status["updateRevision"]
    state = State.COMPLETE if current and settled else State.PROGRESSING
    return Rollout(name, ready, desired, state, exists=exists)


# Container states no waiting cures: the pod needs a person (a fix, an image, a setting).
STUCK_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "ErrImageNeverPull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
    }
)


def pod_trouble(pod: Manifest) -> str:
    """What keeps one of the pod's containers from running, with the command to learn more."""
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    for container in [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]:
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason")
        if reason not in STUCK_REASONS:
            continue
        restarts = container.get("restartCount", 0)
        detail = f": {waiting['message']}" if waiting.get("message") else ""
        hint = (
            f"kubectl logs {name} -c {container['name']} --previous"
            if reason == "CrashLoopBackOff"
            else f"kubectl describe pod {name}"
        )
        return (
            f"pod {name} container {container['name']} is in {reason} "
            f"({restarts} restarts){detail}; read `{hint}`"
        )
    return ""


def with_trouble(rollout: Rollout, pods: Sequence[Manifest]) -> Rollout:
    """The rollout, with the first trouble found among its pods."""
    trouble = next((t for pod in pods if (t := pod_trouble(pod))), "")
    return replace(rollout, trouble=trouble) if trouble != rollout.trouble else rollout


def migration_problem(job: Manifest | None) -> Problem | None:
    """None once the migration Job succeeded; else why the services still wait for it."""
    if job is None:
        return Problem("MigrationPending", "the schema-migration Job is being created")
    name = job["metadata"]["name"]
    failed = _condition(job, "Failed")
    if failed and failed.get("status") == "True":
        return Problem(
            "MigrationFailed",
            f"Job {name} failed ({failed.get('reason')}: {failed.get('message')}); the services "
            f"keep their version. Read `kubectl logs job/{name}`, fix the cause, then delete the "
            "Job so the operator runs it again",
            degraded=True,
        )
    if (job.get("status") or {}).get("succeeded", 0) >= 1:
        return None
    return Problem(
        "MigrationRunning",
        f"waiting for Job {name} (`quckchat migrate --all`) before starting the services",
    )


def secret_problem(
    field: str, name: str, key: str, namespace: str, secret: Manifest | None
) -> Problem | None:
    """None when the Secret a spec field names holds its key; else what to create."""
    if secret is None:
        found = f"Secret {name} does not exist in namespace {namespace}"
    elif key not in (secret.get("data") or {}):
        found = f"Secret {name} has no key {key}"
    else:
        return None
    return Problem(
        "SecretMissing",
        f"{field}: {found}; the pods that read it cannot start. Create it, e.g. `kubectl create "
        f"secret generic {name} -n {namespace} --from-file={key}=...`",
        degraded=True,
    )


def stores_problem(stores: Mapping[str, Rollout]) -> Problem | None:
    """None once every managed store is ready; else which ones the services wait for."""
    waiting = {k: r for k, r in stores.items() if not r.complete}
    if not waiting:
        return None
    return Problem(
        "StoresNotReady",
        f"waiting for {listed(waiting)}; services start once every managed store is ready",
    )


def listed(rollouts: Mapping[str, Rollout], *, counts: bool = True) -> str:
    """The first few names, with their ready/desired counts, and how many more there are."""
    names = sorted(rollouts)
    shown = ", ".join(f"{n} {rollouts[n].count()}" if counts else n for n in names[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _failures(
    services: Mapping[str, Rollout], problems: Sequence[Problem]
) -> list[tuple[str, str]]:
    found = [(p.reason, p.message) for p in problems if p.degraded]
    for name, r in sorted(services.items()):
        if r.trouble:
            found.append(("ServiceFailing", f"service {name}: {r.trouble}"))
        elif r.state == State.FAILED:
            found.append(
                (
                    "ProgressDeadlineExceeded",
                    f"service {name}: Deployment {r.name} made no progress within its deadline "
                    f"({r.message}); read `kubectl describe deployment {r.name}` and its pods' "
                    "events",
                )
            )
    return found


def _ratio(rollouts: Mapping[str, Rollout]) -> str:
    return f"{sum(r.complete for r in rollouts.values())}/{len(rollouts)}"


@dataclass(frozen=True)
class Observation:
    """Everything the cluster's status is computed from."""

    version: str
    generation: int
    services: Mapping[str, Rollout]
    stores: Mapping[str, Rollout]
    paused: bool = False
    problems: Sequence[Problem] = ()


def _all_ready(observed: Observation) -> bool:
    everything = [*observed.services.values(), *observed.stores.values()]
    return all(r.complete for r in everything) and not observed.problems


def phase_of(observed: Observation, previous_version: str | None) -> Phase:
    if observed.paused:
        return Phase.PAUSED
    if _failures(observed.services, observed.problems):
        return Phase.DEGRADED
    if _all_ready(observed):
        return Phase.READY
    if previous_version and previous_version != observed.version:
        return Phase.UPGRADING
    if not any(r.exists for r in [*observed.services.values(), *observed.stores.values()]):
        return Phase.PENDING
    return Phase.PROVISIONING


def _conditions(observed: Observation, phase: Phase) -> list[tuple[str, str, str, str]]:
    """(type, status, reason, message) of each condition."""
    services, stores = observed.services, observed.stores
    waiting = {k: r for k, r in services.items() if not r.complete}
    failures = _failures(services, observed.problems)
    blocking = [p for p in observed.problems if not p.degraded]
    if _all_ready(observed):
        ready = (
            "True",
            "AllReady",
            f"{_ratio(services)} services and {_ratio(stores)} stores are ready",
        )
    elif blocking:
        ready = ("False", blocking[0].reason, blocking[0].message)
    elif waiting:
        ready = (
            "False",
            "ServicesNotReady",
            f"{_ratio(services)} services ready; waiting for {listed(waiting)}",
        )
    elif problem := stores_problem(stores):
        ready = ("False", problem.reason, problem.message)
    else:
        reason, message = failures[0] if failures else ("NotReady", "see the other conditions")
        ready = ("False", reason, message)

    if phase == Phase.PAUSED:
        progressing = (
            "False",
            "Paused",
            "spec.paused is true: the operator applies no change; set it to false to resume",
        )
    elif failures:
        progressing = ("False", failures[0][0], "stopped: " + failures[0][1])
    elif phase == Phase.READY:
        progressing = ("False", "Complete", f"version {observed.version} is rolled out")
    else:
        progressing = ("True", str(phase), ready[2])

    if failures:
        reason, message = failures[0]
        if len(failures) > 1:
            message += f" (and {len(failures) - 1} more failures)"
        degraded = ("True", reason, message)
    else:
        degraded = ("False", "AsExpected", "nothing has failed")
    return [
        (ConditionType.READY, *ready),
        (ConditionType.PROGRESSING, *progressing),
        (ConditionType.DEGRADED, *degraded),
    ]


def conditions(
    earlier: Sequence[Condition],
    wanted: Sequence[tuple[str, str, str, str]],
    generation: int,
    now: datetime,
) -> list[Condition]:
    """The `wanted` (type, status, reason, message) conditions; each keeps its
    lastTransitionTime from `earlier` while its status stays the same."""
    by_type = {c.type: c for c in earlier}
    now = now.astimezone(UTC).replace(microsecond=0)
    result = []
    for kind, state, reason, message in wanted:
        old = by_type.get(kind)
        since = old.last_transition_time if old and old.status == state else None
        result.append(
            Condition(
                type=kind,
                status=ConditionStatus(state),
                reason=reason,
                message=message,
                last_transition_time=since or now,
                observed_generation=generation,
            )
        )
    return result


def cluster_status(
    observed: Observation, previous: Mapping[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """The status to store, as JSON; equal to `previous` when nothing changed."""
    before = QuckChatClusterStatus.model_validate(previous or {})
    phase = phase_of(observed, before.current_version)
    status = QuckChatClusterStatus(
        phase=phase,
        conditions=conditions(
            before.conditions, _conditions(observed, phase), observed.generation, now
        ),
        observed_generation=observed.generation,
        current_version=observed.version if phase == Phase.READY else before.current_version,
        target_version=observed.version,
        ready_services=_ratio(observed.services),
        ready_stores=_ratio(observed.stores),
        services=_counts(observed.services),
        stores=_counts(observed.stores),
    )
    return dump(status)


def summary(status: Mapping[str, Any]) -> str:
    """One line on why the cluster is in its phase, from the condition that explains it."""
    phase = status.get("phase")
    explains = {"Paused": "Progressing", "Degraded": "Degraded"}.get(str(phase), "Ready")
    for condition in status.get("conditions", []):
        if condition["type"] == explains:
            return str(condition.get("message", ""))
    return ""


def _counts(rollouts: Mapping[str, Rollout]) -> dict[str, ReadyCount]:
    return {k: ReadyCount(ready=r.ready, desired=r.desired) for k, r in rollouts.items()}


def dump(status: QuckChatClusterStatus | ServiceGroupStatus | WorkspaceStatus) -> dict[str, Any]:
    result: dict[str, Any] = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result


def normalized(
    model: type[QuckChatClusterStatus | ServiceGroupStatus | WorkspaceStatus], status: Any
) -> dict[str, Any]:
    """A stored status as this operator would have written it (unknown fields dropped)."""
    return dump(model.model_validate(status or {}))


def merge_patch(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON merge patch that turns `before` into `after`; empty when they are equal."""
    patch: dict[str, Any] = {}
    for name in before.keys() - after.keys():
        patch[name] = None
    for name, value in after.items():
        old = before.get(name)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            nested = merge_patch(old, value)
            if nested:
                patch[name] = nested
        elif value != old:
            patch[name] = value
    return patch


def service_group_status(
    group: Manifest, deployments: Sequence[Rollout], followers: Sequence[str], selector: str
) -> dict[str, Any]:
    """The scale subresource's view of a ServiceGroup.

    `replicas` and `readyReplicas` are the fewest among the services that follow the group's own
    replicas (no per-service count, no autoscaling): once `kubectl scale --replicas=N` reached
    every such service, `replicas` reads N.
    """
    spec = group.get("spec") or {}
    # Where every service scales on its own, the group's numbers are the fewest of them all.
    counted = [r for r in deployments if r.name in followers] or list(deployments)
    replicas = min((r.desired for r in counted), default=spec.get("replicas", 0))
    ready = min((r.ready for r in counted), default=0)
    return dump(
        ServiceGroupStatus(
            replicas=replicas,
            ready_replicas=ready,
            selector=selector,
            observed_generation=group["metadata"].get("generation"),
            conditions=[],
        )
    )


# Workspaces.
OWNER_JOINED = "OwnerJoined"


@dataclass(frozen=True)
class WorkspaceObservation:
    """What one pass over a Workspace found: its phase and why, and what the service said.

    `owner` is the OwnerJoined condition's (status, reason, message), None when not learnt this
    time; `workspace_id` and `url` are None when the service was not asked (they are kept).
    """

    phase: WorkspacePhase
    reason: str
    message: str
    generation: int
    workspace_id: str | None = None
    url: str | None = None
    owner: tuple[str, str, str] | None = None


def workspace_status(
    observed: WorkspaceObservation, previous: Mapping[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """The Workspace's status to store, as JSON; equal to `previous` when nothing changed."""
    before = WorkspaceStatus.model_validate(previous or {})
    ready = "True" if observed.phase == WorkspacePhase.READY else "False"
    wanted = [(str(ConditionType.READY), ready, observed.reason, observed.message)]
    if observed.owner is not None:
        wanted.append((OWNER_JOINED, *observed.owner))
    kept = [c for c in before.conditions if c.type not in {w[0] for w in wanted}]
    return dump(
        WorkspaceStatus(
            workspace_id=observed.workspace_id or before.workspace_id,
            url=observed.url or before.url,
            phase=observed.phase,
            observed_generation=observed.generation,
            conditions=[
                *conditions(before.conditions, wanted, observed.generation, now),
                *kept,
            ],
        )
    )
