"""Sign-in with Google, Facebook and Apple through one generic OpenID Connect client.

Authorization code flow with PKCE (S256), `state` against CSRF and `nonce` against replay;
the id_token is verified against the provider's published keys before anything is trusted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from quckchat.core.errors import Problem
from quckchat.core.http import tls_context
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from quckchat.core.values import DISPLAY_NAME_LENGTH

STATE_TTL_SECONDS = 600
JWKS_TTL_SECONDS = 3600


@dataclass(frozen=True)
class Provider:
    name: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    client_id: str = ""
    client_secret: str = ""
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    extra_authorize_params: dict[str, str] = field(default_factory=dict)


# Endpoints of the providers we know; a deployment adds client credentials per provider.
KNOWN = {
    "google": Provider(
        "google",
        "https://accounts.google.com",
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
        "https://www.googleapis.com/oauth2/v3/certs",
    ),
    "facebook": Provider(
        "facebook",
        "https://www.facebook.com",
        "https://www.facebook.com/v19.0/dialog/oauth",
        "https://graph.facebook.com/v19.0/oauth/access_token",
        "https://limited.facebook.com/.well-known/oauth/openid/jwks/",
        scopes=("openid", "email"),
    ),
    "apple": Provider(
        "apple",
        "https://appleid.apple.com",
        "https://appleid.apple.com/auth/authorize",
        "https://appleid.apple.com/auth/token",
        "https://appleid.apple.com/auth/keys",
        scopes=("openid", "email", "name"),
        extra_authorize_params={"response_mode": "form_post"},
    ),
}


def configured(settings: Settings) -> dict[str, Provider]:
    """Providers with credentials, from QUCKCHAT_OIDC_PROVIDERS_JSON.

    Each entry names a known provider with its client_id/client_secret, or gives every
    endpoint itself (any standard OIDC provider).
    """
    if not settings.oidc_providers_json:
        return {}
    raw: dict[str, dict[str, Any]] = json.loads(settings.oidc_providers_json)
    providers = {}
    for name, conf in raw.items():
        base = KNOWN.get(name)
        fields: dict[str, Any] = {
            k: (tuple(v) if k == "scopes" else v) for k, v in conf.items() if k != "name"
        }
        providers[name] = replace(base, **fields) if base else Provider(name=name, **fields)
    return providers


@dataclass(frozen=True)
class ExternalUser:
    provider: str
    subject: str
    email: str | None
    email_verified: bool
    display_name: str | None = None


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class OidcClient:
    def __init__(
        self,
        runtime: Runtime,
        providers: dict[str, Provider],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.runtime = runtime
        self.providers = providers
        self.http = httpx.AsyncClient(timeout=10.0, transport=transport, verify=tls_context())
        self._jwks: dict[str, tuple[float, dict[str, Any]]] = {}

    def provider(self, name: str) -> Provider:
        provider = self.providers.get(name)
        if provider is None:
            raise Problem(
                404, f"sign-in with {name!r} is not configured here", slug="oidc-provider-unknown"
            )
        return provider

    def redirect_uri(self, name: str) -> str:
        return f"{self.runtime.settings.oauth_redirect_base.rstrip('/')}/{name}/callback"

    async def authorization_url(self, name: str, *, link_to: str | None) -> tuple[str, str]:
        """Where to send the user, and the state that must come back with the code."""
        provider = self.provider(name)
        state, verifier, nonce = (secrets.token_urlsafe(24) for _ in range(3))
        await self.runtime.cache.set(
            f"qc:oidc:{state}",
            json.dumps(
                {"provider": name, "verifier": verifier, "nonce": nonce, "link_to": link_to}
            ),
            ex=STATE_TTL_SECONDS,
        )
        params = {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": self.redirect_uri(name),
            "scope": " ".join(provider.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
            **provider.extra_authorize_params,
        }
        return f"{provider.authorization_endpoint}?{urlencode(params)}", state

    async def complete(
        self, name: str, *, code: str, state: str
    ) -> tuple[ExternalUser, str | None]:
        """Trade the code for a verified identity; returns it and the account to link to."""
        provider = self.provider(name)
        raw = await self.runtime.cache.getdel(f"qc:oidc:{state}")
        if raw is None:
            raise Problem(
                400,
                "the sign-in state is unknown or expired; start again",
                slug="oidc-state-invalid",
            )
        saved = json.loads(raw)
        if saved["provider"] != name:
            raise Problem(
                400, "the sign-in state belongs to another provider", slug="oidc-state-invalid"
            )
        try:
            response = await self.http.post(
                provider.token_endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.redirect_uri(name),
                    "client_id": provider.client_id,
                    "client_secret": provider.client_secret,
                    "code_verifier": saved["verifier"],
                },
            )
        except httpx.HTTPError as exc:
            raise Problem(502, f"{name} could not be reached", slug="oidc-provider-error") from exc
        if response.status_code != 200:
            raise Problem(400, f"{name} refused the authorization code", slug="oidc-code-refused")
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise Problem(502, f"{name} returned no id_token", slug="oidc-provider-error")
        claims = await self.verify_id_token(provider, id_token, nonce=saved["nonce"])
        email = claims.get("email")
        verified = claims.get("email_verified") in (True, "true")
        return (
            ExternalUser(
                name,
                str(claims["sub"]),
                email if isinstance(email, str) else None,
                verified,
                display_name=_display_name(claims.get("name")),
            ),
            saved.get("link_to"),
        )

    async def _keys(self, provider: Provider, *, refresh: bool) -> dict[str, Any]:
        cached = self._jwks.get(provider.name)
        if cached and not refresh and time.monotonic() - cached[0] < JWKS_TTL_SECONDS:
            return cached[1]
        response = await self.http.get(provider.jwks_uri)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        self._jwks[provider.name] = (time.monotonic(), document)
        return document

    async def verify_id_token(
        self, provider: Provider, token: str, *, nonce: str
    ) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = None
            for refresh in (False, True):
                document = await self._keys(provider, refresh=refresh)
                key = next((k for k in document.get("keys", []) if k.get("kid") == kid), None)
                if key is not None:
                    break
            if key is None:
                raise jwt.InvalidTokenError("id_token signed with an unknown key")
            jwk = jwt.PyJWK(key)
            claims: dict[str, Any] = jwt.decode(
                token,
                jwk,
                algorithms=["RS256", "ES256", "EdDSA"],
                audience=provider.client_id,
                issuer=provider.issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
        except (jwt.PyJWTError, httpx.HTTPError) as exc:
            raise Problem(
                401,
                f"the id_token from {provider.name} is not valid: {exc}",
                slug="oidc-id-token-invalid",
            ) from exc
        if claims.get("nonce") != nonce:
            raise Problem(401, "the id_token's nonce does not match", slug="oidc-id-token-invalid")
        return claims

    async def close(self) -> None:
        await self.http.aclose()


def _display_name(claim: object) -> str | None:
    """The provider's `name` claim as a display name, if it gives a usable one."""
    if not isinstance(claim, str) or not claim.strip():
        return None
    return claim.strip()[:DISPLAY_NAME_LENGTH]
