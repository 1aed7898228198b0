"""The reminder service: reminders for people and channels, fired once by whichever replica."""

from quckchat.channel import client as channel_client
from quckchat.core.service import Service
from quckchat.reminder import firing
from quckchat.reminder.routes import router

service = Service(
    routers=[router],
    # Every replica drops its cached channel memberships when they change.
    consumers=[channel_client.MEMBERSHIP_CACHE],
    periodic=[firing.FIRE_DUE],
)
