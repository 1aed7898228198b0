"""Local stand-ins for the push providers, on 127.0.0.1, that check what the real ones check:
an FCM token endpoint and HTTP v1 API, an APNs server over HTTP/2 and TLS, and a browser's push
service that decrypts what it receives. The real clients reach them by settings alone."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import http_ece
import jwt
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from hypercorn.asyncio import serve
from hypercorn.config import Config

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth names Google's token endpoint as the assertion's audience wherever it posts it.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass(frozen=True)
class Answer:
    """A scripted answer for one device token instead of delivery."""

    status: int
    reason: str = ""
    retry_after: str | None = None


@asynccontextmanager
async def serving(app: FastAPI, *, tls: tuple[Path, Path] | None = None) -> AsyncIterator[int]:
    """Serve `app` with Hypercorn on a free local port (HTTP/2 over TLS when a certificate and
    key are given, else HTTP/1.1)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    config = Config()
    config.bind = [f"fd://{listener.fileno()}"]
    config.accesslog = None
    config.errorlog = None
    if tls is not None:
        config.certfile, config.keyfile = str(tls[0]), str(tls[1])
        config.alpn_protocols = ["h2"]
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        await task
        listener.detach()  # Hypercorn closed the descriptor it was given


# FCM


@dataclass
class FakeFcm:
    """A token endpoint that accepts only assertions signed by the service account it made,
    and messages:send for one project that accepts only the access tokens it issued."""

    directory: Path
    project: str = "quckchat-test"
    expires_in: int = 3600
    port: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.email = f"push@{self.project}.iam.gserviceaccount.com"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def key_file(self, *, key: rsa.RSAPrivateKey | None = None) -> Path:
        """The service account's key JSON, as the Firebase console gives it (another `key` makes
        one the fake does not know)."""
        pem = (key or self.key).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        info = {
            "type": "service_account",
            "project_id": self.project,
            "private_key_id": secrets.token_hex(20),
            "private_key": pem.decode(),
            "client_email": self.email,
            "client_id": "1",
            "token_uri": f"{self.origin}/token",
        }
        path = self.directory / f"fcm-{secrets.token_hex(4)}.json"
        path.write_text(json.dumps(info))
        return path

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/token")
        async def token(request: Request) -> Response:
            form = await request.form()
            try:
                assert form.get("grant_type") == JWT_BEARER
                claims = jwt.decode(
                    str(form.get("assertion")),
                    self.key.public_key(),
                    algorithms=["RS256"],
                    audience=GOOGLE_TOKEN_AUDIENCE,
                    issuer=self.email,
                )
                assert FCM_SCOPE in claims["scope"].split()
            except (AssertionError, KeyError, jwt.InvalidTokenError) as exc:
                body = {"error": "invalid_grant", "error_description": f"bad assertion: {exc}"}
                return JSONResponse(body, status_code=400)
            access = secrets.token_urlsafe(24)
            self.issued.append(access)
            return JSONResponse(
                {"access_token": access, "expires_in": self.expires_in, "token_type": "Bearer"}
            )

        @app.post("/v1/projects/{project}/messages:send")
        async def send(project: str, request: Request) -> Response:
            bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
            if bearer not in self.issued or bearer in self.revoked:
                return _fcm_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
            if project != self.project:
                return _fcm_error(403, "PERMISSION_DENIED", "Not this project.")
            message = (await request.json())["message"]
            scripted = self.answers.get(message.get("token", ""))
            if scripted is not None:
                return _fcm_scripted(scripted)
            self.messages.append(message)
            return JSONResponse({"name": f"projects/{project}/messages/{len(self.messages)}"})

        return app


def _fcm_error(
    status: int, code: str, text: str, details: list[dict[str, Any]] | None = None
) -> JSONResponse:
    error = {"code": status, "message": text, "status": code, "details": details or []}
    return JSONResponse({"error": error}, status_code=status)


