"""Domain errors raised by services and translated once per interface (API, pages, websocket)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the domain refuses, with the field it concerns and why.

    ``errors`` maps a field name (or ``"non_field_errors"``) to a list of messages,
    the same shape DRF and Django forms use, so every interface can show it as is.
    """

    status_code = 400

    def __init__(self, errors: dict[str, list[str]] | str, *, field: str | None = None) -> None:
        if isinstance(errors, str):
            errors = {field or "non_field_errors": [errors]}
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class ConflictError(DomainError):
    """Contested work already claimed by someone else; carries the current state."""

    status_code = 409

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        current: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.current = current or {}


class NotFoundError(Exception):
    """The record does not exist, or the caller may not see it (the two look the same)."""
