"""The optional Ingress: the gateway at /, realtime's WebSocket at /api/v1/realtime/ws."""

from __future__ import annotations

from quckchat_operator.render.ingress import REALTIME_PATH
from tests.operator.support import of_kind, render, render_example


def test_no_ingress_unless_enabled() -> None:
    assert of_kind(render(), "Ingress") == {}


def test_the_production_ingress_routes_rest_and_websocket_with_tls() -> None:
    (ingress,) = of_kind(render_example("production-cluster"), "Ingress").values()
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"secretName": "chat-example-com-tls", "hosts": ["chat.example.com"]}]
    (rule,) = spec["rules"]
    assert rule["host"] == "chat.example.com"
    routes = {
        p["path"]: (p["backend"]["service"]["name"], p["backend"]["service"]["port"]["number"])
        for p in rule["http"]["paths"]
    }
    assert REALTIME_PATH == "/api/v1/realtime/ws"
    assert routes == {
        REALTIME_PATH: ("chat-prod-realtime", 4000),
        "/": ("chat-prod-backend-gateway", 3000),
    }


def test_an_ingress_without_a_host_serves_every_host() -> None:
    (ingress,) = of_kind(render({"ingress": {"enabled": True}}), "Ingress").values()
    assert "host" not in ingress["spec"]["rules"][0]
    assert "tls" not in ingress["spec"]
