"""Small views that belong to no domain app."""

from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.http import require_GET

DB_UNAVAILABLE = "The database is unavailable; retry shortly."
# Written out here, not rendered from a template: base.html's context processors and the
# signed-in user would need the very database that is down.
DB_UNAVAILABLE_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Beacon: database unavailable</title>"
    "<h1>The database is unavailable</h1><p>Beacon cannot reach its database right now. "
    "Nothing you sent was saved by this request; retry in a few seconds. If this lasts, tell "
    "the system administrator.</p></html>"
)


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database readiness for load balancers and compose health checks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "degraded", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database outage is a 503 with a plain reason; anything else a bare 500.

    Django calls this from inside its exception handler, so the exception is in
    ``sys.exc_info()``. The middleware (sessions, sign-in checks) reads the database before any
    view runs, which is why the API's own handler cannot be the only translation.
    """
    error = sys.exc_info()[1]
    wants_json = request.path.startswith("/api/") or request.path.endswith(".json")
    if isinstance(error, OperationalError | InterfaceError):
        if wants_json:
            return JsonResponse(
                {"detail": DB_UNAVAILABLE}, status=503, headers={"Retry-After": "5"}
            )
        return HttpResponse(DB_UNAVAILABLE_PAGE, status=503, headers={"Retry-After": "5"})
    if wants_json:
        return JsonResponse({"detail": "Server error."}, status=500)
    return HttpResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Beacon: server error</title>"
        "<h1>Server error</h1><p>The error has been logged.</p></html>",
        status=500,
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 page, or for an API path (``/api/v1/calls/abc/``) the API's JSON answer.

    URL patterns that do not match (a non-numeric id) never reach DRF, so API clients got an HTML
    page where the schema promises ``{"detail": ...}``.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
