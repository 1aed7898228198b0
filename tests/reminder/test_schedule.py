"""Repeating reminders keep their local clock time in their zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from quckchat.reminder.schedule import first_occurrence, next_occurrence

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_daily_keeps_nine_in_the_morning_across_the_spring_change() -> None:
    # 2026-03-28 09:00 in Berlin is 08:00 UTC; after the change on the 29th it is 07:00 UTC.
    previous = utc(2026, 3, 28, 8, 0)
    upcoming = next_occurrence(
        previous=previous, after=previous, repeat="daily", zone=BERLIN, wall=time(9, 0)
    )
    assert upcoming == utc(2026, 3, 29, 7, 0)
    assert upcoming.astimezone(BERLIN).hour == 9


def test_daily_keeps_its_time_across_the_autumn_change() -> None:
    previous = utc(2026, 10, 24, 7, 30)  # 09:30 CEST
    upcoming = next_occurrence(
        previous=previous, after=previous, repeat="daily", zone=BERLIN, wall=time(9, 30)
    )
    assert upcoming == utc(2026, 10, 25, 8, 30)  # 09:30 CET


def test_weekdays_skip_the_weekend_and_start_on_a_weekday() -> None:
    friday = utc(2026, 11, 20, 14, 0)  # 09:00 in New York
    upcoming = next_occurrence(
        previous=friday, after=friday, repeat="weekdays", zone=NEW_YORK, wall=time(9, 0)
    )
    assert upcoming == utc(2026, 11, 23, 14, 0)  # Monday
    saturday = utc(2026, 11, 21, 14, 0)
    assert first_occurrence(saturday, "weekdays", NEW_YORK) == utc(2026, 11, 23, 14, 0)
    assert first_occurrence(saturday, "daily", NEW_YORK) == saturday
    assert first_occurrence(saturday, None, NEW_YORK) == saturday


def test_weekly_keeps_the_weekday_across_a_change() -> None:
    previous = utc(2026, 10, 27, 13, 0)  # Tuesday 09:00 EDT
    upcoming = next_occurrence(
        previous=previous, after=previous, repeat="weekly", zone=NEW_YORK, wall=time(9, 0)
    )
    assert upcoming == utc(2026, 11, 3, 14, 0)  # Tuesday 09:00 EST
    assert upcoming.astimezone(NEW_YORK).weekday() == 1


def test_a_clock_time_the_change_skips_fires_just_after_it() -> None:
    # 02:30 does not exist in New York on 2026-03-08: that day it fires at 03:30 EDT.
    previous = utc(2026, 3, 7, 7, 30)
    wall = time(2, 30)
    skipped = next_occurrence(
        previous=previous, after=previous, repeat="daily", zone=NEW_YORK, wall=wall
    )
    assert skipped == utc(2026, 3, 8, 7, 30)
    assert skipped.astimezone(NEW_YORK).hour == 3
    following = next_occurrence(
        previous=skipped, after=skipped, repeat="daily", zone=NEW_YORK, wall=wall
    )
    assert following.astimezone(NEW_YORK).time() == wall


def test_occurrences_missed_while_down_are_skipped_not_replayed() -> None:
    previous = utc(2026, 1, 5, 8, 0)
    now = utc(2026, 2, 10, 12, 0)
    upcoming = next_occurrence(
        previous=previous, after=now, repeat="daily", zone=BERLIN, wall=time(9, 0)
    )
    assert upcoming == utc(2026, 2, 11, 8, 0)
