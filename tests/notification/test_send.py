"""Other services' sends (workspace invites to a bare address, notices to a user) through the
notification client, and the email digest: one email per user at their frequency, holding
only what is still unread when it goes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from quckchat.core.context import CALLER_HEADER
from quckchat.core.sms import TextRefused, TextUnavailable
from quckchat.core.sql import utcnow
from quckchat.notification import channels, client, digest
from quckchat.notification.email import mailer_from
from quckchat.notification.models import DELIVERED, DROPPED, FAILED, PENDING, Delivery
from quckchat.notification_orchestrator.events import Medium
from quckchat.workspace.events import InviteCreated, InviteDelivery
from tests.notification.conftest import Notify
from tests.worlds.mailbox import Mailbox, smtp_url
from tests.worlds.waiting import eventually


async def register(notify: Notify, email: str) -> str:
    """An account with an email, signed up at the auth service; its user id."""
    auth = notify.mesh.client("auth")
    signed = await auth.post("/register", json={"email": email, "password": "a long secret 1"})
    assert signed.status_code == 201, signed.text
    return str(signed.json()["user_id"])


async def wants_digest(notify: Notify, user: str, frequency: str) -> None:
    """Set the user's digest frequency, once the user service has made their profile."""

    async def set_it() -> int:
        response = await notify.mesh.client("user").patch(
            "/me/settings",
            json={"notifications": {"email_digest": frequency}},
            headers=notify.auth(user),
        )
        return response.status_code

    assert await eventually(set_it, until=200) == 200


async def test_an_invite_reaches_a_bare_address_once(notify: Notify) -> None:
    http = notify.mesh.runtime("user").http  # any service of the mesh calls it the same way
    first = await client.send(
        http, notice_id="invite-1x", email="new@example.com", title="Join Acme", body="link"
    )
    again = await client.send(
        http, notice_id="invite-1x", email="new@example.com", title="Join Acme", body="link"
    )
    sms = await client.send_batch(http, [{"phone": "+15550001111", "title": "Join Acme"}])
    assert first == again == "invite-1x" and len(sms) == 1
    assert await notify.deliver() == 2
    assert [(m.to, m.subject) for m in notify.mail.sent] == [("new@example.com", "Join Acme")]
    assert notify.sms.sent == [("+15550001111", "Join Acme")]


async def test_a_text_refused_for_good_fails_and_one_not_taken_now_waits(notify: Notify) -> None:
    notify.sms.failing = {
        "+15550003333": TextRefused("Twilio answered 400: not a mobile number"),
        "+15550004444": TextUnavailable("Twilio answered 503"),
    }
    http = notify.mesh.runtime("user").http
    refused, later = await client.send_batch(
        http,
        [{"phone": "+15550003333", "title": "Join"}, {"phone": "+15550004444", "title": "Join"}],
    )
    assert await notify.deliver() == 0
    (failed,) = await notify.deliveries(refused)
    (waiting,) = await notify.deliveries(later)
    assert (failed.status, failed.attempts) == (FAILED, 1)
    assert (waiting.status, waiting.attempts) == (PENDING, 1) and waiting.due_at > utcnow()


async def test_a_send_needs_exactly_one_recipient(notify: Notify) -> None:
    internal = {CALLER_HEADER: "workspace"}
    response = await notify.client.post(
        "/internal/notifications/send",
        json={"title": "x", "email": "a@example.com", "phone": "+15550001111"},
        headers=internal,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_user_is_emailed_at_their_accounts_address(notify: Notify) -> None:
    user = await register(notify, "carol-notice@example.com")
    await notify.decide(user, media=[Medium.IN_APP, Medium.EMAIL], title="Ping")
    assert await notify.deliver() == 1
    assert [(m.to, m.subject) for m in notify.mail.sent] == [("carol-notice@example.com", "Ping")]


async def test_a_digest_holds_only_what_is_still_unread(notify: Notify) -> None:
    user = await register(notify, "dave-digest@example.com")
    await wants_digest(notify, user, "daily")
    media = [Medium.IN_APP, Medium.EMAIL]
    kept = await notify.decide(user, media=media, digest=True, title="kept", seq=9)
    read = await notify.decide(user, media=media, digest=True, title="read", channel_id="c2")
    assert await notify.deliver() == 0  # digest emails wait for the digest
    await notify.client.post(f"/{read.notice_id}/read", headers=notify.auth(user))
    assert notify.runtime.db is not None
    # A day has passed since they were decided (the default frequency is daily).
    async with notify.runtime.db.session() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.user_id == user)
            .values(created_at=utcnow() - timedelta(days=1, minutes=1))
        )
    notify.mail.unavailable = 1
    assert await digest.send_digests(notify.runtime) == 0  # the relay was away: kept for later
    assert await digest.send_digests(notify.runtime) == 1
    assert await digest.send_digests(notify.runtime) == 0  # sent: nothing waits
    (email,) = notify.mail.sent
    assert email.to == "dave-digest@example.com" and "kept" in email.text
    assert "read" not in email.text.replace("unread", "")
    statuses = {d.notice_id: d.status for d in await notify.deliveries(kept.notice_id)}
    statuses |= {d.notice_id: d.status for d in await notify.deliveries(read.notice_id)}
    assert statuses == {kept.notice_id: DELIVERED, read.notice_id: DROPPED}


def test_the_digest_frequency_is_read_from_old_and_new_settings() -> None:
    assert digest.period_of({"notifications": {"email_digest": "off"}}) is None
    assert digest.period_of({"notifications": {"email_digest": "weekly"}}) == timedelta(days=7)
    assert digest.period_of({"notifications": {"email_digest": "hourly"}}) == timedelta(hours=1)
    new_shape = {"notifications": {"email_digest": {"frequency": "15min"}}}
    assert digest.period_of(new_shape) == timedelta(minutes=15)
    assert digest.period_of(None) == digest.DEFAULT_PERIOD


@pytest.mark.smtp
async def test_an_invite_by_email_arrives_in_the_smtp_server_once(
    notify: Notify, mailbox: Mailbox
) -> None:
    relay = notify.runtime.settings.model_copy(update={"smtp_url": smtp_url()})
    notify.runtime.state[channels.STATE_KEY].mail = mailer_from(relay)
    to = mailbox.address()
    invite = InviteCreated(
        workspace_id="w1",
        invite_id="inv-" + to.partition("@")[0],
        role="member",
        delivery=InviteDelivery(email=to, url="https://chat.example.com/join/s3cret"),
        workspace_name="Acme",
    )
    for _ in range(2):  # announced again: sent once, by the invite's id
        await notify.publish("workspace", invite)
    await eventually(lambda: notify.notice(f"invite.{invite.invite_id}"))
    assert await notify.deliver() == 1
    (mail,) = await mailbox.wait_for(to)
    assert mail.subject == "You are invited to Acme on QuckChat"
    assert "https://chat.example.com/join/s3cret" in mail.text


async def test_a_link_invite_goes_to_nobody(notify: Notify) -> None:
    link = InviteCreated(workspace_id="w1", invite_id="inv-link", role="member")
    await notify.publish("workspace", link)
    await notify.publish(
        "workspace",
        InviteCreated(
            **{
                **link.model_dump(),
                "invite_id": "i2",
                "delivery": InviteDelivery(phone="+15550002222", url="https://x.example/join/t"),
            }
        ),
    )
    await eventually(lambda: notify.notice("invite.i2"))
    assert await notify.notice("invite.inv-link") is None
    assert await notify.deliver() == 1
    ((phone, text),) = notify.sms.sent
    assert phone == "+15550002222" and "https://x.example/join/t" in text
