"""What every CAP module shares: the namespaces and the one refusal type."""

from __future__ import annotations

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"


class CapError(ValueError):
    """An alert refused: ``field`` is what is wrong, ``reason`` says why, ``line`` where."""

    def __init__(self, reason: str, *, field: str = "xml", line: int | None = None) -> None:
        self.reason = reason
        self.field = field
        self.line = line
        super().__init__(f"line {line}: {reason}" if line else reason)
