"""Retention: what the purge removes (with a moved clock), what holds keep, person validation
reviews, batches that survive an interruption, and the counts in the audit trail."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from beacon_core.errors import DomainError
from dispatch import services as dispatch_services
from dispatch.models import CallAssignment, FieldObservation, Involvement, Person, UnitPosition
from governance import retention
from governance.choices import AuditAction, HoldObject, RetentionCategory
from governance.models import (
    AuditEvent,
    LegalHold,
    RetentionPolicy,
    Webhook,
    WebhookDelivery,
)
from governance.tasks import purge_expired
from intelligence.choices import FindingKind
from intelligence.models import Finding, FindingEvidence
from tests.factories import CallFactory, UnitFactory
from tests.tasking.conftest import make_finding

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def fix(unit: Any, at: dt.datetime) -> UnitPosition:
    return UnitPosition.objects.create(unit=unit, recorded_at=at, latitude=29.4, longitude=-98.5)


def observation(agency: Any, **extra: Any) -> FieldObservation:
    values = {"agency": agency, "observed_at": timezone.now(), "category": "suspicious_person"}
    values.update(narrative="Tall man in a red jacket, called himself Joe Bloggs", **extra)
    return FieldObservation.objects.create(**values)


def person(agency: Any, last_name: str = "Bloggs", **extra: Any) -> Person:
    return Person.objects.create(
        agency=agency,
        last_name=last_name,
        first_name="Joe",
        date_of_birth=dt.date(1990, 1, 2),
        name_key=f"{last_name.upper()}|JOE",
        description="scar on left hand",
        **extra,
    )


def entity_finding(agency: Any, who: Person) -> Finding:
    return make_finding(
        agency,
        kind=FindingKind.ENTITY,
        subject_key=f"entity:person:{who.pk}:suspect",
        statistics={"entity": "person", "entity_id": who.pk, "role": "suspect", "incidents": 4},
        explanation=f"{who} appears as suspect in 4 reports in the last 90 days.",
    )


def purge_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.RETENTION_PURGE).order_by("seq"))


def test_defaults_are_seeded() -> None:
    policies = dict(RetentionPolicy.objects.values_list("category", "keep_days"))
    assert policies == {
        "avl": 90,
        "field_observation": 365,
        "person": retention.FIVE_YEARS,
        "entity_finding": retention.FIVE_YEARS,
        "webhook_delivery": 90,
        "audit": 365,
    }
    assert retention.seed_default_policies() == 0  # idempotent


def test_expired_avl_fixes_and_observations_go_and_recent_ones_stay(agency) -> None:
    now = timezone.now()
    unit = UnitFactory(agency=agency)
    old, recent = fix(unit, now - 91 * DAY), fix(unit, now - 89 * DAY)
    obs = observation(agency)
    later = now + 366 * DAY  # the observation is a year and a day old then

    results = retention.run_purge(now=later, categories=["field_observation"])
    assert results[0].processed == 1
    assert not FieldObservation.objects.filter(pk=obs.pk).exists()

    retention.run_purge(now=now, categories=["avl"])
    assert list(UnitPosition.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not UnitPosition.objects.filter(pk=old.pk).exists()


def test_finished_webhook_deliveries_go_after_a_quarter_and_retrying_ones_stay(
    agency, cast
) -> None:
    hook = Webhook.objects.create(
        agency=agency, name="Partner", url="https://hooks.example.org/b", secret="s" * 32
    )
    now = timezone.now()
    status = WebhookDelivery.Status

    def sent(state: str, age_days: int) -> WebhookDelivery:
        return WebhookDelivery.objects.create(
            webhook=hook,
            event_type="call.created",
            event_id=uuid.uuid4(),
            payload={"call": {"number": "26-000001"}},
            status=state,
            created_at=now - age_days * DAY,
        )

    old_ok, old_given_up = sent(status.SUCCEEDED, 91), sent(status.GIVEN_UP, 91)
    old_retrying, recent_ok = sent(status.FAILED, 91), sent(status.SUCCEEDED, 89)

    results = retention.run_purge(now=now, categories=["webhook_delivery"])

    assert results[0].processed == 2
    left = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert left == {old_retrying.pk, recent_ok.pk}
    assert {old_ok.pk, old_given_up.pk}.isdisjoint(left)
    event = purge_events()[-1]
    assert event.details["category"] == "webhook_delivery"


def test_observation_anonymise_blanks_narrative_and_links_and_keeps_statistics(agency) -> None:
    RetentionPolicy.objects.filter(category="field_observation").update(action="anonymise")
    obs = observation(agency, latitude=29.4, longitude=-98.5)
    who = person(agency)
    Involvement.objects.create(person=who, observation=obs, role="suspect")
    later = timezone.now() + 366 * DAY
    assert retention.run_purge(now=later, categories=["field_observation"])[0].processed == 1
    obs.refresh_from_db()
    assert obs.narrative == "" and obs.anonymised_at == later
    assert (obs.category, obs.latitude) == ("suspicious_person", 29.4)
    assert not Involvement.objects.filter(observation=obs).exists()
    # Done once: a rerun finds nothing to do.
    assert retention.run_purge(now=later, categories=["field_observation"])[0].processed == 0


def test_person_not_validated_within_five_years_is_anonymised_with_their_findings(agency) -> None:
    who = person(agency)
    finding = entity_finding(agency, who)
    call = CallFactory(agency=agency)
    Involvement.objects.create(person=who, call=call, role="suspect", notes="Joe's alibi")
    almost = timezone.now() + (retention.FIVE_YEARS - 1) * DAY
    assert retention.run_purge(now=almost, categories=["person"])[0].processed == 0

    later = timezone.now() + (retention.FIVE_YEARS + 1) * DAY
    result = retention.run_purge(now=later, categories=["person"])[0]
    assert (result.processed, result.action) == (1, "anonymise")
    who.refresh_from_db()
    assert (who.last_name, who.first_name, who.date_of_birth, who.description) == (
        retention.ANONYMISED_NAME,
        "",
        None,
        "",
    )
    assert who.anonymised_at == later and who.sex == "" and who.agency_id == agency.pk
    involvement = Involvement.objects.get(person=who)
    assert (involvement.role, involvement.notes) == ("suspect", "")  # statistics stay
    finding.refresh_from_db()
    assert "Bloggs" not in finding.explanation
    assert "entity_id" not in finding.statistics and finding.statistics["incidents"] == 4
    assert finding.subject_key == f"retention:{finding.pk}"
    assert not FindingEvidence.objects.filter(finding=finding).exists()


def test_anonymising_a_subject_blanks_what_collection_standards_made_people_write(agency) -> None:
    who = Person.objects.create(
        agency=agency,
        last_name="Bloggs",
        name_key="BLOGGS|",
        intelligence_subject=True,
        criminal_activity="drugs",
        suspicion_justification="Seen handing packages at the bus stop three nights running.",
        views_or_associations="Member of a crew that deals on Front Street",
        views_related_to_criminal_conduct=True,
        views_justification="The crew is the supply chain named in two warrants.",
    )
    later = timezone.now() + (retention.FIVE_YEARS + 1) * DAY
    assert retention.run_purge(now=later, categories=["person"])[0].processed == 1
    who.refresh_from_db()
    assert not who.intelligence_subject and who.criminal_activity == ""
    assert who.suspicion_justification == who.views_or_associations == who.views_justification == ""


def test_person_delete_policy_deletes_the_record(agency) -> None:
    RetentionPolicy.objects.filter(category="person").update(action="delete")
    who = person(agency)
    later = timezone.now() + (retention.FIVE_YEARS + 1) * DAY
    assert retention.run_purge(now=later, categories=["person"])[0].processed == 1
    assert not Person.objects.filter(pk=who.pk).exists()


def test_validated_person_is_kept_and_editing_does_not_reset_the_clock(agency, cast) -> None:
    kept, edited = person(agency, "Kept"), person(agency, "Edited")
    t0 = timezone.now()
    # Four years on, a supervisor reviews one; the other only gets its identifying fields fixed.
    with mock.patch("django.utils.timezone.now", return_value=t0 + 4 * 365 * DAY):
        dispatch_services.person_validate(
            actor=cast["supervisor"], person_id=kept.pk, rationale="Still active in case 77."
        )
        edited.last_name, edited.date_of_birth = "Edited-Smith", dt.date(1991, 3, 4)
        edited.save()
    kept.refresh_from_db()
    edited.refresh_from_db()
    assert kept.validated_by == cast["supervisor"]
    assert kept.validation_rationale == "Still active in case 77."
    assert edited.validated_at is None and edited.created_at < t0 + DAY

    later = t0 + (retention.FIVE_YEARS + 1) * DAY
    retention.run_purge(now=later, categories=["person"])
    kept.refresh_from_db()
    edited.refresh_from_db()
    assert kept.anonymised_at is None and kept.last_name == "Kept"
    assert edited.anonymised_at == later

    review = AuditEvent.objects.get(object_type="dispatch.person", object_id=str(kept.pk))
    assert review.action == AuditAction.CHANGE
    assert review.justification == "Still active in case 77."
    assert review.actor == cast["supervisor"]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("supervisor", True), ("analyst", True), ("dispatcher", False), ("admin", False)],
)
def test_who_may_validate(agency, cast, role: str, allowed: bool) -> None:
    who = person(agency)
    call = lambda: dispatch_services.person_validate(  # noqa: E731
        actor=cast[role], person_id=who.pk, rationale="Still suspected."
    )
    if allowed:
        assert call().validated_at is not None
    else:
        with pytest.raises(PermissionDenied):
            call()


def test_validation_needs_a_rationale(agency, cast) -> None:
    who = person(agency)
    with pytest.raises(DomainError) as exc:
        dispatch_services.person_validate(actor=cast["analyst"], person_id=who.pk, rationale=" ")
    assert "rationale" in exc.value.errors


def test_holds_keep_records_and_the_incident_records_of_a_held_call(agency, cast) -> None:
    now = timezone.now()
    unit, other_unit = UnitFactory(agency=agency), UnitFactory(agency=agency)
    call = CallFactory(agency=agency)
    CallAssignment.objects.create(
        call=call, unit=unit, assigned_at=now - 200 * DAY, cleared_at=now - 199 * DAY
    )
    on_call = fix(unit, now - 199.5 * DAY)
    off_call = fix(unit, now - 150 * DAY)
    held_unit_fix = fix(other_unit, now - 150 * DAY)
    obs_on_call = observation(agency, call=call)
    obs_held = observation(agency)
    obs_free = observation(agency)
    in_call, alone, free = person(agency, "Incall"), person(agency, "Alone"), person(agency, "Free")
    Involvement.objects.create(person=in_call, call=call, role="witness")
    finding_held = entity_finding(agency, free)

    for object_type, object_id in (
        (HoldObject.CALL, call.pk),
        (HoldObject.UNIT, other_unit.pk),
        (HoldObject.OBSERVATION, obs_held.pk),
        (HoldObject.PERSON, alone.pk),
        (HoldObject.FINDING, finding_held.pk),
    ):
        retention.legal_hold_place(
            actor=cast["supervisor"], object_type=object_type, object_id=object_id, reason="Case 9"
        )

    later = now + (retention.FIVE_YEARS + 1) * DAY
    results = {r.category: r for r in retention.run_purge(now=later)}
    assert set(UnitPosition.objects.values_list("pk", flat=True)) == {
        on_call.pk,
        held_unit_fix.pk,
    }
    assert not UnitPosition.objects.filter(pk=off_call.pk).exists()
    assert set(FieldObservation.objects.values_list("pk", flat=True)) == {
        obs_on_call.pk,
        obs_held.pk,
    }
    assert not FieldObservation.objects.filter(pk=obs_free.pk).exists()
    anonymised = set(
        Person.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True)
    )
    assert anonymised == {free.pk}
    finding_held.refresh_from_db()
    assert finding_held.subject_key.startswith("entity:")  # held: untouched
    assert results["avl"].held == 2 and results["person"].held == 2

    # Released: the next run takes them.
    hold = LegalHold.objects.get(object_type=HoldObject.PERSON, object_id=alone.pk)
    retention.legal_hold_release(actor=cast["admin"], hold_id=hold.pk, reason="Case closed")
    retention.run_purge(now=later, categories=["person"])
    alone.refresh_from_db()
    assert alone.anonymised_at == later


def test_holds_are_placed_by_admins_and_supervisors_only_with_a_reason(
    agency, other_agency, cast
) -> None:
    who = person(agency)
    with pytest.raises(PermissionDenied):
        retention.legal_hold_place(
            actor=cast["dispatcher"], object_type="dispatch.person", object_id=who.pk, reason="x"
        )
    for kwargs, field in (
        ({"object_type": "dispatch.person", "object_id": who.pk, "reason": " "}, "reason"),
        ({"object_type": "auth.user", "object_id": who.pk, "reason": "x"}, "object_type"),
        ({"object_type": "dispatch.person", "object_id": "abc", "reason": "x"}, "object_id"),
        ({"object_type": "dispatch.person", "object_id": 987654, "reason": "x"}, "object_id"),
    ):
        with pytest.raises(DomainError) as exc:
            retention.legal_hold_place(actor=cast["admin"], **kwargs)
        assert field in exc.value.errors
    # Another agency's record answers like a missing one.
    theirs = person(other_agency)
    with pytest.raises(DomainError) as exc:
        retention.legal_hold_place(
            actor=cast["admin"], object_type="dispatch.person", object_id=theirs.pk, reason="x"
        )
    assert exc.value.errors == {"object_id": ["No such record."]}
    hold = retention.legal_hold_place(
        actor=cast["admin"], object_type="dispatch.person", object_id=who.pk, reason="Subpoena 4"
    )
    placed = AuditEvent.objects.get(object_type="governance.legalhold", object_id=str(hold.pk))
    assert (placed.action, placed.justification) == (AuditAction.CREATE, "Subpoena 4")
    with pytest.raises(DomainError):  # one active hold per record
        retention.legal_hold_place(
            actor=cast["admin"], object_type="dispatch.person", object_id=who.pk, reason="again"
        )


def test_audit_trail_is_never_purged_and_policy_below_a_year_is_refused(agency, cast) -> None:
    retention.legal_hold_place(
        actor=cast["admin"],
        object_type="dispatch.person",
        object_id=person(agency).pk,
        reason="makes an audit event",
    )
    before = AuditEvent.objects.count()
    with pytest.raises(DomainError) as exc:
        retention.retention_policy_set(
            actor=cast["admin"], category="audit", keep_days=364, action="delete"
        )
    assert "keep_days" in exc.value.errors
    with pytest.raises(DomainError):
        retention.run_purge(categories=["audit"])
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        RetentionPolicy.objects.filter(category="audit").update(keep_days=30)
    far = timezone.now() + 50 * 365 * DAY
    retention.run_purge(now=far)
    # Only the run's own events were added; none was removed.
    assert AuditEvent.objects.count() == before + len(retention.PURGEABLE)
    assert AuditEvent.objects.filter(seq__lte=before).count() == before


def test_policy_changes_are_checked_and_audited(cast) -> None:
    for kwargs, field in (
        ({"category": "nope", "keep_days": 10, "action": "delete"}, "category"),
        ({"category": "avl", "keep_days": "ten", "action": "delete"}, "keep_days"),
        ({"category": "avl", "keep_days": 0, "action": "delete"}, "keep_days"),
        ({"category": "avl", "keep_days": 10, "action": "anonymise"}, "action"),
        ({"category": "entity_finding", "keep_days": 10, "action": "delete"}, "action"),
    ):
        with pytest.raises(DomainError) as exc:
            retention.retention_policy_set(actor=cast["admin"], **kwargs)
        assert field in exc.value.errors, kwargs
    with pytest.raises(PermissionDenied):
        retention.retention_policy_set(
            actor=cast["supervisor"], category="avl", keep_days=30, action="delete"
        )
    retention.retention_policy_set(
        actor=cast["admin"], category="avl", keep_days=30, action="delete", justification="DPIA 3"
    )
    assert RetentionPolicy.objects.get(category="avl").keep_days == 30
    event = AuditEvent.objects.get(object_type="governance.retentionpolicy", object_id="avl")
    assert event.details["changed"] == {"keep_days": [90, 30]}
    assert event.justification == "DPIA 3"


def test_dry_run_changes_nothing(agency) -> None:
    unit = UnitFactory(agency=agency)
    fix(unit, timezone.now() - 100 * DAY)
    observation(agency)
    person(agency)
    later = timezone.now() + 10 * 365 * DAY
    events = AuditEvent.objects.count()
    results = {r.category: r for r in retention.run_purge(now=later, dry_run=True)}
    assert {c: r.eligible for c, r in results.items()} == {
        "avl": 1,
        "field_observation": 1,
        "person": 1,
        "entity_finding": 0,
        "webhook_delivery": 0,
    }
    assert all(r.processed == 0 and r.dry_run for r in results.values())
    assert (UnitPosition.objects.count(), FieldObservation.objects.count()) == (1, 1)
    assert Person.objects.get().anonymised_at is None
    assert AuditEvent.objects.count() == events


def test_interrupted_run_keeps_whole_batches_and_a_rerun_completes(agency) -> None:
    unit = UnitFactory(agency=agency)
    now = timezone.now()
    for minutes in range(5):
        fix(unit, now - 100 * DAY - minutes * dt.timedelta(minutes=1))
    keep = fix(unit, now)
    real = retention.apply_batch
    calls = {"n": 0}

    def fail_second(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            real(*args, **kwargs)  # half done inside the batch's transaction, then it dies
            raise RuntimeError("worker killed")
        real(*args, **kwargs)

    with (
        mock.patch.object(retention, "apply_batch", fail_second),
        pytest.raises(RuntimeError),
    ):
        retention.run_purge(now=now, categories=["avl"], batch_size=2)
    # The first batch is committed; the second rolled back as a whole.
    assert UnitPosition.objects.count() == 4
    interrupted = purge_events()[-1]
    assert interrupted.details["completed"] is False
    assert interrupted.details["deleted"] == 2

    result = retention.run_purge(now=now, categories=["avl"], batch_size=2)[0]
    assert (result.processed, result.batches, result.completed) == (3, 2, True)
    assert list(UnitPosition.objects.values_list("pk", flat=True)) == [keep.pk]


def test_counts_go_to_the_trail_one_event_per_category(agency) -> None:
    unit = UnitFactory(agency=agency)
    fix(unit, timezone.now() - 100 * DAY)
    fix(unit, timezone.now() - 101 * DAY)
    purge_expired()  # the scheduled task, as beat runs it
    events = purge_events()
    assert [e.object_id for e in events] == list(retention.PURGEABLE)
    avl = events[0]
    assert avl.actor is None and avl.actor_username == retention.SYSTEM_ACTOR
    assert avl.details["deleted"] == 2 and avl.details["anonymised"] == 0
    assert avl.details["dry_run"] is False and avl.details["completed"] is True
    assert avl.details["trigger"] == "schedule" and avl.details["keep_days"] == 90
    assert avl.details["cutoff"]
    assert len({e.details["run"] for e in events}) == 1


def test_command_dry_run_and_category(agency, capsys) -> None:
    unit = UnitFactory(agency=agency)
    fix(unit, timezone.now() - 100 * DAY)
    call_command("purge_expired", "--dry-run", "--category", "avl", "--no-progress")
    out = capsys.readouterr().out
    assert "avl: would process 1" in out
    assert UnitPosition.objects.count() == 1
    call_command("purge_expired", "--category", "avl")
    assert "avl: processed 1" in capsys.readouterr().out
    assert UnitPosition.objects.count() == 0
    assert [e.object_id for e in purge_events()] == ["avl"]


def test_beat_runs_the_purge_daily() -> None:
    from config.celery import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["governance: retention purge, daily"]
    assert entry["task"] == "governance.purge_expired"


def test_policy_for_falls_back_to_the_default_when_the_row_is_gone() -> None:
    RetentionPolicy.objects.filter(category="avl").delete()
    assert retention.policy_for(RetentionCategory.AVL).keep_days == 90


def test_due_within_lists_what_expires_soon_per_category_and_review_takes_it_off(
    agency, cast
) -> None:
    now = timezone.now()
    unit = UnitFactory(agency=agency)
    fix(unit, now - 100 * DAY)  # expired already (90 days): the purge's, not "due soon"
    due_fix = fix(unit, now - 80 * DAY)  # expires in 10 days
    fix(unit, now - 10 * DAY)  # 80 days to go
    reviewed, lapsing, held = person(agency, "Reviewed"), person(agency, "Lapsing"), person(agency)
    retention.legal_hold_place(
        actor=cast["supervisor"], object_type=HoldObject.PERSON, object_id=held.pk, reason="Trial"
    )
    # Time travel to 20 days before the five years are over.
    soon = now + (retention.FIVE_YEARS - 20) * DAY
    by_category = {d.category: d for d in retention.due_within(30, now=soon)}
    people = by_category["person"]
    assert (people.due, people.held, people.days) == (2, 1, 30)
    assert people.first_due is not None
    assert abs(people.first_due - (reviewed.created_at + retention.FIVE_YEARS * DAY)) < DAY

    avl = {d.category: d for d in retention.due_within(30, now=now)}["avl"]
    assert (avl.due, avl.held) == (1, 0)
    assert abs(avl.first_due - (due_fix.recorded_at + 90 * DAY)) < dt.timedelta(seconds=1)

    with mock.patch("django.utils.timezone.now", return_value=soon):
        dispatch_services.person_validate(
            actor=cast["supervisor"], person_id=reviewed.pk, rationale="Still active in case 9."
        )
    people = retention.due_within(30, now=soon, categories=["person"])[0]
    assert (people.due, people.held) == (1, 1)  # only the lapsing one is left to review
    # Editing identifying fields does not take a person off the list.
    lapsing.date_of_birth = dt.date(1980, 1, 1)
    lapsing.save()
    assert retention.due_within(30, now=soon, categories=["person"])[0].due == 1
    with pytest.raises(DomainError):
        retention.due_within(-1)
    # Counting changes nothing.
    assert UnitPosition.objects.count() == 3 and not purge_events()


def test_command_lists_what_is_due_within_n_days(agency, capsys) -> None:  # type: ignore[no-untyped-def]
    fix(UnitFactory(agency=agency), timezone.now() - 80 * DAY)
    call_command("purge_expired", "--due-within", "30", "--no-progress")
    out = capsys.readouterr().out
    assert "avl: 1 due within 30 days" in out
    assert UnitPosition.objects.count() == 1 and not purge_events()
