"""The search query language, parsed by a pure function.

`deploy "release notes" from:U1 in:C1 has:link has:file is:thread before:2026-01-31
after:2026-01-01 on:2026-01-15`: words and "exact phrases" must all appear; operators narrow.
Days are UTC; `before:` and `after:` exclude the day they name, `on:` is that day.
A `from:@handle` is taken as the user id after the `@`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from quckchat.core.search import SearchQuery, micros, tokens

MAX_TERMS = 32
_PART = re.compile(r'"([^"]*)"?|(\S+)')
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
HAS = frozenset({"link", "file"})
OPERATORS = frozenset({"from", "in", "has", "is", "before", "after", "on"})


class QueryError(ValueError):
    """The query cannot be understood; the message says which part and why."""


def _day(value: str, operator: str) -> int:
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise QueryError(f"{operator}: wants a date as YYYY-MM-DD, not {value!r}")
    return micros(datetime(day.year, day.month, day.day, tzinfo=UTC))


def _id(value: str, operator: str) -> str:
    if not _ID.match(value):
        raise QueryError(f"{operator}: wants an id, not {value!r}")
    return value


def parse(text: str) -> SearchQuery:
    """The query the text asks; QueryError for an operator it cannot take."""
    words: list[str] = []
    phrases: list[str] = []
    senders: list[str] = []
    channels: list[str] = []
    flags: set[str] = set()
    since: int | None = None
    until: int | None = None
    day = timedelta(days=1)
    for match in _PART.finditer(text):
        phrase, part = match.group(1), match.group(2)
        if phrase is not None:
            if tokens(phrase):
                phrases.append(" ".join(tokens(phrase)))
            continue
        operator, sep, value = part.partition(":")
        operator = operator.lower()
        if not sep or not value or operator not in OPERATORS:
            words.extend(tokens(part))
            continue
        if operator == "from":
            senders.append(_id(value.removeprefix("@"), "from"))
        elif operator == "in":
            channels.append(_id(value.removeprefix("#"), "in"))
        elif operator == "has":
            if value.lower() not in HAS:
                raise QueryError(f"has: takes link or file, not {value!r}")
            flags.add(f"has_{value.lower()}")
        elif operator == "is":
            if value.lower() != "thread":
                raise QueryError(f"is: takes thread, not {value!r}")
            flags.add("is_thread")
        else:
            start = _day(value, operator)
            end = start + int(day.total_seconds() * 1_000_000)
            if operator == "before":
                until = start if until is None else min(until, start)
            elif operator == "after":
                since = end if since is None else max(since, end)
            else:
                since = start if since is None else max(since, start)
                until = end if until is None else min(until, end)
    if len(words) + len(phrases) > MAX_TERMS:
        raise QueryError(f"at most {MAX_TERMS} words and phrases")
    return SearchQuery(
        words=tuple(dict.fromkeys(words)),
        phrases=tuple(dict.fromkeys(phrases)),
        senders=tuple(dict.fromkeys(senders)),
        channels=tuple(dict.fromkeys(channels)),
        has_link="has_link" in flags,
        has_file="has_file" in flags,
        is_thread="is_thread" in flags,
        since=since,
        until=until,
    )
