"""Dispatch pages: the dispatcher console, the field view, and call list/detail.

Views are thin: they check access through governance/dispatch permission
functions, read through selectors, and write through services (the console's
writes go through the REST API, which calls the same services).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from beacon_core.api.throttling import throttle_page_json
from beacon_core.errors import DomainError, NotFoundError
from beacon_core.maps import map_config
from dispatch import board, realtime, selectors, services
from dispatch.choices import OPEN_CALL_STATUSES, ObservationCategory, UnitStatus
from dispatch.console_config import console_settings
from dispatch.context import (
    closest_available_units,
    hazard_points,
    intake_context,
    location_lookup,
    location_suggest,
    map_areas,
    unit_current_call,
    unit_recent_calls,
)
from dispatch.geocoding import geocode
from dispatch.models import CallType, Disposition, Involvement
from dispatch.permissions import (
    access_call,
    access_location,
    can_see_caller_identity,
    persons_visible_to,
    vehicles_visible_to,
)
from governance.access import can, max_sensitivity, user_agency_id
from governance.choices import Action, Category
from governance.export_links import export_buttons


def _require(request: HttpRequest, action: str, category: str) -> None:
    if not can(request.user, action, category):
        raise PermissionDenied


def _float(value: str | None, field: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise DomainError("Not a number.", field=field) from None


def _bad_request(exc: DomainError) -> JsonResponse:
    return JsonResponse(exc.errors, status=exc.status_code)


# --- calls list / detail (plain pages) -----------------------------------------------


def call_list_page(request: HttpRequest) -> HttpResponse:
    """Recent calls the user may see, newest first."""
    _require(request, Action.VIEW, Category.CALL)
    page = Paginator(selectors.call_list(user=request.user), 50).get_page(request.GET.get("page"))
    exports = export_buttons(
        request.user, ["export-calls-csv", "export-calls-geojson", "export-locations-geojson"]
    )
    may_transfer_in = can(request.user, Action.CREATE, Category.CALL)
    context = {"page": page, "exports": exports, "may_transfer_in": may_transfer_in}
    return render(request, "dispatch/call_list.html", context)


def call_detail_page(request: HttpRequest, call_id: int) -> HttpResponse:
    """One call with its timeline and units."""
    try:
        access_call(request.user, call_id)
    except NotFoundError:
        raise Http404 from None
    call = selectors.call_detail(user=request.user, call_id=call_id)
    show_caller = can_see_caller_identity(request.user)
    selectors.record_caller_view(request.user, call, shown=show_caller)
    # Sending the call to another CAD (NENA EIDO) is a dissemination: the export right on calls.
    eido_url = (
        reverse("call-eido", args=[call.pk])
        if can(request.user, Action.EXPORT, Category.CALL)
        else ""
    )
    return render(
        request,
        "dispatch/call_detail.html",
        {"call": call, "show_caller": show_caller, "eido_url": eido_url},
    )


# --- dispatcher console ----------------------------------------------------------------


def console_page(request: HttpRequest) -> HttpResponse:
    """The dispatcher console: intake, context, queue, call detail, unit board, live map."""
    if not (
        can(request.user, Action.CREATE, Category.CALL)
        and can(request.user, Action.CHANGE, Category.UNIT)
    ):
        if can(request.user, Action.CREATE, Category.AVL):
            return redirect("field")
        raise PermissionDenied
    call_types = list(
        CallType.objects.filter(active=True).values("code", "name", "category", "default_priority")
    )
    dispositions = list(Disposition.objects.filter(active=True).values("code", "name"))
    config = {
        "callTypes": call_types,
        "dispositions": dispositions,
        # A pushed call row in one of these stays on the board; any other status takes it off.
        "openStatuses": list(OPEN_CALL_STATUSES),
        "settings": console_settings(),
        "canSeePersons": can(request.user, Action.VIEW, Category.PERSON),
        "map": map_config(),
        "urls": {
            "snapshot": reverse("console-snapshot"),
            "context": reverse("console-context"),
            "suggest": reverse("console-suggest"),
            "callDetail": reverse("console-call", args=[0]),
            "ws": "/ws/dispatch/",
            "api": "/api/v1/",
        },
    }
    return render(
        request,
        "dispatch/console.html",
        {"config_json": config, "unit_statuses": UnitStatus.choices},
    )


@require_GET
@throttle_page_json("console")
def console_snapshot(request: HttpRequest) -> JsonResponse:
    """Open calls (queue + map) and the unit board, in one read; the console's resync point."""
    _require(request, Action.VIEW, Category.CALL)
    calls = [board.call_row(c) for c in selectors.call_queue(user=request.user)]
    units = (
        [board.unit_row(u) for u in selectors.unit_board(user=request.user)]
        if can(request.user, Action.VIEW, Category.UNIT)
        else []
    )
    hazards = hazard_points(user=request.user)
    areas = map_areas(user=request.user)
    return JsonResponse({"calls": calls, "units": units, "hazards": hazards, "areas": areas})


