"""The one write an export makes: its dissemination record on the audit trail."""

from __future__ import annotations

from typing import Any

from governance import audit
from governance.choices import AuditAction
from governance.models import AuditEvent


def export_record(
    *,
    user: Any,
    dataset: str,
    fmt: str,
    object_type: str,
    filters: dict[str, Any],
    count: int,
    purpose: str,
    recipient: str,
    columns: list[str] | None = None,
) -> AuditEvent:
    """Record one export as a dissemination: who, what (dataset, filters, count), to whom and why.

    Action ``export`` (the trail's action for files leaving the system, as the audit CSV does);
    the purpose is also the event's justification so the auditor page shows it in its column.
    """
    details: dict[str, Any] = {
        "outcome": "allowed",
        "format": fmt,
        "dataset": dataset,
        "filters": filters,
        "count": count,
        "recipient": recipient,
        "purpose": purpose,
    }
    if columns is not None:
        details["columns"] = columns
    return audit.record(
        action=AuditAction.EXPORT,
        actor=user,
        object_type=object_type,
        object_label=f"{dataset} export ({fmt})",
        details=details,
        justification=purpose,
    )
