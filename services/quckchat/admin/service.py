"""The admin service: platform administration, every action recorded by audit."""

from __future__ import annotations

from quckchat.admin.routes import router
from quckchat.core.service import Service

service = Service(routers=[router])
