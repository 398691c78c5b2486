"""Retention and legal hold: how long each category of records is kept, what the purge removes,
and the holds that keep records out of it.

* ``RetentionPolicy`` rows (one per ``RetentionCategory``) say how many days a record is kept
  and whether it is then deleted or anonymised. Defaults: ``DEFAULT_POLICIES``.
* ``LegalHold`` rows keep records (and, for a call, its incident's records) out of the purge.
* ``run_purge`` removes what has expired, in batches of ``BATCH_SIZE`` rows, each batch its own
  transaction, oldest id first: an interrupted run leaves whole batches done and whole records
  untouched, and a rerun carries on with what is still expired. One ``retention_purge`` audit
  event per category per run carries the counts. The audit trail itself is never touched.

Each record's clock runs from a stored time that no edit changes (``created_at``, a fix's
``recorded_at``, a person's last validation review), never from ``updated_at``: 28 CFR 23 says
updating identifying information is not a review.

Governance imports no domain app: the domain models are named by label (``apps.get_model``), as
the audit trail names them. The selection functions take ``now`` so tests can move the clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Min, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from beacon_core.errors import DomainError, NotFoundError
from governance import audit
from governance.access import can, has_role, may_write_agency
from governance.choices import (
    Action,
    AuditAction,
    Category,
    HoldObject,
    RetentionAction,
    RetentionCategory,
    Role,
)
from governance.models import LegalHold, RetentionPolicy

logger = logging.getLogger(__name__)

DAYS_PER_YEAR = 365
# 5 years plus the leap day most 5-year spans hold (28 CFR 23 / BJA: at most five years).
FIVE_YEARS = 5 * DAYS_PER_YEAR + 1
# (keep_days, action) per category. Person records are anonymised rather than deleted by
# default: their involvements (role x incident counts) stay as statistics.
DEFAULT_POLICIES: dict[str, tuple[int, str]] = {
    RetentionCategory.AVL: (90, RetentionAction.DELETE),
    RetentionCategory.FIELD_OBSERVATION: (DAYS_PER_YEAR, RetentionAction.DELETE),
    RetentionCategory.PERSON: (FIVE_YEARS, RetentionAction.ANONYMISE),
    RetentionCategory.ENTITY_FINDING: (FIVE_YEARS, RetentionAction.ANONYMISE),
    # Each delivery row holds a copy of what was sent (call numbers, places, unit names): a log
    # for troubleshooting receivers, not a record, so it goes after a quarter.
    RetentionCategory.WEBHOOK_DELIVERY: (90, RetentionAction.DELETE),
    # Kept at least a year (CJIS 5.4.7); the job never removes audit events, the row records
    # the floor the agency promises (archive or export older events outside Beacon).
    RetentionCategory.AUDIT: (DAYS_PER_YEAR, RetentionAction.DELETE),
}
ALLOWED_ACTIONS: dict[str, frozenset[str]] = {
    # A fix has nothing to blank but the unit and the place, which are the whole record.
    RetentionCategory.AVL: frozenset({RetentionAction.DELETE}),
    RetentionCategory.FIELD_OBSERVATION: frozenset(RetentionAction.values),
    RetentionCategory.PERSON: frozenset(RetentionAction.values),
    # Decisions and taskings refer to findings (PROTECT) and must stay accountable.
    RetentionCategory.ENTITY_FINDING: frozenset({RetentionAction.ANONYMISE}),
    RetentionCategory.WEBHOOK_DELIVERY: frozenset({RetentionAction.DELETE}),
    RetentionCategory.AUDIT: frozenset({RetentionAction.DELETE}),
}
MIN_KEEP_DAYS: dict[str, int] = {RetentionCategory.AUDIT: DAYS_PER_YEAR}
MAX_KEEP_DAYS = 100 * DAYS_PER_YEAR
# Order of a run: persons before entity findings, since anonymising a person also anonymises
# the findings that name them.
PURGEABLE: tuple[str, ...] = (
    RetentionCategory.AVL,
    RetentionCategory.FIELD_OBSERVATION,
    RetentionCategory.PERSON,
    RetentionCategory.ENTITY_FINDING,
    RetentionCategory.WEBHOOK_DELIVERY,
)
BATCH_SIZE = 5_000
MAX_REASON = 2_000
MAX_ID = 2**63  # bigint: a larger number is no record, and would overflow the query
ANONYMISED_NAME = "ANONYMISED"
# An anonymised finding's subject_key: no longer matches the subject, so an analysis rerun
# never updates it, and it marks the row as done.
ANONYMISED_KEY_PREFIX = "retention:"
ANONYMISED_EXPLANATION = "Person-level details removed by retention on {day}."
# Statistics of an entity finding that identify its subject; the counts stay.
IDENTIFYING_STATISTICS = ("entity_id", "person_ids", "vehicle_ids")
SYSTEM_ACTOR = "retention-job"


# --- policies ----------------------------------------------------------------------------------


def seed_default_policies(policy_model: Any = RetentionPolicy) -> int:
    """Create the default policy of every category that has none; returns how many it made.

    Admins cannot delete policies, so a missing row means a new or flushed database: filling
    the gaps is always right and runs after every migrate. Takes the model so the migration can
    pass its historical one.
    """
    present = set(policy_model.objects.values_list("category", flat=True))
    rows = [
        policy_model(category=category, keep_days=days, action=action)
        for category, (days, action) in DEFAULT_POLICIES.items()
        if category not in present
    ]
    policy_model.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def policy_for(category: str) -> RetentionPolicy:
    """The stored policy, or the default (unsaved) when the row is missing."""
    stored = RetentionPolicy.objects.filter(category=category).first()
    if stored is not None:
        return stored
    days, action = DEFAULT_POLICIES[category]
    return RetentionPolicy(category=category, keep_days=days, action=action)


def check_policy(category: Any, keep_days: Any, action: Any) -> tuple[str, int, str]:
    """The cleaned (category, keep_days, action); ``DomainError`` naming the field otherwise."""
    if not isinstance(category, str) or category not in RetentionCategory.values:
        raise DomainError(
            f"Choose one of: {', '.join(RetentionCategory.values)}.", field="category"
        )
    try:
        days = int(str(keep_days).strip())
    except (TypeError, ValueError):
        raise DomainError("Give a whole number of days.", field="keep_days") from None
    if isinstance(keep_days, bool | float):
        raise DomainError("Give a whole number of days.", field="keep_days")
    low = MIN_KEEP_DAYS.get(category, 1)
    if days < low:
        why = " (the audit trail is kept at least a year)" if category == "audit" else ""
        raise DomainError(f"At least {low} days{why}.", field="keep_days")
    if days > MAX_KEEP_DAYS:
        raise DomainError(f"At most {MAX_KEEP_DAYS} days.", field="keep_days")
    allowed = ALLOWED_ACTIONS[category]
    if not isinstance(action, str) or action not in allowed:
        raise DomainError(f"Choose one of: {', '.join(sorted(allowed))}.", field="action")
    return category, days, action


def _require_admin(actor: Any) -> None:
    if not can(actor, Action.CHANGE, Category.ACCESS_POLICY):
        raise PermissionDenied("Only administrators change retention policies.")


@transaction.atomic
def retention_policy_set(
    *, actor: Any, category: Any, keep_days: Any, action: Any, justification: str = ""
) -> RetentionPolicy:
    """Change how long a category is kept and what happens after; audited (before/after)."""
    _require_admin(actor)
    category, days, action = check_policy(category, keep_days, action)
    justification = _reason(justification, "justification", required=False)
    policy = RetentionPolicy.objects.select_for_update().filter(category=category).first()
    if policy is None:
        policy = RetentionPolicy(category=category, **_default_fields(category))
    before = {"keep_days": policy.keep_days, "action": policy.action}
    after = {"keep_days": days, "action": action}
    if before == after and policy.pk is not None:
        return policy
    policy.keep_days, policy.action, policy.updated_by = days, action, actor
    policy.save()
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=policy,
        object_id=category,
        justification=justification,
        details={"changed": audit.changed_fields(before, after)},
    )
    return policy


def _default_fields(category: str) -> dict[str, Any]:
    days, action = DEFAULT_POLICIES[category]
    return {"keep_days": days, "action": action}


# --- legal holds -------------------------------------------------------------------------------


def may_manage_holds(user: Any) -> bool:
    """Admins (who keep the access rules) and supervisors place and release holds.

    Supervisors by role: no data category expresses "may stop a purge", and a new one would
    need grants in every existing database. Fails closed like ``can``.
    """
    return can(user, Action.CHANGE, Category.ACCESS_POLICY) or has_role(user, Role.SUPERVISOR)


def _reason(value: Any, field: str, *, required: bool) -> str:
    if value is not None and not isinstance(value, str):
        raise DomainError("Give text.", field=field)
    text = (value or "").strip()
    if required and not text:
        raise DomainError("Give the reason (recorded in the audit trail).", field=field)
    if len(text) > MAX_REASON:
        raise DomainError(f"At most {MAX_REASON} characters.", field=field)
    if "\x00" in text:  # PostgreSQL text cannot hold it
        raise DomainError("Null characters are not allowed.", field=field)
    return text


def _held_object(actor: Any, object_type: Any, object_id: Any) -> Any:
    if not isinstance(object_type, str) or object_type not in HoldObject.values:
        raise DomainError(f"Choose one of: {', '.join(HoldObject.values)}.", field="object_type")
    try:
        pk = int(str(object_id).strip())
    except (TypeError, ValueError):
        raise DomainError("Give the record's number.", field="object_id") from None
    if isinstance(object_id, bool) or not 0 < pk < MAX_ID:
        raise DomainError("Give the record's number.", field="object_id")
    obj = apps.get_model(object_type).objects.filter(pk=pk).first()
    # Another agency's record answers like a missing one: a hold form is no existence oracle.
    if obj is None or not may_write_agency(actor, _agency_of(obj)):
        raise DomainError("No such record.", field="object_id")
    return obj


def _agency_of(obj: Any) -> int:
    # Every holdable record belongs to an agency (calls, persons, observations, units, findings).
    return int(obj.agency_id)


@transaction.atomic
def legal_hold_place(*, actor: Any, object_type: Any, object_id: Any, reason: Any) -> LegalHold:
    """Keep a record (a call: with its incident's records) out of the purge until released."""
    if not may_manage_holds(actor):
        raise PermissionDenied("Only administrators and supervisors place legal holds.")
    reason = _reason(reason, "reason", required=True)
    obj = _held_object(actor, object_type, object_id)
    if LegalHold.objects.active().filter(object_type=object_type, object_id=obj.pk).exists():
        raise DomainError("This record is already on hold.", field="object_id")
    hold = LegalHold.objects.create(
        object_type=object_type,
        object_id=obj.pk,
        agency_id=_agency_of(obj),
        reason=reason,
        placed_by=actor,
        placed_at=timezone.now(),
    )
    audit.record(
        action=AuditAction.CREATE,
        actor=actor,
        obj=hold,
        justification=reason,
        details={"legal_hold": "placed", "object_type": object_type, "object_id": obj.pk},
    )
    return hold


@transaction.atomic
def legal_hold_release(*, actor: Any, hold_id: Any, reason: Any) -> LegalHold:
    """End an active hold; the records become purgeable again under their policy."""
    if not may_manage_holds(actor):
        raise PermissionDenied("Only administrators and supervisors release legal holds.")
    try:
        pk = int(hold_id)
        if not 0 < pk < MAX_ID:
            raise LegalHold.DoesNotExist
        hold = LegalHold.objects.select_for_update().get(pk=pk)
    except (TypeError, ValueError, LegalHold.DoesNotExist):
        raise NotFoundError from None
    if not may_write_agency(actor, hold.agency_id):
        raise NotFoundError  # another agency's hold looks like none
    reason = _reason(reason, "reason", required=True)
    if not hold.is_active:
        raise DomainError("This hold was already released.", field="hold")
    hold.released_at, hold.released_by, hold.release_reason = timezone.now(), actor, reason
    hold.save(update_fields=["released_at", "released_by", "release_reason"])
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=hold,
        justification=reason,
        details={
            "legal_hold": "released",
            "object_type": hold.object_type,
            "object_id": hold.object_id,
        },
    )
    return hold


