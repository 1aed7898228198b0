"""The three custom resources' specs and statuses. The CRDs in crds/ are generated from these.

Each pydantic validator that the apiserver should also enforce has its CEL twin beside it
(`x-kubernetes-validations`), so `kubectl apply` and `quckchat-operator render` reject the
same specs with the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

from quckchat import catalog
from quckchat.catalog import Group, Store
from quckchat_operator.naming import MAX_CLUSTER_NAME

SEMVER = r"^[0-9]+\.[0-9]+\.[0-9]+$"
STORAGE_SIZE = r"^[0-9]+(\.[0-9]+)?([KMGTPE]i|[kMGTPE])?$"
E164 = r"^\+[1-9][0-9]{6,14}$"
MAX_REPLICAS = 100
CEL = "x-kubernetes-validations"
IMMUTABLE: JsonDict = {CEL: [{"rule": "self == oldSelf", "message": "is immutable"}]}

GROUP_NAMES = [str(g) for g in Group]
SERVICE_NAMES = catalog.names()


def cel(rule: str, message: str) -> JsonDict:
    return {CEL: [{"rule": rule, "message": message}]}


def cel_list(names: Sequence[str]) -> str:
    return "[" + ", ".join(f"'{n}'" for n in names) + "]"


class CRModel(BaseModel):
    """camelCase in YAML, snake_case in Python, and a typo in a spec is an error."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
    )


class StatusModel(CRModel):
    # Status is read back from the apiserver, where a newer operator may have written more.
    model_config = ConfigDict(extra="ignore")


def section(factory: Callable[[], CRModel], default: JsonDict | None = None) -> Any:
    """A nested object defaulting to its own defaults, in the CRD too (`default: {}`).

    The apiserver checks a default against the object's CEL rules as written, before filling in
    its fields' own defaults: a rule that reads a field needs that field in `default`.
    """
    return Field(default_factory=factory, json_schema_extra={"default": default or {}})


def keyed_by(allowed: Sequence[str], what: str) -> tuple[Any, AfterValidator]:
    """A map whose keys must be catalog names: checked here and by the apiserver alike."""
    message = f"keys must be {what} names: {', '.join(allowed)}"

    def check(value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise ValueError(f"unknown {what} {', '.join(unknown)}; {message}")
        return value

    # maxProperties bounds the CEL rule's estimated cost, which the apiserver requires.
    field = Field(
        max_length=len(allowed),
        json_schema_extra=cel(f"self.all(k, k in {cel_list(allowed)})", message),
    )
    return field, AfterValidator(check)


# Resources and scaling.
# A Kubernetes quantity ("500m", "1Gi", 2), the pattern controller-gen gives resource.Quantity.
QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)


def _int_as_str(value: Any) -> Any:
    # YAML reads `cpu: 2` as an int; the apiserver takes int or string, so do we.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Quantity = Annotated[
    str,
    BeforeValidator(_int_as_str),
    Field(pattern=QUANTITY),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY,
            "x-kubernetes-int-or-string": True,
        }
    ),
]


class ResourceRequirements(CRModel):
    """Requests and limits of each container, as in a Pod spec (cpu, memory, ...)."""

    requests: dict[str, Quantity] = Field(default_factory=dict)
    limits: dict[str, Quantity] = Field(default_factory=dict)

    def as_manifest(self) -> dict[str, dict[str, str]]:
        """The container's `resources` field, without empty sections."""
        return {k: v for k, v in (("requests", self.requests), ("limits", self.limits)) if v}


class AutoscalingSpec(CRModel):
    """A HorizontalPodAutoscaler on CPU; while enabled it, not the operator, sets replicas."""

    model_config = ConfigDict(
        json_schema_extra=cel(
            "self.minReplicas <= self.maxReplicas", "minReplicas must not exceed maxReplicas"
        )
    )

    enabled: bool = False
    min_replicas: int = Field(2, ge=1, le=MAX_REPLICAS)
    max_replicas: int = Field(10, ge=1, le=MAX_REPLICAS)
    target_cpu_utilization_percentage: int = Field(
        70, ge=1, le=100, alias="targetCPUUtilizationPercentage"
    )

    @model_validator(mode="after")
    def _min_within_max(self) -> Self:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"minReplicas must not exceed maxReplicas "
                f"(minReplicas {self.min_replicas} > maxReplicas {self.max_replicas})"
            )
        return self


