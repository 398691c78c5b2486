"""Pattern pages: the supervisor dashboard, its JSON, a finding's review page, and "run now".

Thin like the console's views: access through governance and ``intelligence.permissions``,
reads through ``dashboard``/``selectors``, writes through ``services`` only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from celery.result import EagerResult
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from beacon_core.errors import ConflictError, DomainError, NotFoundError
from beacon_core.maps import map_config
from dispatch.alerts.views import render_alert_page
from governance.access import can, user_agency_id
from governance.choices import Action, Category
from governance.export_links import export_buttons
from governance.models import NeedToKnowGroup
from intelligence import dashboard, runners, selectors, services, tasks
from intelligence.choices import Decision, FindingStatus
from intelligence.models import Finding
from intelligence.permissions import access_finding

logger = logging.getLogger(__name__)


def _require_view(request: HttpRequest) -> None:
    if not can(request.user, Action.VIEW, Category.FINDING):
        raise PermissionDenied


def _may_run(user: Any) -> bool:
    """Starting an analysis creates findings, so it needs the create grant (analysts)."""
    return can(user, Action.CREATE, Category.FINDING) and user_agency_id(user) is not None


def patterns_page(request: HttpRequest) -> HttpResponse:
    """The dashboard shell; its script reads ``patterns/data.json`` and listens for finished runs."""
    _require_view(request)
    try:
        filters = dashboard.parse_filters(request.GET, user=request.user)
    except DomainError:
        filters = dashboard.Filters()  # a bad bookmark still opens the page, with defaults
    config = {
        "map": map_config(),
        "filters": filters.as_dict(),
        "options": dashboard.filter_options(user=request.user),
        "canRun": _may_run(request.user),
        "runKinds": list(runners.RUNNERS),
        "urls": {
            "data": reverse("patterns-data"),
            "run": reverse("patterns-run"),
            "ws": "/ws/dispatch/",
        },
    }
    exports = export_buttons(
        request.user,
        ["export-findings-csv", "export-findings-geojson", "export-hotspots-geojson"],
    )
    from dispatch.alerts.selectors import active_alerts

    context = {
        "config_json": config,
        "exports": exports,
        "partner_alerts": active_alerts(user=request.user),
    }
    return render(request, "intelligence/dashboard.html", context)


@require_GET
def patterns_data(request: HttpRequest) -> JsonResponse:
    """Hex map, repeat-location table, heatmap, curve and findings for the filters given."""
    if not can(request.user, Action.VIEW, Category.FINDING):
        return JsonResponse({"detail": "Not allowed to view findings."}, status=403)
    try:
        filters = dashboard.parse_filters(request.GET, user=request.user)
    except DomainError as exc:
        return JsonResponse(exc.errors, status=exc.status_code)
    return JsonResponse(dashboard.dashboard_data(user=request.user, filters=filters))


@require_POST
def patterns_run(request: HttpRequest) -> JsonResponse:
    """Start one analysis now for the user's own agency, through the analysis task queue.

    Production mode queues the run for a worker and answers 202 at once: a year of calls takes
    seconds to analyse, longer than a web request should hold a worker. Embedded mode runs the
    task in place (eager), so the answer already carries the finished run. Either way, everyone
    watching the dashboard gets the finished-run event.
    """
    if not _may_run(request.user):
        return JsonResponse({"detail": "Not allowed to start analyses."}, status=403)
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        return JsonResponse({"non_field_errors": ["Send a JSON object."]}, status=400)
    kind = body.get("kind") if isinstance(body, dict) else None
    if not isinstance(kind, str) or kind not in runners.RUNNERS:
        return JsonResponse({"kind": [f"Choose one of: {', '.join(runners.RUNNERS)}."]}, status=400)
    kwargs = {
        "kind": kind,
        "agency_id": user_agency_id(request.user),
        "as_of_iso": timezone.now().isoformat(),
    }
    in_place = bool(tasks.run_analysis.app.conf.task_always_eager)
    try:
        result = tasks.run_analysis.apply_async(kwargs=kwargs)
        if not isinstance(result, EagerResult):
            return JsonResponse({"queued": True, "kind": kind}, status=202)
        run_id = result.get()  # re-raises the run's error when eager errors do not propagate
    except Exception:
        if not in_place:
            # Production: the broker (Redis) refused the message; nothing started or was recorded.
            logger.warning("analysis %s not queued: the broker is unreachable", kind, exc_info=True)
            return JsonResponse(
                {
                    "detail": "The job queue cannot be reached, so the run did not start. "
                    "Try again in a minute."
                },
                status=503,
            )
        # Embedded mode: the run itself failed; the service recorded it and announced it.
        logger.exception("analysis %s failed to run", kind)
        run = selectors.run_queryset(user=request.user).filter(kind=kind).first()
        return JsonResponse(
            {"run": selectors.run_as_dict(run) if run else None, "detail": "The run failed."},
            status=200,
        )
    run = selectors.run_queryset(user=request.user).filter(pk=run_id).first()
    return JsonResponse({"run": selectors.run_as_dict(run) if run else None})


def _may_review(user: Any, finding: Finding) -> bool:
    """The review forms show only to someone ``finding_decide`` would accept (role and agency)."""
    try:
        access_finding(user, finding.pk, for_write=True)
    except (PermissionDenied, NotFoundError):
        return False
    return True


def _finding_or_404(request: HttpRequest, finding_id: int) -> Finding:
    try:
        return access_finding(request.user, finding_id)
    except NotFoundError:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def finding_page(request: HttpRequest, finding_id: int) -> HttpResponse:
    """One finding: explanation, statistics, evidence, map, charts, history and the review forms."""
    _require_view(request)
    finding = _finding_or_404(request, finding_id)
    if request.method == "GET":
        # A decision's POST redirects here, so each showing is logged once.
        selectors.record_finding_view(request.user, finding)
    errors: dict[str, list[str]] = {}
    values = {"decision": "", "rationale": ""}
    status = 200
    if request.method == "POST":
        values = {
            "decision": request.POST.get("decision", "")[:20],
            "rationale": request.POST.get("rationale", "")[: services.MAX_RATIONALE + 1],
        }
        try:
            services.finding_decide(
                finding_id=finding.pk,
                reviewer=request.user,
                decision=values["decision"],
                rationale=values["rationale"],
            )
        except ConflictError as exc:
            errors, status = exc.errors, 409
        except DomainError as exc:
            errors, status = exc.errors, exc.status_code
        except (PermissionDenied, NotFoundError):
            errors, status = {"non_field_errors": ["You may not review this finding."]}, 403
        else:
            return redirect(f"{reverse('finding-page', args=[finding.pk])}?decided=1")
        finding = _finding_or_404(request, finding_id)
    return _render_finding(request, finding, errors=errors, values=values, status=status)


def _render_finding(
    request: HttpRequest,
    finding: Finding,
    *,
    errors: dict[str, list[str]] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    outcome_errors: dict[str, list[str]] | None = None,
    outcome_values: dict[str, str] | None = None,
    ntk_errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    errors = errors or {}
    values = values or {"decision": "", "rationale": ""}
    calls = list(dashboard.evidence_calls(user=request.user, finding=finding)[:500])
    observations = list(dashboard.evidence_observations(user=request.user, finding=finding)[:500])
    context = {
        "finding": finding,
        "subject": selectors.finding_subject(finding),
        "stats": dashboard.statistics_rows(finding.statistics or {}),
        "calls": calls,
        "observations": observations,
        "decisions": list(selectors.finding_decisions(finding=finding)),
        "can_review": _may_review(request.user, finding),
        "is_open": finding.status == FindingStatus.PROPOSED,
        "decisions_choices": Decision.choices,
        "errors": errors,
        # Errors of a form that is not on the page (a forged or unknown decision) show at the top.
        "stray_errors": [
            (field, messages)
            for field, messages in errors.items()
            if field in {"decision", "rationale"} and values["decision"] not in Decision.values
        ],
        "values": values,
        "decided": request.GET.get("decided") == "1",
        "outcomes": list(selectors.finding_outcomes(finding=finding)),
        "can_evaluate": finding.status == FindingStatus.ACCEPTED
        and _may_review(request.user, finding),
        "outcome_errors": outcome_errors or {},
        "outcome_values": outcome_values or {"period_start": "", "period_end": ""},
        "ntk_current": sorted(finding.need_to_know.values_list("name", flat=True)),
        "ntk_groups": list(NeedToKnowGroup.objects.filter(agency_id=finding.agency_id)),
        "ntk_errors": ntk_errors or {},
        "charts_json": {
            **dashboard.finding_charts(user=request.user, finding=finding, calls=calls),
            "map": map_config(),
        },
    }
    return render(request, "intelligence/finding_detail.html", context, status=status)


def _parse_local_utc(text: str, field: str, *, required: bool) -> dt.datetime | None:
    """A ``datetime-local`` form value read as UTC; DomainError naming the field otherwise."""
    text = text.strip()
    if not text:
        if required:
            raise DomainError("Give a date and time.", field=field)
        return None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise DomainError("Give a date and time like 2026-03-01T19:00.", field=field) from None
    return parsed.replace(tzinfo=dt.UTC) if timezone.is_naive(parsed) else parsed


@require_POST
def finding_need_to_know(request: HttpRequest, finding_id: int) -> HttpResponse:
    """Limit the finding to need-to-know groups (``services.finding_need_to_know_set``)."""
    _require_view(request)
    finding = _finding_or_404(request, finding_id)
    try:
        services.finding_need_to_know_set(
            actor=request.user, finding_id=finding.pk, group_ids=request.POST.getlist("groups")
        )
    except DomainError as exc:
        return _render_finding(request, finding, status=400, ntk_errors=exc.errors)
    except (PermissionDenied, NotFoundError):
        errors = {"groups": ["You may not change this finding."]}
        return _render_finding(request, finding, status=403, ntk_errors=errors)
    return redirect(f"{reverse('finding-page', args=[finding.pk])}#need-to-know")


@require_POST
def finding_outcome(request: HttpRequest, finding_id: int) -> HttpResponse:
    """Evaluate an accepted finding's outcome now (``services.outcome_evaluate``)."""
    _require_view(request)
    finding = _finding_or_404(request, finding_id)
    values = {
        "period_start": request.POST.get("period_start", "")[:40],
        "period_end": request.POST.get("period_end", "")[:40],
    }
    try:
        start = _parse_local_utc(values["period_start"], "period_start", required=True)
        end = _parse_local_utc(values["period_end"], "period_end", required=False)
        services.outcome_evaluate(
            finding_id=finding.pk, actor=request.user, period_start=start, period_end=end
        )
    except DomainError as exc:
        return _render_finding(
            request, finding, status=400, outcome_errors=exc.errors, outcome_values=values
        )
    except (PermissionDenied, NotFoundError):
        errors = {"non_field_errors": ["You may not evaluate this finding."]}
        return _render_finding(
            request, finding, status=403, outcome_errors=errors, outcome_values=values
        )
    return redirect(f"{reverse('finding-page', args=[finding.pk])}#outcomes")


@require_POST
def finding_from_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Propose a finding from a partner alert (the alert page's button); opens the finding."""
    try:
        finding = services.finding_from_alert(actor=request.user, alert_id=alert_id)
    except NotFoundError:
        raise Http404 from None
    except DomainError as exc:
        # Back on the alert's page, saying why (it used to be a bare text/plain answer).
        return render_alert_page(request, alert_id, errors=exc.errors, status=400)
    return redirect("finding-page", finding_id=finding.pk)
