"""Android pushes through Firebase Cloud Messaging's HTTP v1 API, as the service account whose
key file the settings name: its access token comes from the key's own `token_uri` and is
fetched again before it expires."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from google.auth import exceptions as auth_errors
from google.auth.transport.requests import Request as AuthRequest
from google.oauth2 import service_account

from quckchat.notification.push import answers
from quckchat.notification.push.base import Outcome, Push, Result

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
ERROR_CODE_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


class FcmPush:
    def __init__(
        self,
        *,
        credentials_file: str,
        project_id: str,
        endpoint: str,
        ttl_seconds: int,
        timeout: float = 10.0,
    ) -> None:
        self._credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            credentials_file, scopes=[SCOPE]
        )
        self._url = f"{endpoint.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self._ttl = ttl_seconds
        self._http = httpx.AsyncClient(timeout=timeout)
        self._refreshing = asyncio.Lock()

    async def _token(self) -> str:
        """A valid access token; google-auth treats one as expired a few minutes early."""
        async with self._refreshing:
            if not self._credentials.valid:
                # google-auth's token request blocks: it runs beside the loop, not on it.
                await asyncio.to_thread(self._credentials.refresh, AuthRequest())
            token: str = self._credentials.token
            return token

    async def send(self, token: str, push: Push) -> Result:
        try:
            bearer = await self._token()
        except auth_errors.TransportError as exc:
            return answers.unreachable(exc)
        except auth_errors.RefreshError as exc:
            if exc.retryable:
                return Result(Outcome.RETRY, None, f"the token endpoint failed: {exc}")
            return Result(Outcome.FAILED, None, f"the service account was refused: {exc}")
        try:
            response = await self._http.post(
                self._url,
                json={"message": message(token, push, self._ttl)},
                headers={"Authorization": f"Bearer {bearer}"},
            )
        except httpx.HTTPError as exc:
            return answers.unreachable(exc)
        return outcome(response)

    async def aclose(self) -> None:
        await self._http.aclose()


def message(token: str, push: Push, ttl_seconds: int) -> dict[str, Any]:
    """The v1 message: a notice shows title and body under the collapse key's tag; a clear is
    data only, which the app acts on by removing that tag's notice."""
    android: dict[str, Any] = {"collapse_key": push.collapse_key, "ttl": f"{ttl_seconds}s"}
    data = {**push.data, "collapse_key": push.collapse_key}
    if push.clear:
        android["priority"] = "high"
        return {"token": token, "data": {**data, "clear": "1"}, "android": android}
    notice: dict[str, Any] = {"tag": push.collapse_key}
    if push.badge is not None:
        notice["notification_count"] = push.badge
    android["notification"] = notice
    return {
        "token": token,
        "notification": {"title": push.title, "body": push.body},
        "data": data,
        "android": android,
    }


def outcome(response: httpx.Response) -> Result:
    status = response.status_code
    if status == 200:
        return Result(Outcome.DELIVERED, status)
    error = _error(response)
    detail = f"{error.get('status', '')} {error.get('message', '')}".strip() or response.text[:200]
    if _token_is_dead(status, error):
        return Result(Outcome.GONE, status, detail)
    if status in answers.RETRY_STATUSES:
        return answers.retry(status, detail, response.headers.get("Retry-After"))
    return Result(Outcome.FAILED, status, detail)


def _error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _token_is_dead(status: int, error: dict[str, Any]) -> bool:
    """404 UNREGISTERED, or a 400 INVALID_ARGUMENT about the token (not the rest of the
    message, which a new token would not fix)."""
    details = [d for d in error.get("details", []) if isinstance(d, dict)]
    codes = {d.get("errorCode") for d in details if d.get("@type") == ERROR_CODE_TYPE}
    if status == 404:
        return "UNREGISTERED" in codes or error.get("status") == "NOT_FOUND"
    if status == 400 and error.get("status") == "INVALID_ARGUMENT":
        fields = {
            violation.get("field")
            for d in details
            if d.get("@type") == BAD_REQUEST_TYPE
            for violation in d.get("fieldViolations", [])
        }
        return "message.token" in fields or "registration token" in error.get("message", "")
    return False
