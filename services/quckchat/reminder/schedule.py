"""When a repeating reminder comes next: same local clock time, stepped in local days. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

STEP_DAYS = {"daily": 1, "weekdays": 1, "weekly": 7}


def _at(day: date, wall: time, zone: ZoneInfo) -> datetime:
    # A clock time a DST change skips resolves with the offset before the change (PEP 495).
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _allowed(day: date, repeat: str) -> bool:
    return repeat != "weekdays" or day.weekday() < 5


def next_occurrence(
    *, previous: datetime, after: datetime, repeat: str, zone: ZoneInfo, wall: time
) -> datetime:
    """The series' first occurrence later than `after`, counting on from `previous`."""
    day = previous.astimezone(zone).date()
    step = timedelta(days=STEP_DAYS[repeat])
    while True:
        day += step
        if _allowed(day, repeat) and (candidate := _at(day, wall, zone)) > after:
            return candidate


def first_occurrence(due: datetime, repeat: str | None, zone: ZoneInfo) -> datetime:
    """When a series starts: `due`, or for weekdays the first weekday from it, same time."""
    local = due.astimezone(zone)
    if repeat is None or _allowed(local.date(), repeat):
        return due
    return next_occurrence(previous=due, after=due, repeat=repeat, zone=zone, wall=local.time())
