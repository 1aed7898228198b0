"""`ServiceClient`: retries only where a repeat is harmless, context passed on, clear failures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from quckchat.core import context, http
from quckchat.core.errors import Problem
from quckchat.core.http import ServiceClient
from quckchat.core.settings import Settings

Reply = Callable[[httpx.Request, int], httpx.Response]


class Upstream:
    """A scripted service behind httpx.MockTransport that records every request it gets."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.reply(request, len(self.requests))


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Same number of tries, without the waits between them.
    monkeypatch.setattr(http, "BACKOFF", (0.0, 0.0, 0.0))


MakeClient = Callable[[Reply], tuple[ServiceClient, Upstream]]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    made: list[ServiceClient] = []

    def make(reply: Reply) -> tuple[ServiceClient, Upstream]:
        upstream = Upstream(reply)
        client = ServiceClient(
            Settings(port_offset=100), caller="tester", transport=httpx.MockTransport(upstream)
        )
        made.append(client)
        return client, upstream

    yield make
    for client in made:
        await client.close()


def problem(status: int, slug: str, detail: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": f"https://quckchat.io/problems/{slug}", "status": status, "detail": detail},
        headers={"content-type": "application/problem+json"},
    )


def fail_first(times: int, failure: Callable[[httpx.Request], httpx.Response]) -> Reply:
    def reply(request: httpx.Request, n: int) -> httpx.Response:
        return failure(request) if n <= times else httpx.Response(200, json={"ok": True})

    return reply


def unavailable(_: httpx.Request) -> httpx.Response:
    return httpx.Response(503)


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def too_slow(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


async def test_a_get_is_retried_on_503_then_succeeds(make_client: MakeClient) -> None:
    client, upstream = make_client(fail_first(2, unavailable))
    response = await client.request("auth", "GET", "/internal/users/u1")
    assert response.status_code == 200
    assert len(upstream.requests) == 3
    # The catalog names the service; the port offset moves every port alike.
    assert str(upstream.requests[0].url) == "http://127.0.0.1:8181/internal/users/u1"


async def test_a_get_is_retried_on_connect_errors_then_succeeds(make_client: MakeClient) -> None:
    client, upstream = make_client(fail_first(3, refused))
    assert await client.json("user", "GET", "/internal/x") == {"ok": True}
    assert len(upstream.requests) == 4


async def test_a_post_is_sent_once_even_when_it_fails(make_client: MakeClient) -> None:
    client, upstream = make_client(fail_first(1, unavailable))
    response = await client.request("auth", "POST", "/internal/things", json={"a": 1})
    assert response.status_code == 503
    assert len(upstream.requests) == 1

    client, upstream = make_client(fail_first(1, refused))
    with pytest.raises(Problem) as caught:
        await client.request("auth", "POST", "/internal/things", json={"a": 1})
    assert caught.value.status == 503
    assert len(upstream.requests) == 1


async def test_a_post_marked_idempotent_is_retried(make_client: MakeClient) -> None:
    client, upstream = make_client(fail_first(2, unavailable))
    response = await client.request("auth", "POST", "/internal/check", idempotent=True, json={})
    assert response.status_code == 200
    assert len(upstream.requests) == 3
    assert all(r.method == "POST" and r.content == b"{}" for r in upstream.requests)


async def test_a_get_marked_not_idempotent_is_sent_once(make_client: MakeClient) -> None:
    client, upstream = make_client(fail_first(1, unavailable))
    response = await client.request("auth", "GET", "/internal/x", idempotent=False)
    assert response.status_code == 503
    assert len(upstream.requests) == 1


async def test_the_request_id_and_the_caller_travel_along(make_client: MakeClient) -> None:
    client, upstream = make_client(fail_first(0, unavailable))
    token = context.request_id.set("req-1234")
    try:
        await client.request("permission", "GET", "/internal/x", headers={"X-Extra": "yes"})
    finally:
        context.request_id.reset(token)
    await client.request("permission", "GET", "/internal/y")
    first, second = upstream.requests
    assert first.headers["X-Request-ID"] == "req-1234"
    assert first.headers["X-QuckChat-Caller"] == "tester"
    assert first.headers["X-Extra"] == "yes"
    # Outside a request there is no id to pass on, but the caller is still named.
    assert "X-Request-ID" not in second.headers
    assert second.headers["X-QuckChat-Caller"] == "tester"


async def test_an_unreachable_service_is_a_503_problem(make_client: MakeClient) -> None:
    client, upstream = make_client(fail_first(99, refused))
    with pytest.raises(Problem) as caught:
        await client.json("audit", "GET", "/internal/entries")
    assert caught.value.status == 503
    assert "audit" in caught.value.detail
    assert len(upstream.requests) == 1 + len(http.BACKOFF)


async def test_a_service_that_does_not_answer_in_time_is_a_504_problem(
    make_client: MakeClient,
) -> None:
    client, upstream = make_client(fail_first(99, too_slow))
    with pytest.raises(Problem) as caught:
        await client.request("audit", "GET", "/internal/entries")
    assert caught.value.status == 504
    assert len(upstream.requests) == 1 + len(http.BACKOFF)

    client, upstream = make_client(fail_first(99, too_slow))
    with pytest.raises(Problem) as caught:
        await client.request("audit", "POST", "/internal/entries")
    assert caught.value.status == 504
    assert len(upstream.requests) == 1


async def test_json_passes_an_upstream_4xx_problem_on(make_client: MakeClient) -> None:
    client, _ = make_client(lambda _r, _n: problem(404, "not-found", "user u9 was not found"))
    with pytest.raises(Problem) as caught:
        await client.json("user", "GET", "/internal/users/u9")
    assert caught.value.status == 404
    assert caught.value.detail == "user u9 was not found"
    assert caught.value.slug == "not-found"


async def test_json_turns_an_upstream_5xx_into_a_502(make_client: MakeClient) -> None:
    client, upstream = make_client(lambda _r, _n: problem(500, "internal-error", "it broke"))
    with pytest.raises(Problem) as caught:
        await client.json("user", "GET", "/internal/users/u9")
    assert caught.value.status == 502
    assert caught.value.detail == "it broke"
    # A 500 is not a transient answer: it is not retried.
    assert len(upstream.requests) == 1


async def test_json_without_a_problem_body_still_says_who_failed(make_client: MakeClient) -> None:
    client, _ = make_client(lambda _r, _n: httpx.Response(409, text="<html>conflict</html>"))
    with pytest.raises(Problem) as caught:
        await client.json("user", "GET", "/internal/users/u9")
    assert caught.value.status == 409
    assert caught.value.detail == "user answered 409"


async def test_json_returns_none_for_an_empty_success(make_client: MakeClient) -> None:
    client, _ = make_client(lambda _r, _n: httpx.Response(204))
    assert await client.json("user", "DELETE", "/internal/users/u9") is None
