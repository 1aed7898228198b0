"""The workspace service: workspaces (tenants' spaces), members, invites, quotas and settings."""
