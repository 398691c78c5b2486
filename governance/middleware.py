"""Login required for every page unless a view opts out with ``login_not_required``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest

# The API authenticates inside DRF (tokens are invisible to this middleware) and
# answers 401/403 itself; static files and the schema docs are not pages.
EXEMPT_PREFIXES = ("/api/", "/static/", "/healthz")


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Django's login-required middleware, leaving the API to DRF's own authentication."""

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> Any:
        if request.path.startswith(EXEMPT_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class AuditRequestMiddleware:
    """Lets ``governance.audit.record`` find the client address of the request being served,
    and records a signed-in user's refused request (403, or a need-to-know 404) once it is answered.

    Services are called with domain arguments, not requests; without this, an event recorded
    deep in a service (a finding decision) would lose the IP and user agent CJIS asks for.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        from governance.audit import bound_request, record_refusal

        with bound_request(request):
            response = self.get_response(request)
            # After the view and outside its transactions: a refusal rolled back with the
            # view's work would leave no trace.
            record_refusal(request, response)
            return response