class ScalingOverride(CRModel):
    """Replicas and autoscaling for one service; unset fields fall back to its group."""

    replicas: int | None = Field(None, ge=0, le=MAX_REPLICAS)
    autoscaling: AutoscalingSpec | None = None


class WorkloadOverride(ScalingOverride):
    """Replicas, autoscaling and resources for a group or a service."""

    resources: ResourceRequirements | None = None


GroupOverrides = Annotated[dict[str, WorkloadOverride], *keyed_by(GROUP_NAMES, "group")]
ServiceOverrides = Annotated[dict[str, WorkloadOverride], *keyed_by(SERVICE_NAMES, "service")]


# QuckChatCluster.
class PullPolicy(StrEnum):
    ALWAYS = "Always"
    IF_NOT_PRESENT = "IfNotPresent"
    NEVER = "Never"


class StoreMode(StrEnum):
    """managed: the operator runs it as a StatefulSet; external: services read a Secret."""

    MANAGED = "managed"
    EXTERNAL = "external"


class DeletionPolicy(StrEnum):
    """What happens to the stores' volumes when the cluster is deleted."""

    RETAIN = "Retain"
    DELETE = "Delete"


class ImageSpec(CRModel):
    """The one platform image every service runs."""

    repository: str = Field("ghcr.io/quckchat/quckchat", min_length=1)
    tag: str | None = Field(None, description="Defaults to spec.version.")
    pull_policy: PullPolicy = PullPolicy.IF_NOT_PRESENT


class StorageSpec(CRModel):
    """The volume of a managed store."""

    size: str = Field("10Gi", pattern=STORAGE_SIZE)
    storage_class_name: str | None = None


class SecretKeyRef(CRModel):
    """A key of a Secret in the cluster's namespace holding the store's connection URL."""

    name: str = Field(min_length=1, max_length=253)
    key: str = "url"


class StoreSpec(CRModel):
    """One store, run by the operator (managed) or reached through a Secret (external)."""

    model_config = ConfigDict(
        json_schema_extra=cel(
            "self.mode == 'managed' || has(self.secretRef)",
            "secretRef is required when mode is external",
        )
    )

    mode: StoreMode = StoreMode.MANAGED
    version: str | None = Field(
        None, min_length=1, description="Image tag of a managed store; default: tested version."
    )
    image: str | None = Field(
        None,
        min_length=1,
        max_length=512,
        description="A managed store's whole image reference, for a private registry or an "
        "air-gapped install; it wins over version. Default: the official image.",
    )
    storage: StorageSpec = section(StorageSpec)
    resources: ResourceRequirements | None = None
    secret_ref: SecretKeyRef | None = None
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="External only: the port opened for egress; default: the store's usual one.",
    )

    @model_validator(mode="after")
    def _external_needs_secret(self) -> Self:
        if self.mode == StoreMode.EXTERNAL and self.secret_ref is None:
            raise ValueError("secretRef is required when mode is external")
        return self


class ObjectStoreSpec(StoreSpec):
    """The S3-compatible object store of files and previews. External: its Secret holds the
    keys `endpoint`, `bucket`, `accessKey`, `secretKey` (and optionally `region`,
    `publicEndpoint`); secretRef's `key` is not read."""

    public_endpoint: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/.*)?$",
        max_length=512,
        description="Managed only: where clients reach the store (presigned uploads go there "
        "directly), e.g. a route you expose; default: its in-cluster address.",
    )


# A store's CRD default: StoreSpec's rule reads `mode` (see `section`).
MANAGED: JsonDict = {"mode": "managed"}


