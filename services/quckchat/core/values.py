"""Value types more than one service takes from clients: ids, emoji, time zones, partial
updates. A service's own types stay in its schemas; these live here so that no service imports
another's."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

# The ids the messaging services mint and take (messages, channels, workspaces, users); the
# first character is a letter or digit, so no id is a path's `.` or `..`.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
# A shortcode (`:thumbsup:`, `:+1:`) or a short run of emoji characters; never `.`/`$`.
EMOJI_PATTERN = r"^(:[a-z0-9_+-]{1,40}:|[^\x00-\x7f]{1,16})$"

Id = Annotated[str, Field(pattern=ID_PATTERN)]
# What members, messages and lists show for a user (the user service keeps it; auth takes it
# at sign-up).
DISPLAY_NAME_LENGTH = 80
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=DISPLAY_NAME_LENGTH)
]
Emoji = Annotated[str, Field(pattern=EMOJI_PATTERN)]


@functools.cache
def _zone_names() -> frozenset[str]:
    # "localtime" is the host's zone, not an IANA name, though some hosts list it.
    return frozenset(zoneinfo.available_timezones() - {"localtime", "posixrules"})


def _iana_zone(name: str) -> str:
    if name not in _zone_names():
        raise ValueError("not an IANA time zone name (like Europe/Berlin)")
    return name


TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_iana_zone)]


class Patch(BaseModel):
    """A partial update: absent fields stay; null clears only the fields that may be empty."""

    model_config = ConfigDict(extra="forbid")
    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _null_only_where_allowed(self) -> Self:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name} may not be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, with their validated values (nested patches as their
        own changes)."""
        values = {name: getattr(self, name) for name in self.model_fields_set}
        return {n: v.changes() if isinstance(v, Patch) else v for n, v in values.items()}
