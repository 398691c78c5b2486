"""The page for a transfer in: a dispatcher uploads the EIDO document a neighbouring CAD sent and
gets the new call (or the one already taken in for that incident). The API does the same at
``POST /api/v1/calls/import-eido/``; both go through ``dispatch.eido.transfer.take_in``."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from beacon_core.errors import DomainError
from dispatch.eido import transfer
from governance.access import can, user_agency_id
from governance.choices import Action, Category
from governance.models import Agency

TEMPLATE = "dispatch/eido_import.html"


@require_http_methods(["GET", "POST"])
def eido_import_page(request: HttpRequest) -> HttpResponse:
    """Upload form (GET) and the transfer itself (POST); errors name the document's JSON path."""
    agency_id = user_agency_id(request.user)
    if not can(request.user, Action.CREATE, Category.CALL) or agency_id is None:
        raise PermissionDenied
    context = {"max_bytes": settings.BEACON_EIDO_MAX_BYTES, "errors": {}}
    if request.method == "GET":
        return render(request, TEMPLATE, context)
    upload = request.FILES.get("document")
    try:
        if upload is None:
            raise DomainError(
                "Choose the EIDO file (JSON) the other centre sent.", field="document"
            )
        if upload.size > settings.BEACON_EIDO_MAX_BYTES:
            raise DomainError(
                f"The file is larger than {settings.BEACON_EIDO_MAX_BYTES} bytes.", field="document"
            )
        doc = transfer.read_document(upload.read())
        call, created = transfer.take_in(
            agency=Agency.objects.get(pk=agency_id), actor=request.user, doc=doc
        )
    except DomainError as exc:
        context["errors"] = exc.errors
        return render(request, TEMPLATE, context, status=400)
    return redirect(
        f"{reverse('call-page', args=[call.pk])}?transfer={'new' if created else 'again'}"
    )