@require_GET
@throttle_page_json("console")
def console_context(request: HttpRequest) -> JsonResponse:
    """Intake context for an address and/or point (and closest available units)."""
    _require(request, Action.VIEW, Category.CALL)
    try:
        lat, lon = _float(request.GET.get("lat"), "lat"), _float(request.GET.get("lon"), "lon")
    except DomainError as exc:
        return _bad_request(exc)
    address = request.GET.get("address", "")[:500]
    location = None
    if request.GET.get("location"):
        try:
            location = access_location(request.user, request.GET["location"])
        except NotFoundError:
            return JsonResponse({"location": ["No such location."]}, status=400)
    elif address:
        location = location_lookup(address=address, locality=request.GET.get("locality", ""))
    geocoded = None
    if address and lat is None and (location is None or location.latitude is None):
        # Only for places Beacon has no point for; known locations never leave the building.
        geocoded = geocode(address)
        if geocoded is not None:
            lat, lon = geocoded.latitude, geocoded.longitude
    category = None
    if request.GET.get("call_type"):
        category = (
            CallType.objects.filter(code=request.GET["call_type"])
            .values_list("category", flat=True)
            .first()
        )
    exclude = request.GET.get("exclude")
    settings = console_settings()
    ctx = intake_context(
        user=request.user,
        location=location,
        latitude=lat,
        longitude=lon,
        call_type_category=category,
        exclude_call_id=int(exclude) if exclude and exclude.isdigit() else None,
        radius_m=settings["context_radius_m"],
        duplicate_radius_m=settings["duplicate_radius_m"],
        duplicate_window_min=settings["duplicate_window_min"],
    )
    data = board.context_json(ctx)
    data["geocoded"] = {"label": geocoded.label} if geocoded else None
    if ctx.latitude is not None and ctx.longitude is not None:
        data["closest_units"] = closest_available_units(
            user=request.user, latitude=ctx.latitude, longitude=ctx.longitude
        )
    else:
        data["closest_units"] = []
    return JsonResponse(data)


@require_GET
@throttle_page_json("console")
def console_suggest(request: HttpRequest) -> JsonResponse:
    """Known locations matching typed text (normalised)."""
    _require(request, Action.VIEW, Category.LOCATION)
    found = location_suggest(query=request.GET.get("q", "")[:200])
    return JsonResponse(
        {
            "results": [
                {
                    "id": loc.pk,
                    "address": loc.display_address,
                    "locality": loc.locality,
                    "kind": loc.kind,
                    "latitude": loc.latitude,
                    "longitude": loc.longitude,
                }
                for loc in found
            ]
        }
    )


def _involvements_for(request: HttpRequest, call_id: int) -> list[dict[str, Any]]:
    """Persons and vehicles on a call, each only for roles that may see that category."""
    rows: list[dict[str, Any]] = []
    if can(request.user, Action.VIEW, Category.PERSON):
        for inv in Involvement.objects.filter(
            call_id=call_id, person__in=persons_visible_to(request.user)
        ).select_related("person"):
            rows.append(
                {"kind": "person", "id": inv.person_id, "label": str(inv.person), "role": inv.role}
            )
    if can(request.user, Action.VIEW, Category.VEHICLE):
        for inv in Involvement.objects.filter(
            call_id=call_id, vehicle__in=vehicles_visible_to(request.user)
        ).select_related("vehicle"):
            rows.append(
                {
                    "kind": "vehicle",
                    "id": inv.vehicle_id,
                    "label": inv.vehicle.label,
                    "role": inv.role,
                }
            )
    return rows


@require_GET
@throttle_page_json("console")
def console_call(request: HttpRequest, call_id: int) -> JsonResponse:
    """One call for the console's detail panel."""
    try:
        access_call(request.user, call_id)
    except NotFoundError:
        return JsonResponse({"detail": "Not found."}, status=404)
    call = selectors.call_detail(user=request.user, call_id=call_id)
    show_caller = can_see_caller_identity(request.user)
    # The panel re-reads the call after every live update: one event per 5 minutes, not per redraw.
    selectors.record_caller_view(request.user, call, shown=show_caller, repeat_after=300)
    return JsonResponse(
        board.call_detail(
            call,
            show_caller=show_caller,
            involvements=_involvements_for(request, call_id),
        )
    )


# --- field view ----------------------------------------------------------------------------


def _my_units(request: HttpRequest) -> list[Any]:
    from dispatch.permissions import units_visible_to

    return list(
        units_visible_to(request.user).filter(users=request.user, active=True).order_by("call_sign")
    )


def field_page(request: HttpRequest) -> HttpResponse:
    """The phone view: my unit's current call, status buttons, my recent calls, AVL sharing."""
    _require(request, Action.VIEW, Category.CALL)
    units = _my_units(request)
    config = {
        "units": [{"id": u.pk, "call_sign": u.call_sign} for u in units],
        "urls": {
            "snapshot": reverse("field-snapshot"),
            "ws": f"/ws/dispatch/?{realtime.FIELD_FEED}",
            "api": "/api/v1/",
            "observe": reverse("field-observe"),
        },
    }
    return render(request, "dispatch/field.html", {"config_json": config, "units": units})


