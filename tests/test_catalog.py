"""The catalog is the one list every tool reads: it must be complete and consistent."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from quckchat import catalog
from quckchat.cli import main
from quckchat.core.app import load_service
from tests.code_calls import PUBLIC_MODULES, rest_calls

GATEWAY = "backend-gateway"

# Ports as the product documents give them.
DOCUMENTED_PORTS = {
    "auth": 8081,
    "user": 8082,
    "permission": 8083,
    "audit": 8084,
    "admin": 8085,
    "backend-gateway": 3000,
    "realtime": 4000,
    "notification": 3001,
    "presence": 4001,
    "call": 4002,
    "message": 4003,
    "notification-orchestrator": 4004,
    "huddle": 4005,
    "event-broadcast": 4006,
    "workspace": 5004,
    "channel": 5005,
    "search": 5006,
    "thread": 5009,
    "bookmark": 5010,
    "reminder": 5011,
    "media": 5001,
    "file": 5002,
    "attachment": 5012,
    "cdn": 5013,
    "analytics": 5007,
    "moderation": 5014,
    "export": 5015,
    "integration": 5016,
    "ml": 5008,
    "sentiment": 5017,
    "insights": 5018,
    "smart-reply": 5019,
}
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


def test_all_32_services_with_their_documented_ports() -> None:
    assert {s.name: s.port for s in catalog.SERVICES} == DOCUMENTED_PORTS
    assert len({s.port for s in catalog.SERVICES}) == 32


@pytest.mark.parametrize("spec", catalog.SERVICES, ids=lambda s: s.name)
def test_names_are_dns_labels_and_references_exist(spec: catalog.ServiceSpec) -> None:
    assert DNS_LABEL.match(spec.name)
    names = set(catalog.names())
    assert set(spec.depends_on) <= names
    assert set(spec.consumes) <= names
    assert spec.name not in spec.depends_on


def test_dependencies_have_no_cycle_and_order_puts_callees_first() -> None:
    order = [s.name for s in catalog.startup_order()]
    assert sorted(order) == sorted(catalog.names())
    for spec in catalog.SERVICES:
        for dep in spec.depends_on:
            assert order.index(dep) < order.index(spec.name)


def test_tiers_hold_each_service_once_after_every_service_it_calls() -> None:
    tiers = [[s.name for s in tier] for tier in catalog.startup_tiers()]
    assert sorted(n for tier in tiers for n in tier) == sorted(catalog.names())
    tier_of = {name: i for i, tier in enumerate(tiers) for name in tier}
    for spec in catalog.SERVICES:
        assert all(tier_of[dep] < tier_of[spec.name] for dep in spec.depends_on), spec.name
    # As early as it can be: a service past the first tier calls one of the tier just before.
    for spec in catalog.SERVICES:
        if tier_of[spec.name] > 0:
            assert max(tier_of[d] for d in spec.depends_on) == tier_of[spec.name] - 1


def test_a_cycle_is_reported() -> None:
    a = catalog.ServiceSpec("a", catalog.Group.EDGE, 1, (), "", depends_on=("b",))
    b = catalog.ServiceSpec("b", catalog.Group.EDGE, 2, (), "", depends_on=("a",))
    with pytest.raises(ValueError, match="cycle"):
        catalog.startup_order([a, b])


def test_public_prefixes_are_unique() -> None:
    prefixes = [s.public_prefix for s in catalog.SERVICES if s.public_prefix]
    assert len(prefixes) == len(set(prefixes))


def test_cli_prints_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 32
    assert {"name", "group", "port", "stores"} <= set(listed[0])
    assert main(["catalog"]) == 0
    table = capsys.readouterr().out
    assert "backend-gateway" in table and "3000" in table


@pytest.mark.parametrize("spec", catalog.implemented(), ids=lambda s: s.name)
def test_the_catalog_lists_exactly_whom_the_code_calls(spec: catalog.ServiceSpec) -> None:
    """NetworkPolicies follow the catalog: a call it misses is blocked, an extra one is open."""
    listed = set(spec.depends_on) | set(spec.calls)
    code = rest_calls(spec.name)
    assert code <= listed, f"{spec.name} calls {sorted(code - listed)}, not in the catalog"
    # The gateway also forwards to every public service by name (not a literal in its code).
    forwarded = (
        {s.name for s in catalog.SERVICES if s.public_prefix} if spec.name == GATEWAY else set()
    )
    assert listed <= code | forwarded, f"{spec.name} lists {sorted(listed - code)}, never called"


def test_calls_are_read_from_the_code_and_what_it_borrows() -> None:
    # Direct: the message service asks channel for membership.
    assert "channel" in rest_calls("message")
    # Through clients: bookmark imports the message client, which asks channel for membership.
    assert {"message", "channel"} <= rest_calls("bookmark")
    # Through core: every service but auth verifies tokens against auth's JWKS.
    assert all("auth" in rest_calls(s.name) for s in catalog.implemented() if s.name != "auth")
    assert rest_calls("auth") == set()


def _imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


@pytest.mark.parametrize("spec", catalog.implemented(), ids=lambda s: s.name)
def test_a_service_reaches_another_only_through_its_client(spec: catalog.ServiceSpec) -> None:
    """`quckchat.<other>.client` (its calls) and `.events` (what it publishes) are all one
    service may import of another."""
    folder = Path(catalog.__file__).parent / spec.module
    modules = {s.module for s in catalog.SERVICES}
    borrowed = []
    for path in sorted(folder.rglob("*.py")):
        for name in _imports_of(path):
            parts = name.split(".")
            other = parts[1] if len(parts) > 2 and parts[0] == "quckchat" else None
            if other in modules and other != spec.module and parts[2] not in PUBLIC_MODULES:
                borrowed.append(f"{path.relative_to(folder.parent)}: {name}")
    assert not borrowed, "imports of another service's internals:\n" + "\n".join(borrowed)


@pytest.mark.parametrize("spec", catalog.implemented(), ids=lambda s: s.name)
def test_the_catalog_lists_exactly_the_topics_the_code_consumes(spec: catalog.ServiceSpec) -> None:
    """A topic the catalog names but no consumer takes is an event nobody delivers."""
    consumed = {source for c in load_service(spec).consumers for source in c.sources}
    assert consumed == set(spec.consumes)
