"""Who is told of one thing, why, on which media and when: a pure function of what happened
and what the services said about each candidate, so every rule is tested without servers.

The consumer gathers the inputs (members, settings, presence, blocks) through the callees'
clients, calls `decide`, and stores what comes out once per `notice_id`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from quckchat.notification_orchestrator.events import Medium, Reason

# The digest settings that send email at once (every other one but "off" is a digest).
DIGEST_OFF, DIGEST_NOW = "off", "immediately"
# The push switch: everything, only what names the user (see PERSONAL), or nothing.
PUSH_ALL, PUSH_MENTIONS, PUSH_NONE = "all", "mentions", "none"
# A member's level in one channel (the channel service's `NotifyLevel`).
LEVEL_DEFAULT, LEVEL_ALL, LEVEL_MENTIONS, LEVEL_NONE = "default", "all", "mentions", "none"
DIRECT_KINDS = frozenset({"direct", "group"})
# As the message service reads them: its `mention_channel` is set by any of the three.
HERE = re.compile(r"(?<![\w@])@here\b")
EVERYONE = re.compile(r"(?<![\w@])@(channel|everyone)\b")
# A word boundary that also holds for keywords beginning or ending with a symbol.
_EDGE = r"(?<![\w])"


class Kind(StrEnum):
    CREATED = "created"  # a new message
    EDITED = "edited"  # a message's new text: only what is new to it notifies
    THREAD_REPLY = "thread_reply"
    REACTION = "reaction"
    REMINDER = "reminder"


# The preference that gates each reason (`Settings` field names).
GATE: dict[Reason, str] = {
    Reason.MENTION: "mentions",
    Reason.KEYWORD: "mentions",
    Reason.DIRECT: "messages",
    Reason.MESSAGE: "messages",
    Reason.THREAD_REPLY: "messages",
    Reason.REACTION: "reactions",
    Reason.CALL: "calls",
}
# What is about the user themselves: pushed under the push switch's "mentions" too.
PERSONAL = frozenset({Reason.MENTION, Reason.KEYWORD, Reason.DIRECT, Reason.REMINDER, Reason.CALL})
# What an edit can take back: a notice told for a mention or keyword no longer in the text.
WITHDRAWABLE = frozenset({Reason.MENTION, Reason.KEYWORD})


@dataclass(frozen=True)
class Settings:
    """A user's notification settings, as the user service keeps them."""

    messages: bool = True
    mentions: bool = True
    reactions: bool = True
    calls: bool = True
    keywords: tuple[str, ...] = ()
    push_delay_seconds: int = 0
    push: str = PUSH_ALL
    email: bool = True  # the email switch; `email_digest` says how often
    email_digest: str = DIGEST_OFF
    quiet_start: str | None = None  # HH:MM in `timezone`
    quiet_end: str | None = None
    timezone: str | None = None

    def allows(self, reason: Reason) -> bool:
        gate = GATE.get(reason)
        return gate is None or bool(getattr(self, gate))

    def pushes(self, reason: Reason) -> bool:
        return self.push == PUSH_ALL or (self.push == PUSH_MENTIONS and reason in PERSONAL)

    @property
    def emails(self) -> bool:
        return self.email and self.email_digest != DIGEST_OFF


@dataclass(frozen=True)
class Presence:
    status: str = "offline"  # online, away, dnd, offline
    active: bool = False  # a desktop or web client was in use lately (a phone never counts)
    dnd_until: datetime | None = None  # in do-not-disturb: when it ends (None: no end set)


@dataclass(frozen=True)
class Candidate:
    """One person who may be told, with what the services said about them."""

    user_id: str
    member: bool = True
    muted_until: datetime | None = None  # a mute without end is far in the future
    # Of the thread replied in: its replies tell nothing until then (a mention still does).
    thread_muted_until: datetime | None = None
    settings: Settings = field(default_factory=Settings)
    presence: Presence = field(default_factory=Presence)
    blocked_actor: bool = False
    # Their level in the channel, and whether @channel, @everyone and @here name them there.
    level: str = LEVEL_DEFAULT
    ignore_channel_mentions: bool = False