@require_GET
@throttle_page_json("console")
def field_snapshot(request: HttpRequest) -> JsonResponse:
    """My units, each with its current call (detail, hazards) and recent calls."""
    _require(request, Action.VIEW, Category.CALL)
    out = []
    for unit in _my_units(request):
        current = unit_current_call(unit=unit, user=request.user)
        detail = None
        hazards: list[dict[str, Any]] = []
        if current is not None:
            call = selectors.call_detail(user=request.user, call_id=current.pk)
            detail = board.call_detail(
                call,
                show_caller=can_see_caller_identity(request.user),
                involvements=_involvements_for(request, call.pk),
            )
            if call.location_id:
                hazards = [
                    {"kind": n.kind, "text": n.text}
                    for n in selectors.location_history(user=request.user, location=call.location)[
                        "notes"
                    ]
                ]
        recent = [board.call_row(c) for c in unit_recent_calls(unit=unit, user=request.user)]
        out.append(
            {
                "unit": {
                    "id": unit.pk,
                    "call_sign": unit.call_sign,
                    "status": unit.status,
                    "status_label": unit.get_status_display(),
                },
                "call": detail,
                "hazards": hazards,
                "recent": recent,
            }
        )
    return JsonResponse({"units": out})


OBSERVE_FIELDS = (
    "category",
    "narrative",
    "address",
    "latitude",
    "longitude",
    "plate",
    "plate_state",
    "vehicle_description",
    "person_last_name",
    "person_first_name",
    "person_description",
)


def field_observe(request: HttpRequest) -> HttpResponse:
    """The field observation card: one thumb, GPS or address, structured persons/vehicles seen."""
    _require(request, Action.CREATE, Category.FIELD_OBSERVATION)
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in OBSERVE_FIELDS}
        agency_id = user_agency_id(request.user)
        if agency_id is None:
            errors = {"non_field_errors": ["Your account has no agency; ask an administrator."]}
        else:
            try:
                _file_observation(request, agency_id, values)
            except DomainError as exc:
                errors = exc.errors
            except PermissionDenied as exc:
                errors = {"non_field_errors": [str(exc) or "Not allowed."]}
            else:
                return redirect(f"{reverse('field')}?filed=1")
    return render(
        request,
        "dispatch/field_observe.html",
        {
            "categories": ObservationCategory.choices,
            "errors": errors,
            "values": values,
            "map_json": map_config(),
            "requirements": selectors.observation_requirements(),
        },
        status=400 if errors else 200,
    )


# Service field names of the person/vehicle seen, as the phone form names its inputs.
_PERSON_FORM_FIELDS = {
    "last_name": "person_last_name",
    "first_name": "person_first_name",
    "description": "person_description",
}
_VEHICLE_FORM_FIELDS = {"description": "vehicle_description"}


def _as_form_errors(exc: DomainError, names: dict[str, str]) -> DomainError:
    return DomainError({names.get(k, k): v for k, v in exc.errors.items()})


@transaction.atomic
def _file_observation(request: HttpRequest, agency_id: int, values: dict[str, str]) -> None:
    """One transaction: the card and any vehicle/person seen, or nothing at all.

    The vehicle and person are recorded first so that ``observation_create`` (the API's service
    too) checks the category's required fields with them; a refusal rolls all of it back.
    """
    from governance.models import Agency

    agency = Agency.objects.get(pk=agency_id)
    lat = _float(values["latitude"], "latitude")
    lon = _float(values["longitude"], "longitude")
    vehicles, persons = [], []
    if values["plate"] or values["vehicle_description"]:
        if not can(request.user, Action.CREATE, Category.VEHICLE):
            raise PermissionDenied("Not allowed to record vehicles.")
        try:
            vehicle, _ = services.vehicle_get_or_create(
                visible_up_to=max_sensitivity(request.user, Category.VEHICLE),
                agency=agency,
                plate=values["plate"],
                plate_state=values["plate_state"],
                description=values["vehicle_description"],
                actor=request.user,
            )
        except DomainError as exc:
            raise _as_form_errors(exc, _VEHICLE_FORM_FIELDS) from None
        vehicles.append(vehicle)
    if values["person_last_name"] or values["person_description"]:
        if not can(request.user, Action.CREATE, Category.PERSON):
            raise PermissionDenied("Not allowed to record persons.")
        try:
            person = services.person_create(
                agency=agency,
                actor=request.user,
                last_name=values["person_last_name"] or "UNKNOWN",
                first_name=values["person_first_name"],
                description=values["person_description"],
            )
        except DomainError as exc:
            raise _as_form_errors(exc, _PERSON_FORM_FIELDS) from None
        persons.append(person)
    services.observation_create(
        agency=agency,
        actor=request.user,
        category=values["category"],
        narrative=values["narrative"],
        address=values["address"],
        latitude=lat,
        longitude=lon,
        persons=persons,
        vehicles=vehicles,
    )
