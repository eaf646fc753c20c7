"""Griffe extension that turns the reStructuredText markup of medrecord's docstrings into Markdown.

The docstrings use Sphinx roles (``:class:`~medrecord.departments.Department```) and ``::``
before literal blocks, which mkdocstrings would print as they are. A role becomes a code
span with the name as written (the last part only, after ``~``), and ``::`` at the end of a
line becomes ``:``. The indented block that follows is already a Markdown code block.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj):`(~?)([^`]+)`")
_LITERAL_BLOCK_MARKER = re.compile(r"::$", re.MULTILINE)


def _convert_role(match: re.Match[str]) -> str:
    shorten, target = match.group(1), match.group(2)
    name = target.rsplit(".", 1)[-1] if shorten else target
    return f"`{name}`"


def convert_rest_markup(text: str) -> str:
    """Return docstring text with Sphinx roles and literal block markers in Markdown."""
    text = _ROLE.sub(_convert_role, text)
    return _LITERAL_BLOCK_MARKER.sub(":", text)


class RestMarkup(griffe.Extension):
    """Convert the docstring of every object as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert_rest_markup(obj.docstring.value)
