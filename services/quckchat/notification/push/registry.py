"""Which sender pushes to which platform, from the settings: a provider that is configured
gets its real client, any other platform the console."""

from __future__ import annotations

from quckchat.core.settings import Settings
from quckchat.notification.push.apns import ApnsPush
from quckchat.notification.push.base import PushSender
from quckchat.notification.push.console import ConsolePush
from quckchat.notification.push.fcm import FcmPush
from quckchat.notification.push.webpush import WebPush

PLATFORMS = ("ios", "android", "web")


def senders_from(settings: Settings) -> dict[str, PushSender]:
    s = settings
    senders: dict[str, PushSender] = {platform: ConsolePush(platform) for platform in PLATFORMS}
    if s.fcm_credentials_file and s.fcm_project_id:
        senders["android"] = FcmPush(
            credentials_file=s.fcm_credentials_file,
            project_id=s.fcm_project_id,
            endpoint=s.fcm_endpoint,
            ttl_seconds=s.push_ttl_seconds,
        )
    if s.apns_key_file and s.apns_key_id and s.apns_team_id and s.apns_topic:
        senders["ios"] = ApnsPush(
            key_file=s.apns_key_file,
            key_id=s.apns_key_id,
            team_id=s.apns_team_id,
            topic=s.apns_topic,
            url=s.apns_url,
            ca_file=s.apns_ca_file,
            ttl_seconds=s.push_ttl_seconds,
        )
    if s.webpush_vapid_private_key and s.webpush_vapid_subject:
        senders["web"] = WebPush(
            vapid_private_key=s.webpush_vapid_private_key,
            subject=s.webpush_vapid_subject,
            allowed_networks=s.webpush_allowed_networks,
            ttl_seconds=s.push_ttl_seconds,
        )
    return senders
