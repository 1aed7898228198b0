"""Which services each service's code can call over REST, read from the source itself.

A service calls another when any module its package reaches by importing (its own modules,
`core`, and what those import) is the other's `client.py`, or makes a call
`<...>.http.json|request(NAME, ...)` with NAME a string literal (calls not yet moved into the
callee's client). Reaching a module counts as calling what it calls: an over-approximation, so
a catalog that covers it leaves no call blocked by a NetworkPolicy.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from quckchat import catalog

PACKAGE_ROOT = Path(catalog.__file__).parent
HTTP_METHODS = frozenset({"json", "request"})
# What a service offers the others: its client (calls) and its events (what it publishes).
PUBLIC_MODULES = frozenset({"client", "events"})


def _file_of(module: str) -> Path | None:
    path = PACKAGE_ROOT.parent.joinpath(*module.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return None


@cache
def _parsed(module: str) -> tuple[frozenset[str], frozenset[str]]:
    """The quckchat modules `module` imports, and the services it names in REST calls."""
    path = _file_of(module)
    assert path is not None, module
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    imported: set[str] = set()
    called: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            imported.add(base)
            # `from quckchat.x import y` may name the module quckchat.x.y.
            imported.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Call) and (callee := _rest_callee(node)) is not None:
            called.add(callee)
    modules = {m for m in imported if m.startswith("quckchat") and _file_of(m) is not None}
    return frozenset(modules), frozenset(called)


def _rest_callee(node: ast.Call) -> str | None:
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in HTTP_METHODS:
        return None
    receiver = func.value
    name = (
        receiver.attr
        if isinstance(receiver, ast.Attribute)
        else receiver.id
        if isinstance(receiver, ast.Name)
        else None
    )
    if name != "http" or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def _client_owner(module: str) -> str | None:
    """The service whose client `module` is (`quckchat.<its module>.client`), if any."""
    package, _, name = module.rpartition(".")
    if name != "client":
        return None
    owners = [s.name for s in catalog.SERVICES if f"quckchat.{s.module}" == package]
    return owners[0] if owners else None


def _own_or_shared(module: str, service: str) -> bool:
    """A module of `service` itself, of core, or any service's client or events (the
    producer's event models a consumer reads; importing them calls nothing)."""
    parts = module.split(".")
    if len(parts) < 3 or parts[1] == "core" or parts[1] == catalog.get(service).module:
        return True
    return parts[2] in PUBLIC_MODULES or parts[1] not in {s.module for s in catalog.SERVICES}


def modules_of(service: str) -> list[str]:
    """The modules of the service's own package."""
    folder = PACKAGE_ROOT / catalog.get(service).module
    return sorted(f"quckchat.{folder.name}.{p.stem}" for p in folder.glob("*.py"))


def rest_calls(service: str) -> set[str]:
    """Every other service the service's code may call over REST."""
    seen: set[str] = set()
    todo = modules_of(service)
    called: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        imported, names = _parsed(module)
        called |= names
        if (owner := _client_owner(module)) is not None:
            called.add(owner)
        # Another service's modules a client imports (its schemas, say) run in the caller only
        # as types: their calls are the other service's own.
        todo.extend(m for m in imported - seen if _own_or_shared(m, service))
    return called - {service}