@dataclass(frozen=True)
class Holds:
    """Ids under an active hold, by kind."""

    calls: frozenset[int] = frozenset()
    persons: frozenset[int] = frozenset()
    observations: frozenset[int] = frozenset()
    units: frozenset[int] = frozenset()
    findings: frozenset[int] = frozenset()


def active_holds() -> Holds:
    """The records directly under an active hold."""
    by_type: dict[str, set[int]] = {t: set() for t in HoldObject.values}
    for object_type, object_id in LegalHold.objects.active().values_list(
        "object_type", "object_id"
    ):
        by_type[object_type].add(object_id)
    return Holds(
        calls=frozenset(by_type[HoldObject.CALL]),
        persons=frozenset(by_type[HoldObject.PERSON]),
        observations=frozenset(by_type[HoldObject.OBSERVATION]),
        units=frozenset(by_type[HoldObject.UNIT]),
        findings=frozenset(by_type[HoldObject.FINDING]),
    )


def held_person_ids(holds: Holds) -> set[int]:
    """Persons held directly, or involved in a held call, a held observation or an observation
    filed on a held call (a hold on a call covers the incident's records)."""
    ids = set(holds.persons)
    if holds.calls or holds.observations:
        involvement = apps.get_model("dispatch", "Involvement")
        ids |= set(
            involvement.objects.filter(person__isnull=False)
            .filter(
                Q(call_id__in=holds.calls)
                | Q(observation_id__in=holds.observations)
                | Q(observation__call_id__in=holds.calls)
            )
            .values_list("person_id", flat=True)
        )
    return ids


