"""Configuration from `QUCKCHAT_*` environment variables; no config file is needed."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from quckchat import catalog


class Settings(BaseSettings):
    """What a service process needs to know. Embedded defaults make `quckchat run` work alone."""

    model_config = SettingsConfigDict(env_prefix="QUCKCHAT_", extra="ignore")

    service: str = ""
    version: str = "1.0.0"
    host: str = "127.0.0.1"
    port: int | None = None
    data_dir: Path = Path(".quckchat")
    log_level: str = "INFO"

    # Stores. None means the embedded default (SQLite file, in-process Redis and event bus).
    database_url: str | None = None
    # Server URLs on Kubernetes: each service then uses the database named after it there.
    mysql_url: str | None = None
    postgresql_url: str | None = None
    # Bring the schema to the code's at start. Off on Kubernetes, where only the migration Job
    # changes schemas: a service then refuses to start on a schema older than its code.
    auto_migrate: bool = True
    redis_url: str | None = None
    # A MongoDB-protocol server; each service uses the database named after it there.
    mongodb_url: str | None = None
    elasticsearch_url: str | None = None
    # Prefix of the search index's name; None: the Kafka topic prefix, as before it existed.
    search_index_prefix: str | None = None
    # Object storage (files, previews): an S3-compatible server; unset, a folder in data_dir.
    s3_endpoint: str | None = None
    # Where clients reach it, for presigned URLs, when that differs (inside a cluster).
    s3_public_endpoint: str | None = None
    s3_bucket: str = "quckchat"
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    # ClamAV's clamd (tcp://host:port) scans uploads; unset, files are kept unscanned.
    clamd_url: str | None = None
    # An SMTP relay (smtp:// or smtps://, user:password@ allowed); unset, mail goes to the log.
    smtp_url: str | None = None
    # The sender of every email the platform sends.
    smtp_from: str = "QuckChat <no-reply@quckchat.localhost>"
    # Upgrade a plain smtp:// connection with STARTTLS when the relay offers it.
    smtp_starttls: bool = True
    # How long one exchange with the relay may take before it counts as unavailable.
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    kafka_bootstrap: str | None = None
    kafka_topic_prefix: str = ""
    # How long a publish may wait for the broker before the event is left to the outbox.
    kafka_publish_timeout_seconds: float = Field(default=3.0, gt=0)

    # How services find each other: Kubernetes sets "http://{name}:{port}".
    service_url_template: str = "http://127.0.0.1:{port}"
    # Shifts every catalog port, so a second platform (a test run) can sit beside `make run`.
    port_offset: int = 0
    http_timeout_seconds: float = 5.0
    health_timeout_seconds: float = 2.0

    # Tokens: the gateway-issued JWT and who may accept it.
    jwt_issuer: str = "quckchat"
    jwt_audience: str = "quckchat"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    default_tenant: str = "default"

    # Rate limits at the gateway (requests per window).
    rate_limit_window_seconds: int = 60
    rate_limit_per_user: int = 600
    rate_limit_per_ip: int = 1200
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])

    # Realtime: how many events a reconnecting client can resume across, and how many frames
    # may wait for one slow client before it is cut off.
    realtime_replay_events: int = 100_000
    realtime_send_queue: int = 1_000

    # Delivery (cdn): how long a signed download URL lives; the key that signs (empty: one is
    # made once and kept in the cdn's store); the image proxy's limits, and the private networks
    # it may fetch from after all (none outside tests).
    cdn_url_ttl_seconds: int = Field(default=300, ge=10, le=7 * 24 * 3600)
    cdn_signing_key: str = ""
    cdn_proxy_max_bytes: int = Field(default=10 * 1024**2, ge=1024)
    cdn_proxy_timeout_seconds: float = Field(default=10.0, gt=0)
    cdn_proxy_cache_seconds: int = Field(default=24 * 3600, ge=0)
    cdn_proxy_allowed_networks: list[str] = Field(default_factory=list)

    # Attachments: how long a file whose last message went waits before it is released (a
    # forward's late announcement may still bind it).
    attachment_release_grace_seconds: float = Field(default=30.0, ge=0)

    # Push providers (notification): a platform whose settings are set gets its real client.
    # FCM: the service account's key file (its token_uri is where access tokens come from).
    fcm_credentials_file: str = ""
    # FCM: the Firebase project the app belongs to.
    fcm_project_id: str = ""
    # FCM: the HTTP v1 API's origin.
    fcm_endpoint: str = "https://fcm.googleapis.com"
    # APNs: the .p8 token-signing key file.
    apns_key_file: str = ""
    # APNs: that key's id.
    apns_key_id: str = ""
    # APNs: the developer team's id.
    apns_team_id: str = ""
    # APNs: the app's bundle id.
    apns_topic: str = ""
    # APNs: the server (the sandbox is https://api.sandbox.push.apple.com).
    apns_url: str = "https://api.push.apple.com"
    # APNs: a CA file to trust instead of the system's (empty: the system's).
    apns_ca_file: str = ""
    # Web Push: the VAPID private key (base64url raw or DER, as py-vapid writes them).
    webpush_vapid_private_key: str = ""
    # Web Push: the contact in every VAPID token (mailto: or https:).
    webpush_vapid_subject: str = ""
    # Web Push: private networks a browser's endpoint may be in after all (none outside tests).
    webpush_allowed_networks: list[str] = Field(default_factory=list)
    # How long a provider keeps a push for a device that is offline.
    push_ttl_seconds: int = Field(default=24 * 3600, ge=0)

    # Notification delivery: how often a delivery the provider asked to retry is tried at most,
    # and the backoff between tries (doubling from the base, capped, with jitter).
    notification_max_attempts: int = Field(default=5, ge=1, le=50)
    notification_retry_base_seconds: float = Field(default=2.0, gt=0)
    notification_retry_max_seconds: float = Field(default=600.0, gt=0)
    # An urgent notice still unread is pushed to each device again this often, this many times.
    notification_urgent_repeat_seconds: float = Field(default=300.0, gt=0)
    notification_urgent_repeats: int = Field(default=6, ge=0, le=50)

    # Auth specifics.
    sms_provider: str = "console"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_verify_service_sid: str = ""
    # Free text (invites) goes through Twilio Messaging from this service (Verify sends codes only).
    twilio_messaging_service_sid: str = ""
    otp_send_limit_per_phone: int = 5
    otp_send_limit_per_ip: int = 20
    otp_send_window_seconds: int = 3600
    oidc_providers_json: str = ""
    oauth_redirect_base: str = "http://127.0.0.1:3000/api/v1/auth/oauth"

    def service_url(self, name: str) -> str:
        spec = catalog.get(name)
        return self.service_url_template.format(name=spec.name, port=self.port_for(spec)).rstrip(
            "/"
        )

    def public_origin(self) -> str:
        """scheme://host[:port] where clients reach the gateway (the OAuth redirects' origin)."""
        origin = urlsplit(self.oauth_redirect_base)
        return f"{origin.scheme}://{origin.netloc}"

    def port_for(self, spec: catalog.ServiceSpec) -> int:
        return spec.port + self.port_offset

    def effective_database_url(self) -> str:
        """This service's own database: explicit, on its store's server, or a SQLite file."""
        if self.database_url:
            return self.database_url
        spec = catalog.get(self.service) if self.service else None
        store = spec.relational_store if spec else None
        server = (
            {
                catalog.Store.MYSQL: self.mysql_url,
                catalog.Store.POSTGRESQL: self.postgresql_url,
            }.get(store)
            if store
            else None
        )
        if spec is not None and server:
            return make_url(server).set(database=spec.module).render_as_string(hide_password=False)
        return f"sqlite+aiosqlite:///{self.data_dir / (self.service or 'quckchat')}.db"
