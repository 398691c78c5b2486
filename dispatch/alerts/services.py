"""Receiving partner alerts (CAP 1.2): parse, check, store, apply Update/Cancel, audit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from beacon_core.errors import DomainError
from dispatch import realtime
from dispatch.alerts import geometry
from dispatch.alerts.parser import CapError, ParsedAlert, parse_alert, parse_datetime
from dispatch.models import AlertArea, AlertAreaCell, AlertFeed, AlertInfo, PartnerAlert
from governance import audit
from governance.choices import AuditAction


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a receipt did: the alert stored (or already there) and whether it is new."""

    alert: PartnerAlert
    created: bool


def schema_path() -> str | None:
    """The OASIS CAP 1.2 XSD to validate against (setting ``BEACON_CAP_XSD``), or None.

    A path that is set but missing is a configuration error, never a silent skip.
    """
    path = getattr(settings, "BEACON_CAP_XSD", "") or ""
    if not path:
        return None
    from pathlib import Path

    if not Path(path).is_file():
        raise ImproperlyConfigured(f"BEACON_CAP_XSD points at {path}, which does not exist.")
    return path


def alert_parse(*, data: bytes | str) -> ParsedAlert:
    """Parse and validate, turning a refusal into a ``DomainError`` naming field and reason."""
    try:
        return parse_alert(data, schema_path=schema_path())
    except CapError as exc:
        message = f"line {exc.line}: {exc.reason}" if exc.line else exc.reason
        raise DomainError(message, field=exc.field) from None


def _store(parsed: ParsedAlert, *, agency_id: int, via: str, actor: Any | None) -> PartnerAlert:
    alert = PartnerAlert.objects.create(
        agency_id=agency_id,
        identifier=parsed.identifier,
        sender=parsed.sender,
        sent=parsed.sent,
        status=parsed.status,
        msg_type=parsed.msg_type,
        scope=parsed.scope,
        references=parsed.references,
        signed=parsed.signed,
        raw=parsed.raw,
        received_via=via,
        received_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    for p_info in parsed.infos:
        info = AlertInfo.objects.create(
            alert=alert,
            language=p_info.language[:35],
            category=p_info.categories,
            event=p_info.event[:500],
            urgency=p_info.urgency[:16],
            severity=p_info.severity[:16],
            certainty=p_info.certainty[:16],
            headline=p_info.headline[:500],
            description=p_info.description,
            instruction=p_info.instruction,
            effective=p_info.effective,
            onset=p_info.onset,
            expires=p_info.expires,
            sender_name=p_info.sender_name[:500],
            web=p_info.web[:1000],
            contact=p_info.contact[:500],
        )
        for p_area in p_info.areas:
            cells = geometry.cover(p_area.polygons, p_area.circles)
            area = AlertArea.objects.create(
                info=info,
                area_desc=p_area.area_desc,
                polygons=p_area.polygons,
                circles=p_area.circles,
                geocodes=p_area.geocodes,
                uncovered=cells is None,
            )
            AlertAreaCell.objects.bulk_create(
                [
                    AlertAreaCell(area=area, resolution=res, cell=cell)
                    for res, res_cells in (cells or {}).items()
                    for cell in sorted(res_cells)
                ],
                batch_size=2000,
            )
    return alert


def _apply_references(alert: PartnerAlert, now: dt.datetime) -> list[int]:
    """An Update supersedes, a Cancel ends the referenced alerts this agency holds."""
    if alert.msg_type not in ("Update", "Cancel"):
        return []
    touched = []
    for ref in alert.references:
        try:
            sent = parse_datetime(ref["sent"], field_name="references")
        except CapError:
            continue  # a reference we cannot read names nothing we hold
        earlier = (
            PartnerAlert.objects.select_for_update()
            .filter(agency_id=alert.agency_id, sender=ref["sender"], identifier=ref["identifier"])
            .filter(sent=sent)
            .exclude(pk=alert.pk)
            .first()
        )
        if earlier is None:
            continue
        if alert.msg_type == "Update" and earlier.superseded_by_id is None:
            earlier.superseded_by = alert
            earlier.save(update_fields=["superseded_by"])
        elif alert.msg_type == "Cancel" and earlier.cancelled_at is None:
            earlier.cancelled_at = now
            earlier.save(update_fields=["cancelled_at"])
        touched.append(earlier.pk)
    return touched


def alert_receive(
    *,
    agency_id: int,
    data: bytes | str,
    via: str = "upload",
    actor: Any | None = None,
    now: dt.datetime | None = None,
) -> Receipt:
    """Store one CAP alert for an agency; the same (sender, identifier, sent) again is a no-op.

    Parsing and validation happen before any write, so a refused alert leaves nothing behind.
    """
    parsed = alert_parse(data=data)
    now = now or timezone.now()
    key = {
        "agency_id": agency_id,
        "sender": parsed.sender,
        "identifier": parsed.identifier,
        "sent": parsed.sent,
    }
    existing = PartnerAlert.objects.filter(**key).first()
    if existing is not None:
        return Receipt(existing, False)
    try:
        with transaction.atomic():
            alert = _store(parsed, agency_id=agency_id, via=via, actor=actor)
            touched = _apply_references(alert, now)
            audit.record(
                action=AuditAction.CREATE,
                actor=actor,
                obj=alert,
                object_label=f"partner alert #{alert.pk}",
                agency_id=agency_id,
                details={
                    "via": via,
                    "msg_type": alert.msg_type,
                    "infos": len(parsed.infos),
                    "references_applied": touched,
                },
            )
            # Open consoles redraw the live map at once; partners' systems hear of it after commit
            # (only the alert's public header fields).
            realtime.publish_alert(alert)
            realtime.emit_alert_webhook(alert, parsed.infos[0] if parsed.infos else None)
    except IntegrityError:
        # Received concurrently (the same feed item twice, or an upload racing a poll).
        existing = PartnerAlert.objects.filter(**key).first()
        if existing is None:
            raise
        return Receipt(existing, False)
    return Receipt(alert, True)


def feed_record_poll(
    *,
    feed_id: int,
    status: str,
    etag: str | None,
    last_modified: str | None,
    now: dt.datetime,
    seen_entries: list[str] | None = None,
) -> None:
    """Note a poll's outcome (and the validators for the next conditional GET) on the feed.

    ``seen_entries``, when given, replaces the keys of the index entries already handled.
    """
    fields: dict[str, Any] = {"last_polled_at": now, "last_status": status[:500]}
    if seen_entries is not None:
        fields["seen_entries"] = seen_entries
    if etag is not None:
        fields["etag"] = etag[:500]
    if last_modified is not None:
        fields["last_modified"] = last_modified[:100]
    AlertFeed.objects.filter(pk=feed_id).update(**fields)
