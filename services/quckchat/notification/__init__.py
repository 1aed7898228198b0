"""The notification service: the in-app inbox, and delivery by push, email and SMS."""
