"""The channel service: conversations (public, private, direct, group), members, pins, reads."""
