"""CSV cells that spreadsheet programs open as text, and a write-through file for streaming."""

from __future__ import annotations

from typing import Any

# Spreadsheet programs run cells starting with these as formulas (CSV/formula injection). Many
# exported texts are typed by someone outside our control (a failed sign-in's username, an
# address given by a caller), so such cells get a leading apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """The value as CSV text that a spreadsheet shows instead of evaluating."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class Echo:
    """A write-through 'file' for csv.writer: each row is yielded to the response as written."""

    def write(self, value: str) -> str:
        return value
