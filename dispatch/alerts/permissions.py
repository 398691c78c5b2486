"""Who may read partner alerts and who may bring them in: the one place that decides.

Reading: alerts are operational information, like calls, so they follow the ``call`` category
(view grant, agency scoping and sharing): dispatchers, field staff, supervisors, analysts and
admins of the receiving agency.

Receiving (upload, turning one into a finding's source): a partner alert becomes a map layer
and an intake flag for everyone, so it takes either the right to change reference data (admins)
or the right to issue directed assignments (supervisors): ``create`` on ``reference_data`` or
``create`` on ``assignment``. No new data category: the grant table stays as it is.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from beacon_core.errors import NotFoundError
from dispatch.models import PartnerAlert
from governance.access import can, user_agency_id, visible_agency_ids
from governance.choices import Action, Category


def alerts_visible_to(user: Any) -> QuerySet[PartnerAlert]:
    """Alerts of the agencies whose calls the user may see."""
    if not can(user, Action.VIEW, Category.CALL):
        return PartnerAlert.objects.none()
    agencies = visible_agency_ids(user, Category.CALL)
    qs = PartnerAlert.objects.all()
    if agencies is None:
        return qs
    return qs.filter(agency_id__in=agencies) if agencies else qs.none()


def access_alert(user: Any, alert_id: Any) -> PartnerAlert:
    """The alert if the user may see it; a hidden one looks exactly like a missing one."""
    try:
        return alerts_visible_to(user).get(pk=int(alert_id))
    except (TypeError, ValueError, PartnerAlert.DoesNotExist):
        raise NotFoundError from None


def may_receive_alerts(user: Any) -> bool:
    """Admins (reference data) and supervisors (assignments) bring partner alerts in."""
    return can(user, Action.CREATE, Category.REFERENCE_DATA) or can(
        user, Action.CREATE, Category.ASSIGNMENT
    )


def require_receive_alerts(user: Any) -> int:
    """The agency an upload by ``user`` is received for; refuses users who may not upload."""
    if not may_receive_alerts(user):
        raise PermissionDenied("Not allowed to upload partner alerts.")
    agency_id = user_agency_id(user)
    if agency_id is None:
        raise PermissionDenied("Your account belongs to no agency.")
    return agency_id