def held_q(category: str, holds: Holds, now: dt.datetime) -> Q:
    """The records of ``category`` a hold keeps (to exclude from the purge)."""
    nothing = Q(pk__in=[])
    if category == RetentionCategory.AVL:
        # A held unit keeps its whole track; a held call keeps the fixes of each unit on it
        # from assignment to clearing (the route to and at the scene is evidence).
        q = Q(unit_id__in=holds.units) if holds.units else nothing
        assignment = apps.get_model("dispatch", "CallAssignment")
        for unit_id, start, end in assignment.objects.filter(call_id__in=holds.calls).values_list(
            "unit_id", "assigned_at", "cleared_at"
        ):
            q |= Q(unit_id=unit_id, recorded_at__gte=start, recorded_at__lte=end or now)
        return q
    if category == RetentionCategory.FIELD_OBSERVATION:
        return Q(pk__in=holds.observations) | Q(call_id__in=holds.calls)
    if category == RetentionCategory.PERSON:
        return Q(pk__in=held_person_ids(holds))
    if category == RetentionCategory.ENTITY_FINDING:
        # A held finding, or one about a held person.
        people = sorted(held_person_ids(holds))
        return Q(pk__in=holds.findings) | Q(
            statistics__entity="person", statistics__entity_id__in=people
        )
    if category == RetentionCategory.WEBHOOK_DELIVERY:
        return nothing  # copies of what was sent; the held call itself keeps the evidence
    raise ValueError(category)


