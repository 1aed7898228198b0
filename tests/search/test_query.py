"""The query language, as a pure function."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quckchat.core.search import SearchQuery, highlight, micros, normalized
from quckchat.search.query import QueryError, parse


def day(text: str) -> int:
    return micros(datetime.fromisoformat(text).replace(tzinfo=UTC))


def test_words_are_lowercase_tokens() -> None:
    assert parse("Deploy the API!") == SearchQuery(words=("deploy", "the", "api"))


def test_phrases_keep_their_order() -> None:
    query = parse('ship "Release Notes" now')
    assert query.words == ("ship", "now")
    assert query.phrases == ("release notes",)


def test_an_unclosed_quote_runs_to_the_end() -> None:
    assert parse('"half open').phrases == ("half open",)


def test_operators() -> None:
    query = parse("from:U1 from:@bob in:C9 in:#C8 has:link has:FILE is:thread x")
    assert query.senders == ("U1", "bob")
    assert query.channels == ("C9", "C8")
    assert (query.has_link, query.has_file, query.is_thread) == (True, True, True)
    assert query.words == ("x",)


def test_days_are_utc_and_before_after_exclude_the_day() -> None:
    assert parse("before:2026-03-02").until == day("2026-03-02")
    assert parse("after:2026-03-02").since == day("2026-03-03")
    on = parse("on:2026-03-02")
    assert (on.since, on.until) == (day("2026-03-02"), day("2026-03-03"))
    both = parse("after:2026-03-01 before:2026-03-05 before:2026-03-04")
    assert (both.since, both.until) == (day("2026-03-02"), day("2026-03-04"))


def test_an_unknown_operator_is_a_word() -> None:
    assert parse("http://example.com at:noon").words == ("http", "example", "com", "at", "noon")


@pytest.mark.parametrize(
    "text",
    [
        "before:notadate",
        "after:2026-13-01",
        "on:2026-1-1",
        "has:picture",
        "is:pinned",
        "from:bad/id",
        "in:" + "c" * 65,
        " ".join(f"w{i}" for i in range(40)),
    ],
)
def test_bad_queries(text: str) -> None:
    with pytest.raises(QueryError):
        parse(text)


def test_normalized_text_pads_tokens() -> None:
    assert normalized("Hello, World!  foo_bar") == " hello world foo_bar "


def test_highlight_marks_words_and_phrases_and_escapes() -> None:
    query = parse('deploy "release notes"')
    snippet = highlight("<b>Deploy</b> the Release  notes; redeploy later", query)
    assert snippet == (
        "&lt;b&gt;<mark>Deploy</mark>&lt;/b&gt; the <mark>Release  notes</mark>; redeploy later"
    )


def test_highlight_centres_on_the_first_match() -> None:
    snippet = highlight("x " * 500 + "needle", parse("needle"), size=100)
    assert snippet.endswith("<mark>needle</mark>")
    assert len(snippet) < 200