def _fcm_scripted(answer: Answer) -> JSONResponse:
    headers = {"Retry-After": answer.retry_after} if answer.retry_after else {}
    if answer.reason == "UNREGISTERED":
        fcm_error = {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError"}
        found = _fcm_error(
            404,
            "NOT_FOUND",
            "Requested entity was not found.",
            [fcm_error | {"errorCode": "UNREGISTERED"}],
        )
    elif answer.reason == "INVALID_TOKEN":
        violation = {"field": "message.token", "description": "Invalid registration token"}
        bad_request = {"@type": "type.googleapis.com/google.rpc.BadRequest"}
        found = _fcm_error(
            400,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            [bad_request | {"fieldViolations": [violation]}],
        )
    else:
        found = _fcm_error(answer.status, answer.reason or "UNAVAILABLE", "scripted")
    found.headers.update(headers)
    return found


@asynccontextmanager
async def fake_fcm(directory: Path) -> AsyncIterator[FakeFcm]:
    fake = FakeFcm(directory)
    async with serving(fake.app()) as port:
        fake.port = port
        yield fake


# APNs


@dataclass
class FakeApns:
    """APNs over HTTP/2 with TLS: a certificate from its own CA (the client trusts it by the
    `apns_ca_file` setting), provider tokens checked against the .p8 key it made."""

    directory: Path
    key_id: str = "ABC123DEFG"
    team_id: str = "TEAM123456"
    topic: str = "io.quckchat.app"
    port: int = 0
    notifications: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.ca = trustme.CA()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def ca_file(self) -> Path:
        path = self.directory / "apns-ca.pem"
        self.ca.cert_pem.write_to_path(str(path))
        return path

    def key_file(self, *, key: ec.EllipticCurvePrivateKey | None = None) -> Path:
        """The .p8 file Apple gives (another `key` makes one the fake does not know)."""
        path = self.directory / f"apns-{secrets.token_hex(4)}.p8"
        pem = (key or self.key).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        return path

    def tls(self) -> tuple[Path, Path]:
        issued = self.ca.issue_cert("127.0.0.1")
        cert, key = self.directory / "apns-cert.pem", self.directory / "apns-key.pem"
        issued.cert_chain_pems[0].write_to_path(str(cert))
        issued.private_key_pem.write_to_path(str(key))
        return cert, key

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/3/device/{token}")
        async def push(token: str, request: Request) -> Response:
            apns_id = request.headers.get("apns-id", "")
            if request.scope.get("http_version") != "2":
                return _apns_answer(apns_id, 400, "NotHTTP2")
            refused = self._check_provider_token(request.headers.get("authorization", ""))
            if refused:
                return _apns_answer(apns_id, 403, refused)
            if request.headers.get("apns-topic") != self.topic:
                return _apns_answer(apns_id, 400, "TopicDisallowed")
            scripted = self.answers.get(token)
            if scripted is not None:
                return _apns_answer(apns_id, scripted.status, scripted.reason, scripted.retry_after)
            self.notifications.append(
                {
                    "token": token,
                    "headers": {k: v for k, v in request.headers.items() if k.startswith("apns-")},
                    "payload": await request.json(),
                }
            )
            return Response(status_code=200, headers={"apns-id": apns_id})

        return app

    def _check_provider_token(self, authorization: str) -> str:
        """ "" when the bearer is an ES256 token of this team, signed by the key it made."""
        token = authorization.removeprefix("bearer ")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, self.key.public_key(), algorithms=["ES256"])
        except jwt.InvalidTokenError:
            return "InvalidProviderToken"
        if header.get("kid") != self.key_id or claims.get("iss") != self.team_id:
            return "InvalidProviderToken"
        if claims.get("iat", 0) < time.time() - 3600:
            return "ExpiredProviderToken"
        return ""


def _apns_answer(
    apns_id: str, status: int, reason: str, retry_after: str | None = None
) -> Response:
    headers = {"apns-id": apns_id}
    if retry_after:
        headers["retry-after"] = retry_after
    body = {"reason": reason} | ({"timestamp": int(time.time() * 1000)} if status == 410 else {})
    return JSONResponse(body, status_code=status, headers=headers)


