"""Partner alert pages: the list (with upload for those who may) and one alert's detail."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from beacon_core.errors import DomainError, NotFoundError
from beacon_core.maps import map_config
from dispatch.alerts import geometry, selectors, services
from dispatch.alerts.parser import MAX_BYTES
from dispatch.alerts.permissions import may_receive_alerts, require_receive_alerts
from governance.access import can
from governance.choices import Action, Category


def alerts_page(request: HttpRequest) -> HttpResponse:
    """Alerts in force and the latest received; admins and supervisors upload one here."""
    if not can(request.user, Action.VIEW, Category.CALL):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        agency_id = require_receive_alerts(request.user)
        upload = request.FILES.get("file")
        data = upload.read(MAX_BYTES + 1) if upload is not None else request.POST.get("xml", "")
        if not data:
            errors = {"file": ["Choose a CAP 1.2 XML file or paste the XML."]}
        else:
            try:
                receipt = services.alert_receive(
                    agency_id=agency_id, data=data, via="upload", actor=request.user
                )
            except DomainError as exc:
                errors = exc.errors
            else:
                return redirect("alert-page", alert_id=receipt.alert.pk)
        status = 400
    elif request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    context = {
        "active": selectors.active_alerts(user=request.user),
        "recent": selectors.alert_list(user=request.user)[:50],
        "may_upload": may_receive_alerts(request.user),
        "errors": errors,
    }
    return render(request, "dispatch/alerts.html", context, status=status)


def alert_page(request: HttpRequest, alert_id: int) -> HttpResponse:
    """One alert: every info block, its areas on a map, and the actions the user may take."""
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    return render_alert_page(request, alert_id)


def render_alert_page(
    request: HttpRequest,
    alert_id: int,
    *,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The alert page, with ``errors`` of a refused action (e.g. a finding that cannot be made)."""
    try:
        alert = selectors.alert_detail(user=request.user, alert_id=alert_id)
    except NotFoundError:
        raise Http404 from None
    info = alert.display_info  # type: ignore[attr-defined]
    rings = []
    for area in info.areas.all() if info is not None else []:
        rings += geometry.rings(area.polygons, area.circles)
    context = {
        "alert": alert,
        "infos": alert.info_list,  # type: ignore[attr-defined]
        "display_info": info,
        "actions": selectors.alert_actions(user=request.user, alert=alert),
        "map_json": {
            "map": map_config(),
            "areas": [{"id": "alert", "circle": None, "polygons": rings}] if rings else [],
        },
        "errors": errors or {},
    }
    return render(request, "dispatch/alert_detail.html", context, status=status)
