"""Realtime events of the intelligence domain: "an analysis run finished", for the dashboards.

Only ``services`` call this, and only through ``publish_on_commit``. The event carries ids and
status only; a dashboard that receives it re-reads its data through the access-checked views.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, TypedDict

from django.db import DatabaseError

from beacon_core.realtime import publish_on_commit
from dispatch.realtime import RUN_FINISHED, agency_group
from governance import webhooks
from governance.models import Agency

logger = logging.getLogger(__name__)


class RunEventPayload(TypedDict):
    type: Literal["analysis_run_finished"]
    run_id: int
    kind: str
    status: str
    agency_id: int
    all_agencies: bool
    finished_at: str | None
    counts: dict[str, Any]


def publish_run_finished(run: Any, *, status: str | None = None) -> None:
    """Tell the dashboards of the agencies a run concerns that it finished (every agency's for an
    all-agency run); each copy names its agency so the consumer can check the viewer's rights.

    ``status`` overrides ``run.status`` for a failed run whose row was updated without the instance.
    """
    try:
        agencies = (
            [run.agency_id]
            if run.agency_id is not None
            else list(Agency.objects.order_by("pk").values_list("pk", flat=True))
        )
    except DatabaseError:
        # The run itself is recorded; a dashboard resyncs on its next refresh or reconnect.
        logger.warning("run %s finished but its agencies could not be listed", run.pk)
        return
    finished = getattr(run, "finished_at", None)
    for agency_id in agencies:
        payload: RunEventPayload = {
            "type": RUN_FINISHED,
            "run_id": run.pk,
            "kind": run.kind,
            "status": status or run.status,
            "agency_id": agency_id,
            "all_agencies": run.agency_id is None,
            "finished_at": finished.isoformat() if finished else None,
            "counts": dict(run.counts or {}),
        }
        publish_on_commit([agency_group(agency_id)], payload)


def emit_finding_accepted_webhook(finding: Any, *, decided_at: Any) -> None:
    """Queue the ``finding.accepted`` webhook: the finding's id, kind and window, no evidence,
    no explanation text, no place (those stay behind the agency's access rules)."""
    webhooks.emit_on_commit(
        "finding.accepted",
        finding.agency_id,
        lambda: {
            "finding": {
                "id": finding.pk,
                "kind": finding.kind,
                "status": "accepted",
                "window_start": finding.window_start.isoformat(),
                "window_end": finding.window_end.isoformat(),
                "decided_at": decided_at.isoformat(),
            }
        },
    )