@dataclass(frozen=True)
class Happening:
    """What happened, as the event said it."""

    kind: Kind
    source: str  # the notice's source: a message id, a reaction's, a reminder occurrence's
    actor: str | None
    channel_kind: str = "public"
    text: str = ""
    mentions: frozenset[str] = frozenset()
    mention_channel: bool = False
    # Those the event names for its kind: thread followers, the reacted message's author, the
    # reminder's owner (everyone else is found through mentions and keywords).
    addressed: frozenset[str] = frozenset()
    # Told already of this source (an edit tells only the others).
    told: frozenset[str] = frozenset()
    urgent: bool = False
    reply: bool = False  # a message in a thread (its followers hear of it as a thread reply)

    @property
    def direct(self) -> bool:
        return self.channel_kind in DIRECT_KINDS

    @property
    def mentions_here(self) -> bool:
        return HERE.search(self.text) is not None

    @property
    def mentions_everyone(self) -> bool:
        """`@channel` or `@everyone`: the message's flag, unless its text called only `@here`."""
        return self.mention_channel and (
            EVERYONE.search(self.text) is not None or not self.mentions_here
        )


@dataclass(frozen=True)
class Decision:
    user_id: str
    reason: Reason
    media: tuple[Medium, ...]
    push_after: datetime | None
    digest: bool
    urgent: bool


def notice_id(source: str, user_id: str) -> str:
    """The same for every redelivery and replica: the source and the recipient, hashed."""
    return hashlib.sha256(f"{source}\x00{user_id}".encode()).hexdigest()[:32]


def has_keyword(text: str, keywords: tuple[str, ...]) -> bool:
    lowered = text.casefold()
    for word in keywords:
        word = word.strip().casefold()
        if word and re.search(_EDGE + re.escape(word) + r"(?![\w])", lowered):
            return True
    return False


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet_hours(settings: Settings, now: datetime) -> bool:
    return quiet_until(settings, now) is not None


def quiet_until(settings: Settings, now: datetime) -> datetime | None:
    """When the user's quiet hours (in their time zone, spanning midnight when the end comes
    before the start) end, if `now` falls in them; else None."""
    if settings.quiet_start is None or settings.quiet_end is None:
        return None
    local = now.astimezone(_zone(settings.timezone))
    clock = local.time().replace(second=0, microsecond=0)
    start, end = time.fromisoformat(settings.quiet_start), time.fromisoformat(settings.quiet_end)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
    if ends <= local:
        ends += timedelta(days=1)  # wall-clock arithmetic: the same HH:MM the next day
    return ends.astimezone(UTC)


def reason_for(happening: Happening, candidate: Candidate) -> Reason | None:
    """Why this candidate would be told, before their settings have a say; None: not at all."""
    user, settings = candidate.user_id, candidate.settings
    if happening.kind is Kind.REMINDER:
        return Reason.REMINDER if user in happening.addressed else None
    if candidate.level == LEVEL_NONE:
        return None
    if happening.kind is Kind.REACTION:
        return Reason.REACTION if user in happening.addressed else None
    everyone = not candidate.ignore_channel_mentions and (
        happening.mentions_everyone
        or (happening.mentions_here and candidate.presence.status == "online")
    )
    if user in happening.mentions or everyone:
        return Reason.MENTION
    if has_keyword(happening.text, settings.keywords):
        return Reason.KEYWORD
    if happening.kind is Kind.EDITED or candidate.level == LEVEL_MENTIONS:
        return None  # an edit tells only of what names someone newly; so does this level
    if happening.direct:
        return Reason.DIRECT
    if happening.kind is Kind.THREAD_REPLY and user in happening.addressed:
        return Reason.THREAD_REPLY
    if happening.kind is Kind.CREATED and not happening.reply and candidate.level == LEVEL_ALL:
        return Reason.MESSAGE
    return None


