"""The one access function for assignments; every interface (API, pages, websocket) goes through it.

Who sees what: people who task or analyse (may create assignments, or may view findings) see
their visible agencies' assignments; everyone else with the assignment role (field staff) sees
only assignments made to them, to a unit they are signed to, or to a shift they are on. Another agency's assignment, or
someone else's for field staff, raises ``NotFoundError`` exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from beacon_core.errors import NotFoundError
from governance.access import can, may_write_agency, visible_agency_ids
from governance.choices import Action, Category
from tasking.models import Assignment


def sees_agency_assignments(user: Any) -> bool:
    """True for the board's audience: those who task (create) or who work on findings.

    Asked of the policy rather than of role names; field staff hold neither right, so they are
    limited to their own. (A dedicated "own assignment" policy category would say this directly;
    see the tasking notes.)
    """
    return can(user, Action.CREATE, Category.ASSIGNMENT) or (
        can(user, Action.VIEW, Category.ASSIGNMENT) and can(user, Action.VIEW, Category.FINDING)
    )


def can_task(user: Any) -> bool:
    """Creating, issuing and cancelling assignments: the supervisor's side of the loop."""
    return can(user, Action.CREATE, Category.ASSIGNMENT)


def own_assignments_q(user: Any) -> Q:
    """Assignments made to the user by name, to any unit they are signed to, or to a shift they
    are on (as a member, or through one of the shift's units)."""
    return (
        Q(assignee_user_id=user.pk)
        | Q(assignee_unit__users=user.pk)
        | Q(assignee_shift__members=user.pk)
        | Q(assignee_shift__units__users=user.pk)
    )


def assignments_visible_to(user: Any) -> QuerySet[Assignment]:
    """Assignments the user may see (none without the assignment role)."""
    agencies = visible_agency_ids(user, Category.ASSIGNMENT)
    qs = Assignment.objects.all()
    if agencies is not None:
        if not agencies:
            return qs.none()
        qs = qs.filter(agency_id__in=agencies)
    if sees_agency_assignments(user):
        return qs
    # The join on unit users can repeat a row; a subquery of ids keeps the queryset distinct
    # without DISTINCT (which breaks select_for_update and some aggregates).
    own = Assignment.objects.filter(own_assignments_q(user)).values("pk")
    return qs.filter(pk__in=own)


def access_assignment(user: Any, assignment_id: Any, *, for_write: bool = False) -> Assignment:
    """The assignment if the user may see it (and act on it, with ``for_write``)."""
    try:
        assignment = (
            assignments_visible_to(user)
            .select_related("assignee_unit", "assignee_user", "assignee_shift", "finding")
            .get(pk=int(assignment_id))
        )
    except (TypeError, ValueError, OverflowError, Assignment.DoesNotExist):
        raise NotFoundError from None
    if for_write and not (
        can(user, Action.CHANGE, Category.ASSIGNMENT)
        and may_write_agency(user, assignment.agency_id)
    ):
        raise PermissionDenied("Not allowed to change this assignment.")
    return assignment
