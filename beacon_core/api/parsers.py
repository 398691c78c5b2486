"""Request parsers that turn every malformed body into a 400."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, plus a 400 for two kinds of JSON Python accepts but cannot handle.

    * ``json`` raises ``RecursionError`` (not ``ValueError``) on a few kilobytes
      of ``[[[[...``, which DRF lets through as a 500;
    * an escaped lone surrogate (``"\\ud800"``) decodes to a string that cannot
      be encoded as UTF-8, so any answer that echoes it (a "not a valid
      choice" message) or stores it crashes later. It is refused at the door.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        except UnicodeEncodeError:
            raise ParseError("JSON parse error - text contains an unpaired surrogate.") from None
        return data