@asynccontextmanager
async def fake_apns(directory: Path) -> AsyncIterator[FakeApns]:
    fake = FakeApns(directory)
    async with serving(fake.app(), tls=fake.tls()) as port:
        fake.port = port
        yield fake


# Web Push


@dataclass
class Browser:
    """One browser's push subscription: the keys the service worker would hold."""

    name: str
    key: ec.EllipticCurvePrivateKey
    auth: bytes
    endpoint: str

    def token(self) -> str:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        keys = {"p256dh": b64url(public), "auth": b64url(self.auth)}
        return json.dumps({"endpoint": self.endpoint, "keys": keys})


@dataclass
class FakePushService:
    """A browser vendor's push service: checks the VAPID token against the key pair it made for
    the sender, decrypts each message with the subscription's private key (RFC 8291) and keeps
    it with its headers."""

    subject: str = "mailto:push@quckchat.test"
    port: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    browsers: dict[str, Browser] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vapid_key = ec.generate_private_key(ec.SECP256R1())

    @property
    def vapid_private_key(self) -> str:
        """The sender's key as the setting holds it: the raw scalar, base64url."""
        return b64url(self.vapid_key.private_numbers().private_value.to_bytes(32, "big"))

    def subscribe(self, name: str, *, origin: str = "") -> Browser:
        """A browser subscribed at this service, or at the same path on another `origin`."""
        endpoint = f"{origin or f'http://127.0.0.1:{self.port}'}/push/{name}"
        browser = Browser(name, ec.generate_private_key(ec.SECP256R1()), os.urandom(16), endpoint)
        self.browsers[name] = browser
        return browser

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/push/{name}")
        async def push(name: str, request: Request) -> Response:
            browser = self.browsers.get(name)
            if browser is None:
                return Response(status_code=404)
            refused = self._check_vapid(request.headers.get("authorization", ""))
            if refused:
                return Response(refused, status_code=403)
            if request.headers.get("content-encoding") != "aes128gcm":
                return Response("aes128gcm only", status_code=415)
            scripted = self.answers.get(name)
            if scripted is not None:
                headers = {"Retry-After": scripted.retry_after} if scripted.retry_after else {}
                return Response(scripted.reason, status_code=scripted.status, headers=headers)
            plain = http_ece.decrypt(
                await request.body(),
                private_key=browser.key,
                auth_secret=browser.auth,
                version="aes128gcm",
            )
            self.received.append(
                {
                    "browser": name,
                    "payload": json.loads(plain),
                    "ttl": request.headers.get("ttl"),
                    "urgency": request.headers.get("urgency"),
                    "topic": request.headers.get("topic"),
                }
            )
            return Response(status_code=201)

        return app

    def _check_vapid(self, authorization: str) -> str:
        """ "" when the header is `vapid t=<ES256 JWT>,k=<the sender's public key>` with this
        origin as audience, a contact and an expiry under 24 hours."""
        scheme, _, rest = authorization.partition(" ")
        parts = dict(p.split("=", 1) for p in rest.split(",") if "=" in p)
        expected = self.vapid_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        if scheme != "vapid" or unb64url(parts.get("k", "")) != expected:
            return "unknown sender key"
        try:
            claims = jwt.decode(
                parts.get("t", ""),
                self.vapid_key.public_key(),
                algorithms=["ES256"],
                audience=f"http://127.0.0.1:{self.port}",
            )
        except jwt.InvalidTokenError as exc:
            return f"bad VAPID token: {exc}"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return "no contact"
        if claims["exp"] > time.time() + 24 * 3600:
            return "expires too late"
        return ""


@asynccontextmanager
async def fake_push_service() -> AsyncIterator[FakePushService]:
    fake = FakePushService()
    async with serving(fake.app()) as port:
        fake.port = port
        yield fake