class StoresSpec(CRModel):
    """Every store the catalog's services use (the optional analytics store is not run here)."""

    mysql: StoreSpec = section(StoreSpec, MANAGED)
    postgresql: StoreSpec = section(StoreSpec, MANAGED)
    mongodb: StoreSpec = section(StoreSpec, MANAGED)
    redis: StoreSpec = section(StoreSpec, MANAGED)
    kafka: StoreSpec = section(StoreSpec, MANAGED)
    elasticsearch: StoreSpec = section(StoreSpec, MANAGED)
    objects: ObjectStoreSpec = section(ObjectStoreSpec, MANAGED)

    def get(self, store: Store) -> StoreSpec:
        spec = getattr(self, str(store), None)
        if not isinstance(spec, StoreSpec):
            raise KeyError(f"{store} is not a store the operator runs")
        return spec


class UpgradeStrategy(CRModel):
    """How long a version change may take at each step before the cluster turns Degraded."""

    migration_timeout_seconds: int = Field(600, ge=30, le=86400)
    progress_deadline_seconds: int = Field(600, ge=30, le=3600)


class IngressSpec(CRModel):
    """An Ingress for the gateway (REST) and realtime (WebSocket)."""

    enabled: bool = False
    host: str | None = None
    class_name: str | None = None
    tls_secret_name: str | None = None


class FilesSpec(CRModel):
    """How uploaded files are checked before anyone is served them."""

    model_config = ConfigDict(
        json_schema_extra=cel(
            "!has(self.clamd) || int(self.clamd.split(':')[2]) <= 65535",
            "clamd's port is at most 65535",
        )
    )

    clamd: str | None = Field(
        None,
        pattern=r"^tcp://[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?:[0-9]{1,5}$",
        max_length=270,
        description=(
            "ClamAV's clamd as tcp://HOST:PORT; the file service scans every upload with it"
            " and quarantines what it finds. Unset: files are served unscanned, marked so."
        ),
    )

    @field_validator("clamd")
    @classmethod
    def _port_in_range(cls, clamd: str | None) -> str | None:
        if clamd is not None and int(clamd.rpartition(":")[2]) > 65535:
            raise ValueError("clamd's port is at most 65535")
        return clamd


# A Secret's data key, as the apiserver allows it.
SECRET_DATA_KEY = r"^[-._a-zA-Z0-9]+$"
# "Name <address>" or a bare address: what an email's From header holds.
MAILBOX = r"^([^<>]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$"
# Apple's key and team ids: ten capitals and digits.
APPLE_ID = r"^[A-Z0-9]{10}$"


class SecretKeySelector(CRModel):
    """A key of a Secret in the cluster's namespace."""

    name: str = Field(min_length=1, max_length=253)
    key: str = Field(min_length=1, max_length=253, pattern=SECRET_DATA_KEY)


class SmtpSpec(CRModel):
    """Email (invites, digests) through an SMTP relay."""

    url_secret: SecretKeySelector = Field(
        description="Holds smtp://USER:PASSWORD@HOST:PORT (smtps:// for TLS from the first byte)."
    )
    from_: str = Field(
        alias="from",
        pattern=MAILBOX,
        max_length=320,
        description="The sender of every email: `Name <address>` or an address.",
    )
    port: int = Field(
        587, ge=1, le=65535, description="The relay's port, the one in the URL: opened for egress."
    )
    starttls: bool = Field(True, description="Upgrade smtp:// with STARTTLS when offered.")