# --- what has expired --------------------------------------------------------------------------


def cutoff_for(keep_days: int, now: dt.datetime) -> dt.datetime:
    """Records whose clock is before this have expired."""
    return now - dt.timedelta(days=keep_days)


def candidates(category: str, policy: RetentionPolicy, now: dt.datetime) -> QuerySet[Any]:
    """Expired records of ``category`` not yet processed under ``policy`` (holds not applied)."""
    cutoff = cutoff_for(policy.keep_days, now)
    anonymise = policy.action == RetentionAction.ANONYMISE
    if category == RetentionCategory.AVL:
        return apps.get_model("dispatch", "UnitPosition").objects.filter(recorded_at__lt=cutoff)
    if category == RetentionCategory.FIELD_OBSERVATION:
        # created_at: when Beacon collected it; observed_at could be back-dated by the writer.
        qs = apps.get_model("dispatch", "FieldObservation").objects.filter(created_at__lt=cutoff)
        return qs.filter(anonymised_at__isnull=True) if anonymise else qs
    if category == RetentionCategory.PERSON:
        qs = (
            apps.get_model("dispatch", "Person")
            .objects.alias(clock=Coalesce("validated_at", "created_at"))
            .filter(clock__lt=cutoff)
        )
        return qs.filter(anonymised_at__isnull=True) if anonymise else qs
    if category == RetentionCategory.ENTITY_FINDING:
        return (
            apps.get_model("intelligence", "Finding")
            .objects.filter(kind="entities", created_at__lt=cutoff)
            .exclude(subject_key__startswith=ANONYMISED_KEY_PREFIX)
        )
    if category == RetentionCategory.WEBHOOK_DELIVERY:
        # Only finished deliveries: one still retrying keeps its payload until it succeeds or
        # is given up (the sweeper would otherwise send an empty row).
        return apps.get_model("governance", "WebhookDelivery").objects.filter(
            created_at__lt=cutoff, status__in=("succeeded", "given_up")
        )
    raise DomainError("The audit trail is never purged by the retention job.", field="category")


