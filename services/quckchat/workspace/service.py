"""The workspace service: workspaces, members, invites, quotas, settings and provisioning."""

from quckchat.core.service import Service
from quckchat.user import client as user_client
from quckchat.workspace import internal_routes, routes

# Internal routes first: their literal segments must win over the public /{workspace_id}.
service = Service(
    routers=[internal_routes.router, routes.router], consumers=[user_client.NAME_CACHE]
)