def could_concern(happening: Happening, candidate: Candidate) -> bool:
    """Whether the candidate has a reason to be told whatever their presence (which only an
    @here and the timing of a push depend on): else nobody need ask where they are."""
    here = replace(candidate, presence=Presence(status="online"))
    return reason_for(happening, here) is not None


def _muted(until: datetime | None, now: datetime) -> bool:
    return until is not None and until > now


def held_until(candidate: Candidate, now: datetime) -> tuple[bool, datetime | None]:
    """Whether quiet hours or do-not-disturb hold the push, and until when (None: a
    do-not-disturb without end, the push is dropped)."""
    quiet = quiet_until(candidate.settings, now)
    presence = candidate.presence
    ended = presence.dnd_until is not None and presence.dnd_until <= now
    if presence.status != "dnd" or ended:
        return quiet is not None, quiet
    if presence.dnd_until is None:
        return True, None
    return True, max(presence.dnd_until, quiet or presence.dnd_until)


def decide_one(happening: Happening, candidate: Candidate, now: datetime) -> Decision | None:
    user = candidate.user_id
    if user == happening.actor or user in happening.told:
        return None
    if happening.kind is not Kind.REMINDER and not candidate.member:
        return None
    if candidate.blocked_actor or _muted(candidate.muted_until, now):
        return None
    reason = reason_for(happening, candidate)
    if reason is None or not candidate.settings.allows(reason):
        return None
    if reason is Reason.THREAD_REPLY and _muted(candidate.thread_muted_until, now):
        return None
    settings, presence = candidate.settings, candidate.presence
    # Urgent is for those it names (or writes to directly), not every reader of the channel.
    urgent = happening.urgent and reason in PERSONAL
    # Quiet hours and do-not-disturb hold the push until they end (one without end drops
    # it); either way the inbox has it and email waits for the digest. Urgent goes past both.
    held, until = (False, None) if urgent else held_until(candidate, now)
    media = [Medium.IN_APP]
    push_after = None
    if settings.pushes(reason) and not (held and until is None):
        media.append(Medium.PUSH)
        # A push waits while a desktop may show it; one active only on the phone gets it now.
        delay = settings.push_delay_seconds if presence.active else 0
        push_after = until or now + timedelta(seconds=max(0, delay))
    # Email is for what concerns the user: every message of a busy channel would flood it.
    if settings.emails and reason is not Reason.MESSAGE:
        media.append(Medium.EMAIL)
    return Decision(
        user_id=user,
        reason=reason,
        media=tuple(media),
        push_after=push_after,
        digest=settings.email_digest not in (DIGEST_OFF, DIGEST_NOW) or held,
        urgent=urgent,
    )


def still_named(happening: Happening, candidate: Candidate) -> bool:
    """Whether the (edited) text still names the candidate: a mention of them, of everyone
    or of those here (whoever is here now; unless they ignore both), or one of their
    keywords."""
    everyone = happening.mentions_everyone or happening.mentions_here
    return (
        candidate.user_id in happening.mentions
        or (everyone and not candidate.ignore_channel_mentions)
        or has_keyword(happening.text, candidate.settings.keywords)
    )


def withdrawn(
    happening: Happening, candidates: list[Candidate], told: Mapping[str, Reason]
) -> list[str]:
    """After an edit: who was told only of a mention or keyword the new text no longer holds
    (told of a direct message, a thread reply or a reaction, they keep it), in user order."""
    if happening.kind is not Kind.EDITED:
        return []
    return sorted(
        c.user_id
        for c in candidates
        if told.get(c.user_id) in WITHDRAWABLE and not still_named(happening, c)
    )


def decide(happening: Happening, candidates: list[Candidate], now: datetime) -> list[Decision]:
    """The decisions for one happening, one at most per candidate, in the candidates' order."""
    found = (decide_one(happening, c, now) for c in candidates)
    return [d for d in found if d is not None]
