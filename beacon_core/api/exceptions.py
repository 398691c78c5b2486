"""One place that turns domain and database errors into API answers (never a 500 for bad input)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, IntegrityError, OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from beacon_core.errors import ConflictError, DomainError, NotFoundError

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Translate domain errors to 400/404/409 and database outages to 503."""
    if isinstance(exc, ConflictError):
        body: dict[str, Any] = dict(exc.errors)
        if exc.current:
            body["current"] = exc.current
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DomainError):
        return Response(exc.errors, status=exc.status_code)
    if isinstance(exc, NotFoundError):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoValidationError):
        return Response(_django_errors(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        logger.warning("integrity error answered as 409: %s", exc)
        return Response(
            {"non_field_errors": ["The change conflicts with existing data."]},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DataError):
        # Input the database cannot store (NUL bytes, out-of-range numbers) is the client's error.
        return Response(
            {
                "non_field_errors": [
                    "A value cannot be stored (invalid characters or out of range)."
                ]
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, OperationalError | DatabaseError):
        logger.error("database unavailable: %s", exc)
        return Response(
            {"detail": "The database is unavailable; retry shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    return drf_exception_handler(exc, context)


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}
