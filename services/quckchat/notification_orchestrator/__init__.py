"""The notification orchestrator: decides who is told of what, on which channel, and when."""