class FcmSpec(CRModel):
    """Android pushes through Firebase Cloud Messaging (HTTP v1)."""

    credentials_secret: SecretKeySelector = Field(
        description="Holds the service account's key JSON; mounted read-only as a file."
    )
    project_id: str = Field(pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")


class ApnsSpec(CRModel):
    """iOS pushes through APNs, token-based (a .p8 key)."""

    key_secret: SecretKeySelector = Field(
        description="Holds the .p8 token-signing key; mounted read-only as a file."
    )
    key_id: str = Field(pattern=APPLE_ID)
    team_id: str = Field(pattern=APPLE_ID)
    topic: str = Field(
        pattern=r"^[A-Za-z0-9][-A-Za-z0-9.]*$", max_length=255, description="The app's bundle id."
    )
    sandbox: bool = Field(False, description="Apple's development server instead of production.")


class WebPushSpec(CRModel):
    """Browser pushes by Web Push, signed with VAPID."""

    vapid_secret: SecretKeySelector = Field(
        description="Holds the VAPID private key (base64url raw or DER, as py-vapid writes them)."
    )
    subject: str = Field(
        pattern=r"^(mailto:[^@\s]+@[^@\s]+|https://[^\s]+)$",
        max_length=512,
        description="The contact in every VAPID token: mailto: or https:.",
    )


class NotificationsSpec(CRModel):
    """Where the notification service sends email and pushes; an unset channel goes to its log.

    Each provider's settings come as a whole: an object with its Secret and every id it needs.
    """

    smtp: SmtpSpec | None = None
    fcm: FcmSpec | None = None
    apns: ApnsSpec | None = None
    webpush: WebPushSpec | None = None


class TolerationOperator(StrEnum):
    EXISTS = "Exists"
    EQUAL = "Equal"


class TaintEffect(StrEnum):
    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"


class Toleration(CRModel):
    """A taint the cluster's pods tolerate, as in a Pod spec."""

    model_config = ConfigDict(
        json_schema_extra=cel(
            "!has(self.operator) || self.operator != 'Exists' || !has(self.value)",
            "a toleration with operator Exists takes no value",
        )
    )

    key: str | None = Field(None, max_length=316)
    operator: TolerationOperator = TolerationOperator.EQUAL
    value: str | None = Field(None, max_length=63)
    effect: TaintEffect | None = None
    toleration_seconds: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _exists_takes_no_value(self) -> Self:
        if self.operator == TolerationOperator.EXISTS and self.value is not None:
            raise ValueError("a toleration with operator Exists takes no value")
        return self


class PlacementSpec(CRModel):
    """Which nodes every pod of the cluster (services, stores, migrations) may run on."""

    node_selector: dict[str, str] | None = None
    tolerations: list[Toleration] | None = Field(None, max_length=32)

    def as_pod_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if self.node_selector:
            fields["nodeSelector"] = dict(self.node_selector)
        if self.tolerations:
            fields["tolerations"] = [
                t.model_dump(mode="json", by_alias=True, exclude_none=True)
                for t in self.tolerations
            ]
        return fields


class QuckChatClusterSpec(CRModel):
    """The whole platform: its version, image, stores, sizing and upgrade policy."""

    version: str = Field("1.0.0", pattern=SEMVER)
    image: ImageSpec = section(ImageSpec)
    stores: StoresSpec = section(StoresSpec)
    groups: GroupOverrides = Field(
        default_factory=dict,
        description="Per ServiceGroup: seeds its replicas and autoscaling; sets resources.",
    )
    services: ServiceOverrides = Field(
        default_factory=dict,
        description="Per catalog service: seeds its replicas and autoscaling; sets resources.",
    )
    upgrade_strategy: UpgradeStrategy = section(UpgradeStrategy)
    paused: bool = Field(False, description="Freeze: the operator changes nothing while set.")
    deletion_policy: DeletionPolicy = DeletionPolicy.RETAIN
    ingress: IngressSpec = section(IngressSpec)
    placement: PlacementSpec = section(PlacementSpec)
    files: FilesSpec = section(FilesSpec)
    notifications: NotificationsSpec = section(NotificationsSpec)

    @property
    def image_ref(self) -> str:
        return f"{self.image.repository}:{self.image.tag or self.version}"


# ServiceGroup.
def _membership_rule() -> JsonDict:
    groups = ", ".join(f"'{g}': {cel_list([s.name for s in catalog.by_group(g)])}" for g in Group)
    return cel(
        f"!has(self.services) || self.services.all(s, s in {{{groups}}}[self.group])",
        "services must belong to the group",
    )


class ServiceGroupSpec(CRModel):
    """Replicas and autoscaling of one group's services; `kubectl scale` sets `replicas`."""

    model_config = ConfigDict(json_schema_extra=_membership_rule())

    cluster: str = Field(min_length=1, max_length=MAX_CLUSTER_NAME, json_schema_extra=IMMUTABLE)
    group: Group = Field(json_schema_extra=IMMUTABLE)
    replicas: int = Field(1, ge=0, le=MAX_REPLICAS, description="Each service's default.")
    autoscaling: AutoscalingSpec | None = None
    services: dict[str, ScalingOverride] = Field(
        default_factory=dict, max_length=len(SERVICE_NAMES)
    )

    @model_validator(mode="after")
    def _services_in_group(self) -> Self:
        members = {s.name for s in catalog.by_group(self.group)}
        strangers = sorted(set(self.services) - members)
        if strangers:
            raise ValueError(
                f"services {', '.join(strangers)} are not in group {self.group} "
                f"({', '.join(sorted(members))})"
            )
        return self


# Workspace.
class WorkspaceOwner(CRModel):
    """Who owns the workspace: an email address or a phone number (E.164)."""

    model_config = ConfigDict(
        json_schema_extra=cel("has(self.email) || has(self.phone)", "owner needs email or phone")
    )

    email: EmailStr | None = None
    phone: str | None = Field(None, pattern=E164)

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.email is None and self.phone is None:
            raise ValueError("owner needs email or phone")
        return self


class WorkspaceQuotas(CRModel):
    members: int = Field(1000, ge=1, le=1_000_000)
    storage_gib: int = Field(100, ge=1, le=1_000_000, alias="storageGiB")


class WorkspaceSettings(CRModel):
    retention_days: int = Field(0, ge=0, le=36500, description="0 keeps messages forever.")
    guests_allowed: bool = False


class WorkspaceSpec(CRModel):
    """A tenant of a QuckChatCluster in the same namespace."""

    cluster_ref: str = Field(min_length=1, max_length=MAX_CLUSTER_NAME, json_schema_extra=IMMUTABLE)
    display_name: str = Field(min_length=1, max_length=80)
    owner: WorkspaceOwner
    quotas: WorkspaceQuotas = section(WorkspaceQuotas)
    settings: WorkspaceSettings = section(WorkspaceSettings)
    export_on_delete: bool = Field(False, description="Export the workspace before deleting it.")


# Status.
class Phase(StrEnum):
    PENDING = "Pending"
    PROVISIONING = "Provisioning"
    READY = "Ready"
    UPGRADING = "Upgrading"
    DEGRADED = "Degraded"
    PAUSED = "Paused"


class WorkspacePhase(StrEnum):
    PENDING = "Pending"
    PROVISIONING = "Provisioning"
    READY = "Ready"
    FAILED = "Failed"
    DELETING = "Deleting"


class ConditionType(StrEnum):
    READY = "Ready"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(StatusModel):
    """One observation, as in metav1.Condition: reason is CamelCase, message is for people."""

    type: str = Field(min_length=1)
    status: ConditionStatus
    reason: str | None = None
    message: str | None = None
    last_transition_time: datetime | None = None
    observed_generation: int | None = Field(None, ge=0)


# Conditions keyed by type let two writers (handlers) own different conditions under SSA.
Conditions = Annotated[
    list[Condition],
    Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    ),
]


