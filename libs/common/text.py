"""Text the stores can keep: no control characters, no lone surrogates.

PostgreSQL refuses NUL in ``text`` (``invalid byte sequence for encoding "UTF8": 0x00``) and
UTF-8 cannot encode a lone surrogate (JSON's ``"\\ud800"``): either, accepted at the door, would
fail in a consumer. The other C0 and C1 control characters and DEL would be kept but mean
nothing in a name or a note and break the CSV, e-mail and HTML they are written into. So they
are refused wherever text comes in; only a note (free text, possibly pasted from a letter) may
carry tab, line feed and carriage return.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_FORBIDDEN_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FORBIDDEN_IN_NOTE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _name(character: str) -> str:
    code = ord(character)
    kind = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    return f"{kind} (U+{code:04X})"


def forbidden_in_line(text: str) -> str | None:
    """What makes ``text`` unfit for a code, name or other one-line field, or None if fit."""
    found = _FORBIDDEN_IN_LINE.search(text)
    return None if found is None else f"{_name(found.group())} at position {found.start()}"


def forbidden_in_note(text: str) -> str | None:
    """What makes ``text`` unfit for a note (tab and line breaks allowed), or None if fit."""
    found = _FORBIDDEN_IN_NOTE.search(text)
    return None if found is None else f"{_name(found.group())} at position {found.start()}"


def _line(text: str) -> str:
    problem = forbidden_in_line(text)
    if problem is not None:
        raise ValueError(f"text may not contain {problem}")
    return text


def _note(text: str) -> str:
    problem = forbidden_in_note(text)
    if problem is not None:
        raise ValueError(f"text may not contain {problem}")
    return text


#: A one-line text field of a request body (names, codes, labels).
LineText = Annotated[str, AfterValidator(_line)]
#: A free-text field of a request body (notes): tab and line breaks allowed.
NoteText = Annotated[str, AfterValidator(_note)]