def eligible(category: str, policy: RetentionPolicy, now: dt.datetime) -> QuerySet[Any]:
    """What the purge would process now: expired and under no hold."""
    return candidates(category, policy, now).exclude(held_q(category, active_holds(), now))


# --- applying ----------------------------------------------------------------------------------


def _anonymise_findings(qs: QuerySet[Any], now: dt.datetime) -> int:
    """Blank what names the subject (explanation, subject key, ids in statistics, evidence
    links to the incidents); keep kind, role, counts, window, status, decisions, taskings."""
    rows = list(qs.only("pk", "statistics"))
    if not rows:
        return 0
    text = ANONYMISED_EXPLANATION.format(day=now.date().isoformat())
    for finding in rows:
        finding.subject_key = f"{ANONYMISED_KEY_PREFIX}{finding.pk}"
        finding.explanation = text
        finding.statistics = {
            k: v for k, v in (finding.statistics or {}).items() if k not in IDENTIFYING_STATISTICS
        }
    model = type(rows[0])
    model.objects.bulk_update(rows, ["subject_key", "explanation", "statistics"])
    apps.get_model("intelligence", "FindingEvidence").objects.filter(
        finding_id__in=[f.pk for f in rows]
    ).delete()
    return len(rows)


def _findings_about_persons(person_ids: list[int]) -> QuerySet[Any]:
    return (
        apps.get_model("intelligence", "Finding")
        .objects.filter(kind="entities", statistics__entity="person")
        .filter(statistics__entity_id__in=person_ids)
        .exclude(subject_key__startswith=ANONYMISED_KEY_PREFIX)
    )


