"""The file service: uploads to object storage, counted against workspace quotas, checked for
their real type and for malware, on MongoDB."""

from quckchat.core.periodic import Periodic
from quckchat.core.runtime import Runtime
from quckchat.core.service import Consumer, Service
from quckchat.file import internal_routes, logic, retention, store
from quckchat.file.routes import router
from quckchat.file.scanning import scanner_for


async def _scanner(runtime: Runtime) -> None:
    scanner = scanner_for(runtime.settings.clamd_url)
    runtime.state[logic.SCANNER] = scanner
    if runtime.settings.clamd_url:
        runtime.extra_checks["clamd"] = scanner.ping


service = Service(
    routers=[internal_routes.router, router],
    document_indexes=store.INDEXES,
    document_outboxes=(logic.OUTBOX,),
    consumers=[Consumer(sources=("workspace",), handler=retention.on_workspace_event)],
    on_startup=[_scanner],
    periodic=[
        Periodic(
            "file upkeep",
            15.0,
            (
                logic.rescan_waiting,
                logic.finish_received,
                logic.finish_deletions,
                logic.drop_abandoned,
                retention.expire_past_retention,
            ),
        )
    ],
)
