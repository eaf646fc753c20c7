"""The description of one department, as a plugin provides it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from medrecord.state.schema import AgentState

__all__ = ["REQUIRED_LOCALES", "Department"]

REQUIRED_LOCALES = ("zh-CN", "en")

_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")


@dataclass(frozen=True)
class Department:
    """A department (科室) and everything the library needs to serve it.

    ``code`` is the value stored in ``sessions.agent_type``; ``event_agent_type`` the value
    stored in ``medical_events.agent_type`` (the short enum clients know, such as
    ``"derma"``). ``aliases`` are other names clients send for the department.
    ``template_package`` names the package whose ``templates/`` folder contains the
    department's record templates; without one the core templates are used.
    """

    code: str
    event_agent_type: str
    display_names: Mapping[str, str]
    state_schema: type[AgentState] = AgentState
    aliases: tuple[str, ...] = ()
    template_package: str | None = None
    description: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _CODE_PATTERN.match(self.code):
            raise ValueError(
                f"invalid department code {self.code!r}: use lowercase ASCII letters, digits, "
                "'-' or '_', starting with a letter, at most 50 characters"
            )

        if not self.event_agent_type or len(self.event_agent_type) > 50:
            raise ValueError(
                f"invalid event_agent_type {self.event_agent_type!r} for department "
                f"{self.code!r}: use a non-empty value of at most 50 characters"
            )

        missing = [locale for locale in REQUIRED_LOCALES if not self.display_names.get(locale)]
        if missing:
            raise ValueError(
                f"department {self.code!r} has no display name for locale(s) "
                f"{', '.join(missing)}; add them to display_names"
            )

        if not (isinstance(self.state_schema, type) and issubclass(self.state_schema, AgentState)):
            raise ValueError(
                f"state_schema of department {self.code!r} must be a subclass of AgentState, "
                f"got {self.state_schema!r}"
            )

        aliases = tuple(alias.strip() for alias in self.aliases)
        if not all(aliases):
            raise ValueError(f"department {self.code!r} has an empty alias; remove it")
        object.__setattr__(self, "aliases", aliases)

    def display_name(self, locale: str) -> str:
        """Return the display name for a locale, or for its language, or else the zh-CN one."""
        return (
            self.display_names.get(locale)
            or self.display_names.get(locale.split("-")[0])
            or self.display_names["zh-CN"]
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The code and every alias, as matched when resolving (case-insensitive)."""
        return (self.code, *self.aliases)