def apply_batch(category: str, action: str, ids: list[int], now: dt.datetime) -> None:
    """Delete or anonymise these records (and what names them), in the caller's transaction."""
    involvement = apps.get_model("dispatch", "Involvement")
    if category == RetentionCategory.AVL:
        apps.get_model("dispatch", "UnitPosition").objects.filter(pk__in=ids).delete()
    elif category == RetentionCategory.FIELD_OBSERVATION:
        model = apps.get_model("dispatch", "FieldObservation")
        if action == RetentionAction.DELETE:
            model.objects.filter(pk__in=ids).delete()
        else:
            # The narrative is free text about people; the links name them. Category, time,
            # place and agency stay for the analyses.
            involvement.objects.filter(observation_id__in=ids).delete()
            model.objects.filter(pk__in=ids).update(narrative="", anonymised_at=now)
    elif category == RetentionCategory.PERSON:
        model = apps.get_model("dispatch", "Person")
        # A finding that names the person would keep the name the record lost (unless the
        # finding itself is on hold: then it is kept as it is, which is what the hold asks).
        held = active_holds().findings
        _anonymise_findings(_findings_about_persons(ids).exclude(pk__in=held), now)
        if action == RetentionAction.DELETE:
            model.objects.filter(pk__in=ids).delete()  # involvements go with them (CASCADE)
        else:
            # Agency, sex, sensitivity and the involvements (role x incident) stay as statistics.
            involvement.objects.filter(person_id__in=ids).update(notes="")
            model.objects.filter(pk__in=ids).update(
                last_name=ANONYMISED_NAME,
                first_name="",
                middle_name="",
                date_of_birth=None,
                name_key="",
                description="",
                validation_rationale="",
                # What collection standards made people write about them goes too.
                intelligence_subject=False,
                criminal_activity="",
                suspicion_justification="",
                subject_recorded_by=None,
                subject_recorded_at=None,
                views_or_associations="",
                views_related_to_criminal_conduct=False,
                views_justification="",
                anonymised_at=now,
            )
    elif category == RetentionCategory.ENTITY_FINDING:
        model = apps.get_model("intelligence", "Finding")
        _anonymise_findings(model.objects.filter(pk__in=ids), now)
    elif category == RetentionCategory.WEBHOOK_DELIVERY:
        apps.get_model("governance", "WebhookDelivery").objects.filter(pk__in=ids).delete()
    else:
        raise ValueError(category)


# --- the run -----------------------------------------------------------------------------------


@dataclass
class CategoryResult:
    """What one category's purge found and did."""

    category: str
    action: str
    keep_days: int
    cutoff: dt.datetime
    eligible: int
    held: int
    processed: int = 0
    batches: int = 0
    dry_run: bool = False
    completed: bool = False
    run: str = ""
    errors: list[str] = field(default_factory=list)

    def as_details(self, *, batch_size: int, trigger: str) -> dict[str, Any]:
        data = asdict(self)
        data.pop("errors")
        done = self.processed
        data.update(
            cutoff=self.cutoff.isoformat(),
            deleted=done if self.action == RetentionAction.DELETE else 0,
            anonymised=done if self.action == RetentionAction.ANONYMISE else 0,
            batch_size=batch_size,
            trigger=trigger,
        )
        return data


Progress = Callable[[int], None]


def _record(result: CategoryResult, actor: Any, batch_size: int, trigger: str) -> None:
    label = RetentionCategory(result.category).label
    audit.record(
        action=AuditAction.RETENTION_PURGE,
        actor=actor,
        actor_username="" if actor is not None else SYSTEM_ACTOR,
        object_type="governance.retentionpolicy",
        object_id=result.category,
        object_label=label,
        details=result.as_details(batch_size=batch_size, trigger=trigger),
    )


