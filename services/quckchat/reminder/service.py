"""The reminder service: reminders for people and channels, fired once by whichever replica."""

from quckchat.core.service import Consumer, Service
from quckchat.message.consumers import on_channel_event as forget_memberships
from quckchat.reminder import firing
from quckchat.reminder.routes import router

service = Service(
    routers=[router],
    # Every replica drops its cached channel memberships when they change.
    consumers=[Consumer(sources=("channel",), handler=forget_memberships, broadcast=True)],
    periodic=[firing.FIRE_DUE],
)
