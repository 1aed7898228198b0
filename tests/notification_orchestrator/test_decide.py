"""The decision table: one test a rule, no servers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from quckchat.notification_orchestrator.decide import (
    Candidate,
    Happening,
    Kind,
    Presence,
    Settings,
    could_concern,
    decide,
    in_quiet_hours,
    notice_id,
    withdrawn,
)
from quckchat.notification_orchestrator.events import Medium, Reason

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # a Saturday noon, UTC
ALICE, BOB, CAROL = "alice", "bob", "carol"


def said(text: str = "hello", **fields: object) -> Happening:
    base = Happening(kind=Kind.CREATED, source="m1", actor=ALICE, text=text)
    return replace(base, **fields)  # type: ignore[arg-type]


def told(happening: Happening, *people: Candidate) -> dict[str, Reason]:
    return {d.user_id: d.reason for d in decide(happening, list(people), NOW)}


def person(user: str = BOB, **fields: object) -> Candidate:
    return replace(Candidate(user_id=user), **fields)  # type: ignore[arg-type]


def test_a_named_mention_tells_the_one_named() -> None:
    assert told(said(mentions=frozenset({BOB})), person(), person(CAROL)) == {BOB: Reason.MENTION}


def test_a_plain_message_in_a_channel_tells_nobody() -> None:
    assert told(said(), person(), person(CAROL)) == {}


def test_the_actor_is_never_told() -> None:
    assert told(said(mentions=frozenset({ALICE}), mention_channel=True), person(ALICE)) == {}


def test_only_members_are_told() -> None:
    assert told(said(mentions=frozenset({BOB})), person(member=False)) == {}


def test_at_channel_tells_every_member() -> None:
    assert told(said(mention_channel=True), person(), person(CAROL)) == {
        BOB: Reason.MENTION,
        CAROL: Reason.MENTION,
    }


def test_at_here_tells_only_those_active_now() -> None:
    online = person(presence=Presence(status="online", active=True))
    away = person(CAROL, presence=Presence(status="away"))
    # The message service flags @here as it flags @channel; the text tells them apart.
    assert told(said("@here lunch?", mention_channel=True), online, away) == {BOB: Reason.MENTION}
    both = said("@here and @channel", mention_channel=True)
    assert told(both, online, away) == {BOB: Reason.MENTION, CAROL: Reason.MENTION}


def test_a_keyword_of_the_users_settings_tells_them() -> None:
    keen = person(settings=Settings(keywords=("deploy",)))
    assert told(said("the Deploy is done"), keen, person(CAROL)) == {BOB: Reason.KEYWORD}
    assert told(said("redeployment"), keen) == {}


def test_a_direct_or_group_conversation_always_counts_as_direct() -> None:
    for kind in ("direct", "group"):
        assert told(said(channel_kind=kind), person()) == {BOB: Reason.DIRECT}


def test_a_channel_muted_until_later_tells_nothing_until_then() -> None:
    mention = said(mentions=frozenset({BOB}))
    assert told(mention, person(muted_until=NOW + timedelta(hours=1))) == {}
    assert told(mention, person(muted_until=NOW - timedelta(seconds=1))) == {BOB: Reason.MENTION}


def test_quiet_hours_in_the_users_time_zone_hold_all_but_urgent() -> None:
    # Noon UTC is 21:00 in Tokyo: inside 20:00-07:00 there (ending at 22:00 UTC), not in UTC.
    tokyo = Settings(quiet_start="20:00", quiet_end="07:00", timezone="Asia/Tokyo")
    utc = replace(tokyo, timezone="UTC")
    mention = said(mentions=frozenset({BOB}))
    (held,) = decide(mention, [person(settings=tokyo)], NOW)
    assert held.push_after == datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
    assert held.digest and held.media == (Medium.IN_APP, Medium.PUSH)
    (free,) = decide(mention, [person(settings=utc)], NOW)
    assert free.push_after == NOW and not free.digest
    (urgent,) = decide(replace(mention, urgent=True), [person(settings=tokyo)], NOW)
    assert urgent.push_after == NOW and urgent.urgent
    assert in_quiet_hours(Settings(quiet_start="11:00", quiet_end="13:00"), NOW)
    assert not in_quiet_hours(Settings(quiet_start="13:00", quiet_end="11:00"), NOW)


def test_do_not_disturb_without_an_end_drops_the_push_but_not_urgent() -> None:
    busy = person(presence=Presence(status="dnd", active=True))
    mention = said(mentions=frozenset({BOB}))
    (held,) = decide(mention, [busy], NOW)
    assert held.media == (Medium.IN_APP,) and held.digest and held.push_after is None
    (urgent,) = decide(replace(mention, urgent=True), [busy], NOW)
    assert Medium.PUSH in urgent.media and urgent.urgent


def test_do_not_disturb_with_an_end_holds_the_push_until_then() -> None:
    ends = NOW + timedelta(minutes=30)
    busy = person(presence=Presence(status="dnd", dnd_until=ends))
    mention = said(mentions=frozenset({BOB}))
    (held,) = decide(mention, [busy], NOW)
    assert held.media == (Medium.IN_APP, Medium.PUSH) and held.push_after == ends
    assert held.digest
    (urgent,) = decide(replace(mention, urgent=True), [busy], NOW)
    assert urgent.push_after == NOW and not urgent.digest


def test_do_not_disturb_and_quiet_hours_hold_until_the_later_end() -> None:
    quiet = Settings(quiet_start="11:00", quiet_end="13:00")  # ends 13:00 UTC
    mention = said(mentions=frozenset({BOB}))
    for dnd_end, held_to in (
        (NOW + timedelta(hours=3), NOW + timedelta(hours=3)),
        (NOW + timedelta(minutes=5), NOW + timedelta(hours=1)),
    ):
        busy = person(settings=quiet, presence=Presence(status="dnd", dnd_until=dnd_end))
        (held,) = decide(mention, [busy], NOW)
        assert held.push_after == held_to


def test_a_do_not_disturb_already_ended_holds_nothing() -> None:
    stale = person(presence=Presence(status="dnd", dnd_until=NOW - timedelta(seconds=1)))
    (free,) = decide(said(mentions=frozenset({BOB})), [stale], NOW)
    assert free.push_after == NOW and not free.digest


def test_one_who_blocked_the_actor_is_not_told() -> None:
    assert told(said(mentions=frozenset({BOB})), person(blocked_actor=True)) == {}


def test_preferences_gate_each_reason() -> None:
    no_mentions = person(settings=Settings(mentions=False))
    no_messages = person(settings=Settings(messages=False))
    no_reactions = person(settings=Settings(reactions=False))
    assert told(said(mentions=frozenset({BOB})), no_mentions) == {}
    assert told(said(mentions=frozenset({BOB})), no_messages) == {BOB: Reason.MENTION}
    assert told(said(channel_kind="direct"), no_messages) == {}
    reaction = Happening(kind=Kind.REACTION, source="r", actor=ALICE, addressed=frozenset({BOB}))
    assert told(reaction, no_reactions) == {}
    assert told(reaction, person()) == {BOB: Reason.REACTION}


def test_a_reaction_tells_only_the_messages_author() -> None:
    reaction = Happening(kind=Kind.REACTION, source="r", actor=ALICE, addressed=frozenset({BOB}))
    assert told(reaction, person(), person(CAROL)) == {BOB: Reason.REACTION}


def test_an_edit_tells_only_mentions_new_to_it() -> None:
    edit = said(
        kind=Kind.EDITED,
        mentions=frozenset({BOB, CAROL}),
        channel_kind="direct",
        told=frozenset({BOB}),
    )
    assert told(edit, person(), person(CAROL)) == {CAROL: Reason.MENTION}
    # In a direct conversation the edit itself tells nobody new.
    assert told(replace(edit, mentions=frozenset()), person(CAROL)) == {}


def test_a_thread_reply_tells_the_followers_but_the_replier() -> None:
    reply = Happening(
        kind=Kind.THREAD_REPLY,
        source="r1",
        actor=ALICE,
        addressed=frozenset({ALICE, BOB}),
    )
    assert told(reply, person(ALICE), person(), person(CAROL)) == {BOB: Reason.THREAD_REPLY}


def test_a_reminder_tells_its_owner_though_they_set_it() -> None:
    reminder = Happening(
        kind=Kind.REMINDER, source="rem.1", actor=None, addressed=frozenset({ALICE})
    )
    assert told(reminder, person(ALICE, member=False)) == {ALICE: Reason.REMINDER}


def test_media_in_app_and_push_always_email_unless_the_digest_is_off() -> None:
    mention = said(mentions=frozenset({BOB}))
    (off,) = decide(mention, [person()], NOW)
    assert off.media == (Medium.IN_APP, Medium.PUSH) and not off.digest
    (now,) = decide(mention, [person(settings=Settings(email_digest="immediately"))], NOW)
    assert now.media == (Medium.IN_APP, Medium.PUSH, Medium.EMAIL) and not now.digest
    (hourly,) = decide(mention, [person(settings=Settings(email_digest="hourly"))], NOW)
    assert Medium.EMAIL in hourly.media and hourly.digest


def test_push_waits_the_users_delay_only_while_a_desktop_is_active() -> None:
    mention = said(mentions=frozenset({BOB}))
    patient = Settings(push_delay_seconds=120)
    (active,) = decide(mention, [person(settings=patient, presence=Presence("online", True))], NOW)
    (away,) = decide(mention, [person(settings=patient, presence=Presence("away", False))], NOW)
    assert active.push_after == NOW + timedelta(seconds=120)
    assert away.push_after == NOW


def test_one_active_only_on_the_phone_gets_the_push_at_once() -> None:
    patient = Settings(push_delay_seconds=300)
    on_phone = person(settings=patient, presence=Presence("online", active=False))
    (now,) = decide(said(mentions=frozenset({BOB})), [on_phone], NOW)
    assert now.push_after == NOW


def test_the_push_switch_all_mentions_or_none() -> None:
    dm = said(channel_kind="direct")
    thread_reply = said(kind=Kind.THREAD_REPLY, addressed=frozenset({BOB}))
    mention = said(mentions=frozenset({BOB}))
    for push, pushed in (
        ("all", {"dm", "reply", "mention"}),
        ("mentions", {"dm", "mention"}),
        ("none", set()),
    ):
        who = person(settings=Settings(push=push))
        found = {
            name
            for name, happening in (("dm", dm), ("reply", thread_reply), ("mention", mention))
            for d in decide(happening, [who], NOW)
            if Medium.PUSH in d.media
        }
        assert found == pushed, push
        # In the inbox whatever the switch says.
        assert len(decide(thread_reply, [who], NOW)) == 1


def test_the_push_switch_off_leaves_no_push_time() -> None:
    silent_bob = person(settings=Settings(push="none"))
    (silent,) = decide(said(mentions=frozenset({BOB})), [silent_bob], NOW)
    assert silent.media == (Medium.IN_APP,) and silent.push_after is None


def test_the_email_switch_off_sends_no_email_whatever_the_digest() -> None:
    mention = said(mentions=frozenset({BOB}))
    (off,) = decide(mention, [person(settings=Settings(email=False, email_digest="hourly"))], NOW)
    assert Medium.EMAIL not in off.media
    (on,) = decide(mention, [person(settings=Settings(email=True, email_digest="hourly"))], NOW)
    assert Medium.EMAIL in on.media


def test_a_mention_edited_away_is_withdrawn_unless_another_reason_holds() -> None:
    edited = said("never mind", kind=Kind.EDITED, told=frozenset({BOB, CAROL}))
    was = {BOB: Reason.MENTION, CAROL: Reason.MENTION}
    assert withdrawn(edited, [person(), person(CAROL)], was) == [BOB, CAROL]
    # A keyword of Carol's still in the text keeps her notice; Bob still named keeps his.
    keeps = said("the deploy, @bob", kind=Kind.EDITED, mentions=frozenset({BOB}))
    carol = person(CAROL, settings=Settings(keywords=("deploy",)))
    assert withdrawn(keeps, [person(), carol], was) == []
    # Told of a direct message or a thread reply: the edit takes nothing back.
    direct = {BOB: Reason.DIRECT, CAROL: Reason.THREAD_REPLY}
    assert withdrawn(edited, [person(), person(CAROL)], direct) == []
    # @channel, or @here, still in the text names everyone still.
    assert withdrawn(said("@here", kind=Kind.EDITED), [person()], was) == []
    # A new message withdraws nothing.
    assert withdrawn(said("x"), [person()], was) == []


def test_a_thread_muted_until_later_tells_nothing_of_replies_until_then() -> None:
    reply = said(kind=Kind.THREAD_REPLY, addressed=frozenset({BOB}))
    muted = person(thread_muted_until=NOW + timedelta(hours=1))
    assert told(reply, muted) == {}
    assert told(reply, person(thread_muted_until=NOW - timedelta(seconds=1))) == {
        BOB: Reason.THREAD_REPLY
    }
    # A mention of them in the muted thread still tells them.
    assert told(replace(reply, mentions=frozenset({BOB})), muted) == {BOB: Reason.MENTION}


def test_a_notice_id_is_the_same_for_a_source_and_recipient_and_differs_otherwise() -> None:
    assert notice_id("m1", BOB) == notice_id("m1", BOB)
    assert len({notice_id("m1", BOB), notice_id("m1", CAROL), notice_id("m2", BOB)}) == 3


def test_a_channel_set_to_all_tells_of_every_new_top_level_message() -> None:
    everything = person(level="all")
    assert told(said(), everything, person(CAROL)) == {BOB: Reason.MESSAGE}
    assert told(said(reply=True), everything) == {}  # a reply is its followers' to hear of
    assert told(said(kind=Kind.EDITED), everything) == {}
    assert told(said(), person(level="all", settings=Settings(messages=False))) == {}


def test_every_message_of_a_channel_is_pushed_but_never_emailed() -> None:
    wants_mail = Settings(email_digest="immediately")
    (decision,) = decide(said(), [person(level="all", settings=wants_mail)], NOW)
    assert decision.media == (Medium.IN_APP, Medium.PUSH)
    (mention,) = decide(said(mentions=frozenset({BOB})), [person(settings=wants_mail)], NOW)
    assert Medium.EMAIL in mention.media


def test_a_channel_set_to_mentions_is_quiet_even_when_direct_but_names_still_tell() -> None:
    quiet = person(level="mentions")
    assert told(said(channel_kind="direct"), quiet) == {}
    assert told(said(mentions=frozenset({BOB}), channel_kind="direct"), quiet) == {
        BOB: Reason.MENTION
    }
    keyword = person(level="mentions", settings=Settings(keywords=("deploy",)))
    assert told(said("the deploy is done"), keyword) == {BOB: Reason.KEYWORD}


def test_a_channel_set_to_none_tells_nothing_not_even_a_mention_or_reaction() -> None:
    silent = person(level="none")
    assert told(said(mentions=frozenset({BOB}), mention_channel=True), silent) == {}
    reacted = said(kind=Kind.REACTION, addressed=frozenset({BOB}))
    assert told(reacted, silent) == {}


def test_ignoring_channel_mentions_leaves_at_channel_and_at_here_out_but_not_names() -> None:
    deaf = person(ignore_channel_mentions=True, presence=Presence(status="online"))
    assert told(said("@here look", mention_channel=True), deaf) == {}
    assert told(said("@channel look", mention_channel=True), deaf) == {}
    assert told(said(mentions=frozenset({BOB}), mention_channel=True), deaf) == {
        BOB: Reason.MENTION
    }


def test_an_at_channel_edited_in_does_not_keep_a_notice_for_one_who_ignores_it() -> None:
    edited = said("@channel now", kind=Kind.EDITED, mention_channel=True)
    deaf, hearing = person(ignore_channel_mentions=True), person(CAROL)
    was = {BOB: Reason.MENTION, CAROL: Reason.MENTION}
    assert withdrawn(edited, [deaf, hearing], was) == [BOB]


def test_urgent_goes_past_quiet_hours_only_for_those_it_names() -> None:
    night = Settings(quiet_start="00:00", quiet_end="23:59", timezone="UTC")
    urgent = said(mentions=frozenset({BOB}), urgent=True)
    named, reader = person(settings=night), person(CAROL, settings=night, level="all")
    by_user = {d.user_id: d for d in decide(urgent, [named, reader], NOW)}
    assert by_user[BOB].urgent and by_user[BOB].push_after == NOW
    assert not by_user[CAROL].urgent and by_user[CAROL].push_after is not None
    assert by_user[CAROL].push_after > NOW  # held until the quiet hours end


def test_presence_is_asked_only_of_those_a_message_could_concern() -> None:
    """Whoever has a reason whatever their presence: every other member can be told nothing,
    so a big channel's message that names nobody needs nobody's presence."""
    plain, keen = said(), person(CAROL, settings=Settings(keywords=("deploy",)))
    assert not could_concern(plain, person()) and not could_concern(plain, keen)
    assert could_concern(said(mentions=frozenset({BOB})), person())
    assert could_concern(said("@here lunch?", mention_channel=True), person())
    assert could_concern(said("deploy now"), keen)
    assert could_concern(plain, person(level="all"))
    assert could_concern(said(channel_kind="direct"), person())
    assert not could_concern(said(mentions=frozenset({BOB})), person(level="none"))
    # Asking only them decides as asking everyone would.
    everyone = [person(), keen, person("dan", level="all")]
    for happening in (plain, said("deploy"), said("@here", mention_channel=True)):
        asked = [c for c in everyone if could_concern(happening, c)]
        assert told(happening, *asked) == told(happening, *everyone)