def purge_category(
    category: str,
    *,
    now: dt.datetime,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    actor: Any = None,
    trigger: str = "command",
    run: str = "",
    progress: Callable[[str, int], Progress] | None = None,
) -> CategoryResult:
    """Purge one category: count, then delete or anonymise in batches, then record the counts.

    ``progress(category, total)`` is asked for a callback that gets each batch's size (the
    command's progress bar). A dry run counts and changes nothing, the audit trail included.
    """
    if category not in PURGEABLE:
        raise DomainError("The audit trail is never purged by the retention job.", field="category")
    policy = policy_for(category)
    expired = candidates(category, policy, now)
    result = CategoryResult(
        category=category,
        action=policy.action,
        keep_days=policy.keep_days,
        cutoff=cutoff_for(policy.keep_days, now),
        eligible=0,
        held=0,
        dry_run=dry_run,
        run=run,
    )
    result.eligible = eligible(category, policy, now).count()
    result.held = expired.count() - result.eligible
    if dry_run:
        result.completed = True
        return result
    tick = progress(category, result.eligible) if progress else None
    last_pk = 0
    try:
        while True:
            with transaction.atomic():
                # Holds are re-read per batch: one placed during a long run applies at once.
                # ``pk > last`` keeps every batch moving forward even if a row stays eligible.
                ids = list(
                    eligible(category, policy, now)
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not ids:
                    break
                apply_batch(category, policy.action, ids, now)
            last_pk = ids[-1]
            result.processed += len(ids)
            result.batches += 1
            if tick is not None:
                tick(len(ids))
    except BaseException as exc:
        # Whole batches are done and committed: say so in the trail, then let it fail.
        result.errors.append(repr(exc))
        try:
            _record(result, actor, batch_size, trigger)
        except Exception:
            # The original error is the one to raise; a dead connection fails this too.
            logger.exception("could not record the interrupted %s purge", category)
        raise
    result.completed = True
    _record(result, actor, batch_size, trigger)
    return result


def run_purge(
    *,
    categories: Iterable[str] | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    actor: Any = None,
    trigger: str = "command",
    progress: Callable[[str, int], Progress] | None = None,
) -> list[CategoryResult]:
    """Purge every purgeable category (or those named), in ``PURGEABLE`` order."""
    wanted = list(PURGEABLE) if categories is None else list(categories)
    for category in wanted:
        if category not in PURGEABLE:
            raise DomainError(
                f"Choose from: {', '.join(PURGEABLE)} (the audit trail is never purged).",
                field="category",
            )
    if batch_size < 1:
        raise DomainError("At least 1.", field="batch_size")
    now = now or timezone.now()
    run = uuid.uuid4().hex
    ordered = [c for c in PURGEABLE if c in wanted]
    return [
        purge_category(
            category,
            now=now,
            dry_run=dry_run,
            batch_size=batch_size,
            actor=actor,
            trigger=trigger,
            run=run,
            progress=progress,
        )
        for category in ordered
    ]


def preview(now: dt.datetime | None = None) -> list[CategoryResult]:
    """What the next purge would process (a dry run of every category)."""
    return run_purge(now=now, dry_run=True)


# --- what falls due soon (for review before the purge) -----------------------------------------

DUE_SOON_DAYS = 30


@dataclass(frozen=True)
class DueSoon:
    """Records of one category whose retention period ends within ``days`` (not yet expired)."""

    category: str
    days: int
    due: int  # will be purged or anonymised in that time unless reviewed (persons) or held
    held: int  # due, but a legal hold keeps them
    first_due: dt.datetime | None  # when the earliest of ``due`` expires


def _clock(category: str) -> Any:
    """The moment a record's retention period starts from (as in ``candidates``)."""
    if category == RetentionCategory.PERSON:
        return Coalesce("validated_at", "created_at")
    return F("recorded_at" if category == RetentionCategory.AVL else "created_at")


def due_within(
    days: int = DUE_SOON_DAYS, now: dt.datetime | None = None, categories: Iterable[str] = ()
) -> list[DueSoon]:
    """Per purgeable category, what expires in the next ``days`` days (28 CFR 23: review and
    validate before the period ends, or it is purged). Counts only; changes nothing.

    A person validated meanwhile leaves the list (the clock restarts at ``validated_at``).
    """
    if not 0 <= days <= MAX_KEEP_DAYS:
        raise DomainError(f"Between 0 and {MAX_KEEP_DAYS} days.", field="days")
    now = now or timezone.now()
    later = now + dt.timedelta(days=days)
    holds = active_holds()
    out = []
    for category in categories or PURGEABLE:
        policy = policy_for(category)
        expired = candidates(category, policy, now).values("pk")
        soon = candidates(category, policy, later).exclude(pk__in=expired)
        held = soon.filter(held_q(category, holds, now))
        due = soon.exclude(pk__in=held.values("pk"))
        first = due.aggregate(first=Min(_clock(category)))["first"]
        out.append(
            DueSoon(
                category=category,
                days=days,
                due=due.count(),
                held=held.count(),
                first_due=first + dt.timedelta(days=policy.keep_days) if first else None,
            )
        )
    return out