class ReadyCount(StatusModel):
    ready: int = Field(0, ge=0)
    desired: int = Field(0, ge=0)


class QuckChatClusterStatus(StatusModel):
    phase: Phase | None = None
    conditions: Conditions
    observed_generation: int | None = None
    current_version: str | None = None
    target_version: str | None = None
    ready_services: str | None = Field(None, description="ready/total services, e.g. 32/32.")
    ready_stores: str | None = None
    services: dict[str, ReadyCount] = Field(default_factory=dict)
    stores: dict[str, ReadyCount] = Field(default_factory=dict)


class ServiceGroupStatus(StatusModel):
    replicas: int | None = Field(None, description="The scale subresource's current replicas.")
    ready_replicas: int | None = None
    selector: str | None = Field(None, description="The group's pods, for the scale subresource.")
    observed_generation: int | None = None
    conditions: Conditions


class WorkspaceStatus(StatusModel):
    workspace_id: str | None = None
    url: str | None = None
    phase: WorkspacePhase | None = None
    observed_generation: int | None = None
    conditions: Conditions


def field_errors(exc: ValidationError, root: str = "spec") -> list[str]:
    """Each error as 'spec.path.to.field: what is wrong', the path in the YAML's own words."""
    lines = []
    for error in exc.errors():
        path = root
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        lines.append(f"{path}: {error['msg']}")
    return lines
