"""Reads of partner alerts: lists, the active ones, map areas and point-in-area for intake."""

from __future__ import annotations

import datetime as dt
from typing import Any

import h3
from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from dispatch.alerts import geometry
from dispatch.alerts.parser import pick_info
from dispatch.alerts.permissions import alerts_visible_to
from dispatch.models import AlertArea, AlertInfo, PartnerAlert

SEVERITY_ORDER = {"Extreme": 0, "Severe": 1, "Moderate": 2, "Minor": 3, "Unknown": 4}


def display_language() -> str:
    """The language alerts are shown in: the site's (``LANGUAGE_CODE``), default English."""
    return (getattr(settings, "LANGUAGE_CODE", "") or "en").split("-")[0] or "en"


def alert_list(*, user: Any) -> QuerySet[PartnerAlert]:
    """Alerts the user may see, newest first, infos prefetched."""
    return alerts_visible_to(user).prefetch_related("infos").order_by("-sent", "-id")


def alert_detail(*, user: Any, alert_id: Any) -> PartnerAlert:
    """One alert with its infos and their areas (raises NotFoundError when not visible)."""
    from dispatch.alerts.permissions import access_alert

    alert = access_alert(user, alert_id)
    infos = list(alert.infos.prefetch_related("areas").order_by("id"))
    alert.info_list = infos  # type: ignore[attr-defined]
    alert.display_info = pick_info(infos, display_language())  # type: ignore[attr-defined]
    return alert


def active_alerts(*, user: Any, now: dt.datetime | None = None) -> list[PartnerAlert]:
    """Actual alerts in force now (not cancelled or superseded), display info picked."""
    now = now or timezone.now()
    alerts = list(
        alerts_visible_to(user)
        .active(now)
        .prefetch_related(
            Prefetch(
                "infos",
                queryset=AlertInfo.objects.in_force(now).prefetch_related("areas"),
                to_attr="live_infos",
            )
        )
        .order_by("-sent", "-id")[:200]
    )
    lang = display_language()
    for alert in alerts:
        alert.display_info = pick_info(alert.live_infos, lang)  # type: ignore[attr-defined]
    alerts.sort(key=lambda a: SEVERITY_ORDER.get(getattr(a.display_info, "severity", ""), 9))
    return alerts


def _until(info: Any) -> str:
    return f"{info.expires:%Y-%m-%d %H:%M} UTC" if info.expires else "further notice"


def alert_map_areas(user: Any) -> list[dict[str, Any]]:
    """Active alerts' shapes for the live map (a dispatch map-area provider)."""
    areas = []
    for alert in active_alerts(user=user):
        info = alert.display_info  # type: ignore[attr-defined]
        if info is None:
            continue
        for area in info.areas.all():
            rings = geometry.rings(area.polygons, area.circles)
            if not rings:
                continue
            areas.append(
                {
                    "kind": "partner_alert",
                    "label": f"Partner alert: {info.event or info.headline}",
                    "detail": f"{info.headline or area.area_desc} ({info.severity}), until "
                    f"{_until(info)}",
                    "severity": info.severity,
                    "headline": info.headline,
                    "event": info.event,
                    "expires": info.expires.isoformat() if info.expires else None,
                    "url": f"/alerts/{alert.pk}/",
                    "rings": rings,
                }
            )
    return areas


def alerts_at_point(
    *, user: Any, latitude: float, longitude: float, now: dt.datetime | None = None
) -> list[tuple[PartnerAlert, AlertInfo, AlertArea]]:
    """Active alert areas containing the point: H3 cells narrow it, the shape decides."""
    now = now or timezone.now()
    cells = [h3.latlng_to_cell(latitude, longitude, res) for res in geometry.RESOLUTIONS]
    live = alerts_visible_to(user).active(now)
    candidates = (
        AlertArea.objects.filter(info__alert__in=live)
        .filter(info__in=AlertInfo.objects.in_force(now))
        .filter(Q(cells__cell__in=cells) | Q(uncovered=True))
        .select_related("info", "info__alert")
        .distinct()
    )
    lang = display_language()
    hits: dict[int, tuple[PartnerAlert, AlertInfo, AlertArea]] = {}
    for area in candidates:
        if not geometry.contains(area.polygons, area.circles, latitude, longitude):
            continue
        alert, info = area.info.alert, area.info
        chosen = hits.get(alert.pk)
        # One line per alert, in the display language when several infos match.
        if chosen is None or pick_info([chosen[1], info], lang) is info:
            hits[alert.pk] = (alert, info, area)
    return list(hits.values())


def alert_context_flags(
    user: Any, location: Any, latitude: float | None, longitude: float | None
) -> list[Any]:
    """Intake flags: "Inside partner alert: <event> (<severity>), until <expires>"."""
    from dispatch.context import ContextFlag

    if latitude is None or longitude is None:
        return []
    return [
        ContextFlag(
            kind="partner_alert",
            label=f"Inside partner alert: {info.event or info.headline} ({info.severity}), "
            f"until {_until(info)}",
            detail=info.headline,
            url=f"/alerts/{alert.pk}/",
        )
        for alert, info, _area in alerts_at_point(user=user, latitude=latitude, longitude=longitude)
    ]


# Actions other apps offer on an alert page (intelligence: "propose a finding"), so dispatch
# names none of them: a provider takes (user, alert) and returns {"label", "url"} dicts (POST).
AlertActionProvider = Any
_alert_actions: list[AlertActionProvider] = []


def register_alert_action(provider: AlertActionProvider) -> None:
    """Called by other apps' ``AppConfig.ready``; providers apply their own access rules."""
    if provider not in _alert_actions:
        _alert_actions.append(provider)


def alert_actions(*, user: Any, alert: PartnerAlert) -> list[dict[str, str]]:
    """Every registered action the user may take on this alert."""
    return [action for provider in _alert_actions for action in provider(user, alert)]
