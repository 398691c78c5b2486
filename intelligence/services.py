"""Every state change of the intelligence domain: running analyses and reviewing findings.

Each function is keyword-only and typed, raises ``DomainError`` naming the field, and is its
own transaction boundary. No automated path accepts a finding: runs only propose, update or
expire proposed findings; acceptance and dismissal need a person (``finding_decide``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from beacon_core.errors import ConflictError, DomainError
from governance import audit
from governance.access_rules import need_to_know_apply
from governance.choices import AuditAction
from governance.models import Agency
from intelligence import realtime, runners
from intelligence.choices import DECISION_STATUS, Decision, FindingKind, FindingStatus, RunStatus
from intelligence.models import (
    AnalysisRun,
    Finding,
    FindingDecision,
    FindingEvidence,
    FindingOutcome,
)
from intelligence.outcome_evaluation import outcome_counts, outcome_statistics
from intelligence.permissions import access_finding, can_propose_from_alert, can_review_findings

logger = logging.getLogger(__name__)

MAX_RATIONALE = 5_000


def _check_as_of(as_of: Any) -> dt.datetime:
    if not isinstance(as_of, dt.datetime) or timezone.is_naive(as_of):
        raise DomainError("Give an aware date/time (with a UTC offset).", field="as_of")
    return as_of.astimezone(dt.UTC)


# Evidence rows per executemany.
EVIDENCE_BATCH = 5_000
# Finding ids per "evidence of these findings" DELETE: below SQLite's variable limit.
DELETE_BATCH = 900


class _FindingBatch:
    """One run's writes: the open findings of its kind read once, then bulk inserts and updates.

    ``_finding_upsert`` records each draft here; ``flush`` writes them: new findings in one
    bulk insert, changed ones in one bulk update, the old evidence of the changed ones in one
    delete (chunked), and all evidence in large inserts. Four to six queries per finding made
    the upserts most of a run's time. Used inside the run's transaction, so a crash before or
    during ``flush`` writes nothing.
    """

    def __init__(self, *, run: AnalysisRun, kind: str, agency_ids: set[int]) -> None:
        self.run = run
        self.kind = kind
        self.open: dict[tuple[int, str], Finding] = {
            (f.agency_id, f.subject_key): f
            for f in Finding.objects.select_for_update(no_key=True).filter(
                agency_id__in=agency_ids, kind=kind, status=FindingStatus.PROPOSED
            )
        }
        self.new: list[Finding] = []
        self.changed: dict[int, Finding] = {}
        self.evidence: dict[int, tuple[Finding, runners.FindingDraft]] = {}

    def flush(self) -> None:
        Finding.objects.bulk_create(self.new)
        if self.changed:
            now = timezone.now()
            for finding in self.changed.values():
                finding.updated_at = now
            Finding.objects.bulk_update(
                list(self.changed.values()), [*_UPSERT_FIELDS, "updated_at"]
            )
            ids = list(self.changed)
            for i in range(0, len(ids), DELETE_BATCH):
                FindingEvidence.objects.filter(finding_id__in=ids[i : i + DELETE_BATCH]).delete()
        _evidence_insert(
            [
                row
                for finding, draft in self.evidence.values()
                for row in [
                    *((finding.pk, pk, None) for pk in draft.call_ids),
                    *((finding.pk, None, pk) for pk in draft.observation_ids),
                ]
            ]
        )


def _evidence_insert(rows: list[tuple[int, int | None, int | None]]) -> None:
    """Insert (finding, call, observation) evidence rows, ``EVIDENCE_BATCH`` per executemany.

    ``bulk_create`` builds a model and prepares each value of each row, ~3 s per 70,000 rows;
    these rows are three integers each, and the table's constraints still check them.
    """
    meta = FindingEvidence._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(f).column) for f in ("finding", "call", "observation"))
    # Table and column names come from the model; the values are query parameters.
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES (%s, %s, %s)"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        for i in range(0, len(rows), EVIDENCE_BATCH):
            cursor.executemany(sql, rows[i : i + EVIDENCE_BATCH])


_UPSERT_FIELDS = (
    "location_id",
    "cells",
    "latitude",
    "longitude",
    "window_start",
    "window_end",
    "statistics",
    "explanation",
    "last_run",
)


def _finding_upsert(
    *,
    run: AnalysisRun,
    kind: str,
    draft: runners.FindingDraft,
    batch: _FindingBatch,
) -> tuple[Finding, bool]:
    """Update the open finding for this subject, or create it; then replace its evidence.

    The writes wait for ``batch.flush()`` (a new finding has no pk until then).
    """
    values = {
        "location_id": draft.location_id,
        "cells": list(draft.cells),
        "latitude": draft.latitude,
        "longitude": draft.longitude,
        "window_start": draft.window_start,
        "window_end": draft.window_end,
        "statistics": draft.statistics,
        "explanation": draft.explanation,
        "last_run": run,
    }
    subject = (draft.agency_id, draft.subject_key)
    finding = batch.open.get(subject)
    created = finding is None
    if finding is None:
        finding = Finding(
            agency_id=draft.agency_id,
            kind=kind,
            subject_key=draft.subject_key,
            first_run=run,
            status=FindingStatus.PROPOSED,
            **values,
        )
        batch.open[subject] = finding
        batch.new.append(finding)
    else:
        for name, value in values.items():
            setattr(finding, name, value)
        if finding.pk is not None:
            batch.changed[finding.pk] = finding
    # A subject drafted twice keeps the last draft's evidence only, as sequential upserts did.
    batch.evidence.pop(id(finding), None)
    batch.evidence[id(finding)] = (finding, draft)
    return finding, created


def _recently_decided(kind: str, agency_ids: set[int]) -> set[tuple[int, str]]:
    """(agency, subject) pairs a person accepted or dismissed within the quiet period.

    A run does not propose these again: the reviewer has answered the question, and asking it
    every night teaches reviewers to click through. After the quiet period the subject may be
    proposed afresh, with the old decision still on record.
    """
    since = timezone.now() - dt.timedelta(days=settings.BEACON_FINDING_QUIET_DAYS)
    return set(
        Finding.objects.filter(
            kind=kind,
            agency_id__in=agency_ids,
            status__in=[FindingStatus.ACCEPTED, FindingStatus.DISMISSED],
            decisions__decided_at__gte=since,
        ).values_list("agency_id", "subject_key")
    )


def _run_fail(run: AnalysisRun, started: float, error: BaseException) -> None:
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        duration_ms=int((time.perf_counter() - started) * 1000),
        error=f"{type(error).__name__}: {error}"[:10_000],
    )


LOST_ON_REDELIVERY = "The worker was lost during the run; the task was delivered again."
LOST_ON_RESTART = "The worker was lost during the run (it restarted); the task will be redelivered."


def _runs_fail_lost(runs: Any, reason: str) -> list[AnalysisRun]:
    """Mark the given "running" runs failed with ``reason`` and announce each; return them."""
    failed = []
    now = timezone.now()
    for run in runs.filter(status=RunStatus.RUNNING):
        # Conditional: a run that finished meanwhile keeps its own result.
        if AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=now, error=reason
        ):
            run.status = RunStatus.FAILED
            realtime.publish_run_finished(run, status=RunStatus.FAILED)
            failed.append(run)
    return failed


def analysis_runs_fail_lost(*, worker: str) -> int:
    """A worker (re)started: runs it left "running" died with its previous process; fail them.

    A Celery node name is unique among running workers, so a run marked with this name that is
    still "running" when the node starts cannot be in progress anywhere.
    """
    if not worker:
        return 0
    lost = _runs_fail_lost(AnalysisRun.objects.filter(worker=worker), LOST_ON_RESTART)
    if lost:
        logger.warning("worker %s restarted: marked runs %s failed", worker, [r.pk for r in lost])
    return len(lost)


def analysis_execute(
    *,
    kind: str,
    as_of: dt.datetime,
    agency: Agency | None = None,
    parameters: Mapping[str, Any] | None = None,
    task_id: str = "",
    worker: str = "",
) -> AnalysisRun:
    """Run one analysis and upsert its findings in one transaction; a failed run writes none.

    Reruns on the same data update the same open findings (one open finding per agency, kind
    and subject); open findings of this kind the run no longer produces are expired. Accepted
    and dismissed findings, and findings a person proposed, are never touched, and a subject
    decided within ``BEACON_FINDING_QUIET_DAYS`` is not proposed again (``suppressed``).
    """
    if kind not in FindingKind.values:
        raise DomainError(f"Unknown analysis {kind!r}.", field="kind")
    runner = runners.RUNNERS.get(kind)
    if runner is None:
        raise DomainError(
            f"{kind} is not implemented yet (implemented: {', '.join(runners.RUNNERS)}).",
            field="kind",
        )
    as_of = _check_as_of(as_of)
    if task_id:
        # The broker hands a task out again only when the worker holding it was lost (acks late,
        # reject on worker lost): an earlier attempt of this task still "running" is dead.
        _runs_fail_lost(AnalysisRun.objects.filter(task_id=task_id), LOST_ON_REDELIVERY)
    started = time.perf_counter()
    # Committed on its own first, so a crash still leaves a record of the attempt.
    run = AnalysisRun.objects.create(
        task_id=task_id,
        worker=worker,
        agency=agency,
        kind=kind,
        method=kind,
        method_version="",
        parameters=dict(parameters or {}),
        as_of=as_of,
        started_at=timezone.now(),
        status=RunStatus.RUNNING,
    )
    try:
        output = runner(as_of=as_of, agency_id=agency.pk if agency else None, parameters=parameters)
        with transaction.atomic():
            created = updated = suppressed = 0
            kept_findings: list[Finding] = []
            agency_ids = {d.agency_id for d in output.drafts}
            quiet = _recently_decided(kind, agency_ids)
            batch = _FindingBatch(run=run, kind=kind, agency_ids=agency_ids)
            for draft in output.drafts:
                if (draft.agency_id, draft.subject_key) in quiet:
                    suppressed += 1
                    continue
                finding, is_new = _finding_upsert(run=run, kind=kind, draft=draft, batch=batch)
                kept_findings.append(finding)
                created += is_new
                updated += not is_new
            batch.flush()
            kept = [finding.pk for finding in kept_findings]
            stale = Finding.objects.filter(
                kind=kind, status=FindingStatus.PROPOSED, created_by__isnull=True
            ).exclude(pk__in=kept)
            if agency is not None:
                stale = stale.filter(agency=agency)
            expired = stale.update(
                status=FindingStatus.EXPIRED, last_run=run, updated_at=timezone.now()
            )
            run.method = output.method
            run.method_version = output.method_version
            run.parameters = output.parameters
            run.window_start = output.window_start
            run.window_end = output.window_end
            run.input_hash = output.input_hash
            run.counts = {
                "created": created,
                "updated": updated,
                "expired": expired,
                "suppressed": suppressed,
            }
            run.status = RunStatus.SUCCEEDED
            run.finished_at = timezone.now()
            run.duration_ms = int((time.perf_counter() - started) * 1000)
            run.save()
            # One summary event per run, never one per finding: a run may write thousands, and
            # each event takes the chain lock. The run row names every finding it touched.
            audit.record(
                action=AuditAction.CREATE,
                obj=run,
                object_label=f"{kind} analysis run #{run.pk}",
                actor_username="system:analysis",
                details={"kind": kind, "as_of": as_of, "counts": run.counts},
            )
    except BaseException as error:
        _run_fail(run, started, error)
        # After the failure is recorded (autocommit, or the caller's commit): dashboards say so.
        realtime.publish_run_finished(run, status=RunStatus.FAILED)
        raise
    realtime.publish_run_finished(run)
    return run


def finding_decide(*, finding_id: int, reviewer: Any, decision: str, rationale: str) -> Finding:
    """Accept or dismiss a proposed finding, once, by a person allowed to review it, with reasons."""
    if decision not in Decision.values:
        raise DomainError(f"Choose one of: {', '.join(Decision.values)}.", field="decision")
    text = (rationale or "").strip()
    if not text:
        raise DomainError("Give the reason for this decision.", field="rationale")
    if len(text) > MAX_RATIONALE:
        raise DomainError(f"At most {MAX_RATIONALE} characters.", field="rationale")
    if not can_review_findings(reviewer):
        raise PermissionDenied("Not allowed to review findings.")
    finding = access_finding(reviewer, finding_id, for_write=True)
    # Four eyes: a person's own proposal is approved by someone else (DPA ss.49-50, ILP
    # governance §3.6 item 8). Withdrawing it (dismiss) stays open to its author.
    own = finding.created_by_id is not None and finding.created_by_id == getattr(
        reviewer, "pk", None
    )
    if decision == Decision.ACCEPT and own:
        raise DomainError(
            "You proposed this finding; another reviewer must accept it (four-eyes rule).",
            field="decision",
        )
    now = timezone.now()
    with transaction.atomic():
        # Conditional UPDATE: two reviewers racing cannot both decide the same finding.
        changed = Finding.objects.filter(pk=finding.pk, status=FindingStatus.PROPOSED).update(
            status=DECISION_STATUS[decision], updated_at=now
        )
        if not changed:
            current = Finding.objects.get(pk=finding.pk)
            raise ConflictError(
                f"This finding is already {current.status}.",
                field="status",
                current={"status": current.status},
            )
        FindingDecision.objects.create(
            finding_id=finding.pk,
            decision=decision,
            rationale=text,
            reviewer=reviewer,
            decided_at=now,
        )
        # Same transaction: a decision never stands without its audit event, nor the reverse.
        audit.record(
            action=AuditAction.FINDING_DECISION,
            actor=reviewer,
            obj=finding,
            justification=text,
            details={
                "decision": decision,
                "status": [FindingStatus.PROPOSED, DECISION_STATUS[decision]],
            },
        )
        if decision == Decision.ACCEPT:
            realtime.emit_finding_accepted_webhook(finding, decided_at=now)
    finding.refresh_from_db()
    return finding


DEFAULT_OUTCOME_DAYS = 28
MAX_OUTCOME_DAYS = 366


def outcome_evaluate(
    *,
    finding_id: int,
    actor: Any | None,
    period_start: dt.datetime,
    period_end: dt.datetime | None = None,
) -> FindingOutcome:
    """Compare the accepted finding's calls before and after ``period_start`` (equal lengths).

    ``actor`` None is the scheduled evaluation; a person needs the finding-review right. The
    after period must be over (``period_end`` <= now; default ``period_start`` + 28 days).
    """
    if actor is not None:
        finding = access_finding(actor, finding_id)
        if not can_review_findings(actor):
            raise PermissionDenied("Not allowed to evaluate outcomes.")
    else:
        finding = Finding.objects.select_related("location").get(pk=finding_id)
    if finding.status != FindingStatus.ACCEPTED:
        raise DomainError("Only an accepted finding has a response to evaluate.", field="finding")
    start = _check_aware(period_start, "period_start")
    end = (
        start + dt.timedelta(days=DEFAULT_OUTCOME_DAYS)
        if period_end is None
        else _check_aware(period_end, "period_end")
    )
    if end <= start:
        raise DomainError("Must be after period_start.", field="period_end")
    if end - start > dt.timedelta(days=MAX_OUTCOME_DAYS):
        raise DomainError(
            f"At most {MAX_OUTCOME_DAYS} days after period_start.", field="period_end"
        )
    if end > timezone.now():
        raise DomainError("The after period has not ended yet.", field="period_end")
    before_start = start - (end - start)
    counts, place = outcome_counts(finding, before_start=before_start, start=start, end=end)
    days = (end - start) / dt.timedelta(days=1)
    statistics, verdict, explanation = outcome_statistics(
        counts, place=place, days=round(days, 2), start=start
    )
    values = {
        "finding": finding,
        "period_start": start,
        "period_end": end,
        "before_start": before_start,
        "target_before": counts.target_before,
        "target_after": counts.target_after,
        "buffer_before": counts.buffer_before,
        "buffer_after": counts.buffer_after,
        "control_before": counts.control_before,
        "control_after": counts.control_after,
        "statistics": statistics,
        "verdict": verdict,
        "explanation": explanation,
        "evaluated_at": timezone.now(),
        "evaluated_by": actor,
    }
    try:
        with transaction.atomic():
            return _outcome_create(values, actor)
    except IntegrityError:
        if actor is not None:
            raise  # only scheduled evaluations are unique per period
        # Another scheduled pass recorded this period first: theirs stands.
        return FindingOutcome.objects.get(
            finding=finding, period_start=start, evaluated_by__isnull=True
        )


def _outcome_create(values: dict[str, Any], actor: Any | None) -> FindingOutcome:
    """Store an outcome evaluation with its audit event (the caller's transaction)."""
    outcome = FindingOutcome.objects.create(**values)
    audit.record(
        action=AuditAction.CREATE,
        actor=actor,
        actor_username="" if actor is not None else "system:outcomes",
        obj=outcome,
        agency_id=values["finding"].agency_id,
        details={
            "finding": values["finding"].pk,
            "period_start": values["period_start"],
            "period_end": values["period_end"],
            "verdict": values["verdict"],
        },
    )
    return outcome


def _check_aware(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise DomainError("Give an aware date/time (with a UTC offset).", field=field)
    return value.astimezone(dt.UTC)


def outcomes_evaluate_due(*, now: dt.datetime | None = None) -> list[FindingOutcome]:
    """The scheduled pass: every accepted finding whose 28 days after acceptance are over and
    that has no outcome yet gets one (period from its acceptance)."""
    now = now or timezone.now()
    due = (
        FindingDecision.objects.filter(
            decision=Decision.ACCEPT,
            decided_at__lte=now - dt.timedelta(days=DEFAULT_OUTCOME_DAYS),
            finding__status=FindingStatus.ACCEPTED,
            finding__outcomes__isnull=True,
        )
        .exclude(finding__kind__in=[FindingKind.NEAR_REPEAT, FindingKind.ENTITY])
        .values_list("finding_id", "decided_at")
    )
    done = []
    for finding_id, decided_at in due:
        done.append(outcome_evaluate(finding_id=finding_id, actor=None, period_start=decided_at))
    return done


@transaction.atomic
def finding_need_to_know_set(*, actor: Any, finding_id: Any, group_ids: Any) -> Finding:
    """Limit a finding to need-to-know groups, or lift the limit with ``[]`` (reviewers only)."""
    finding = access_finding(actor, finding_id, for_write=True)
    need_to_know_apply(actor=actor, record=finding, group_ids=group_ids)
    return finding


def finding_evidence_add(*, finding_id: int, observation_ids: Iterable[int]) -> int:
    """Attach field observations to a finding's evidence (e.g. a tasked officer's report-back).

    The caller has checked that the observations are the reporter's to give and that the work
    was done for this finding. Observations already attached are skipped; returns how many were
    added. Runs never remove these: a run replaces the evidence of *open* findings only, and a
    finding that was tasked has been accepted.
    """
    wanted = set(observation_ids)
    have = set(
        FindingEvidence.objects.filter(
            finding_id=finding_id, observation_id__in=wanted
        ).values_list("observation_id", flat=True)
    )
    new = sorted(wanted - have)
    FindingEvidence.objects.bulk_create(
        [FindingEvidence(finding_id=finding_id, observation_id=pk) for pk in new]
    )
    return len(new)


# A finding names its area by H3 cells of one resolution; past this many the alert's area is
# too large to task from (a state-wide warning), and the finding is refused with that reason.
MAX_ALERT_FINDING_CELLS = 5000


def finding_from_alert(*, actor: Any, alert_id: Any) -> Finding:
    """Propose a finding from a partner alert's area (one open proposal per alert).

    The finding is PROPOSED with ``created_by=actor``: under the four-eyes rule someone else
    accepts it before it can become tasking. Its cells are the alert areas' H3 cover.
    """
    from dispatch.alerts.parser import pick_info
    from dispatch.alerts.permissions import access_alert
    from dispatch.alerts.selectors import display_language
    from dispatch.models import AlertAreaCell

    if not can_propose_from_alert(actor):
        raise PermissionDenied("Not allowed to propose findings.")
    alert = access_alert(actor, alert_id)
    if alert.cancelled_at is not None:
        raise DomainError("This alert was cancelled by its sender.", field="alert")
    info = pick_info(list(alert.infos.all()), display_language())
    if info is None:
        raise DomainError(
            "This alert has no information block (nothing to task from).", field="alert"
        )
    subject_key = f"alert:{alert.pk}"
    existing = Finding.objects.filter(
        agency_id=alert.agency_id,
        kind=FindingKind.PARTNER_ALERT,
        subject_key=subject_key,
        status=FindingStatus.PROPOSED,
    ).first()
    if existing is not None:
        return existing
    areas = list(info.areas.all())
    if not areas or all(not (a.polygons or a.circles) for a in areas):
        raise DomainError("This alert's areas have no polygon or circle to task in.", field="alert")
    if any(a.uncovered for a in areas):
        raise DomainError("This alert's area is too large to task in.", field="alert")
    cells: list[str] = []
    for res in (9, 7):
        cells = sorted(
            set(
                AlertAreaCell.objects.filter(area__in=areas, resolution=res).values_list(
                    "cell", flat=True
                )
            )
        )
        # Every area must be covered at this resolution, or the finding would miss one.
        covered = set(
            AlertAreaCell.objects.filter(area__in=areas, resolution=res).values_list(
                "area_id", flat=True
            )
        )
        shaped = {a.pk for a in areas if a.polygons or a.circles}
        if cells and covered >= shaped and len(cells) <= MAX_ALERT_FINDING_CELLS:
            break
        cells = []
    if not cells:
        raise DomainError("This alert's area is too large to task in.", field="alert")
    first = next(a for a in areas if a.polygons or a.circles)
    lat, lon = (first.polygons[0][0][:2]) if first.polygons else first.circles[0][:2]
    start = info.effective or alert.sent
    end = max(start, info.expires or timezone.now())
    explanation = (
        f"Partner alert from {info.sender_name or alert.sender}: "
        f"{info.headline or info.event} ({info.severity}, {info.urgency}, {info.certainty})."
        f" Area: {'; '.join(a.area_desc for a in areas)[:500]}."
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                finding = Finding.objects.create(
                    agency_id=alert.agency_id,
                    kind=FindingKind.PARTNER_ALERT,
                    subject_key=subject_key,
                    cells=cells,
                    latitude=lat,
                    longitude=lon,
                    window_start=start,
                    window_end=end,
                    statistics={
                        "alert_id": alert.pk,
                        "identifier": alert.identifier,
                        "sender": alert.sender,
                        "event": info.event,
                        "severity": info.severity,
                        "urgency": info.urgency,
                        "certainty": info.certainty,
                        "expires": info.expires.isoformat() if info.expires else None,
                    },
                    explanation=explanation,
                    status=FindingStatus.PROPOSED,
                    created_by=actor,
                )
        except IntegrityError:
            # Proposed concurrently by someone else: theirs stands.
            return Finding.objects.get(
                agency_id=alert.agency_id,
                kind=FindingKind.PARTNER_ALERT,
                subject_key=subject_key,
                status=FindingStatus.PROPOSED,
            )
        audit.record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=finding,
            details={"from_alert": alert.pk},
        )
    return finding
