"""The authorization matrix: every URL pattern and websocket route, and each role's answer.

How to read a row: one outcome per role, in the order of ``ROLES``::

    #                     anonymous dispatcher field supervisor analyst admin auditor
    "call-list": route(GET="login ok ok ok ok ok denied", ...)

Outcomes (``matrix_support.OUTCOMES``): ``ok`` 2xx; ``redirect`` 3xx to a page that is not a
sign-in page; ``login`` sign in first (3xx to a sign-in page, or 401/403 from the API to
anonymous); ``invalid`` 400 (allowed, but the empty body is refused); ``denied`` 403; ``hidden``
404; ``method`` 405; ``conflict`` 409. ``error`` (5xx) is never a right answer.

Bodies: POST/PATCH send an empty body (``{}``, or an empty form to pages), so an allowed write
answers ``invalid`` instead of changing anything; the few body-less actions (acknowledge, start,
cancel, issue) do change the record, inside the test's rolled-back transaction.

Object routes name the kind of record in their URL (``obj=``); the test requests the cast's own
agency's record, and checks that every record a role may not see (``HIDDEN_VISIBLE_TO``) gets
the same status and body as an id that does not exist.

A new route makes ``test_every_route_is_in_the_matrix`` fail: add it here (see
docs/authorization-matrix.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("anonymous", "dispatcher", "field", "supervisor", "analyst", "admin", "auditor")
MISSING_ID = 987654321


@dataclass(frozen=True)
class Route:
    """Expected outcomes of one URL pattern: ``checks`` maps a method to a row of ``ROLES``."""

    checks: dict[str, str]
    obj: str | None = None
    note: str = ""
    # appended to the URL; "{own:<kind>}" is the id of the cast's own record of that kind
    query: str = ""
    # (method, role) -> reason: the current answer is wrong, the fix is someone else's
    # (the test is a strict xfail, so it fails once fixed: then correct the row).
    xfail: dict[tuple[str, str], str] = field(default_factory=dict)


def route(
    obj: str | None = None,
    note: str = "",
    query: str = "",
    xfail: dict[tuple[str, str], str] | None = None,
    **checks: str,
) -> Route:
    for method, row in checks.items():
        assert len(row.split()) == len(ROLES), f"{method}: {row!r} needs {len(ROLES)} outcomes"
    return Route(checks=checks, obj=obj, note=note, query=query, xfail=xfail or {})


ALL_OK = "ok ok ok ok ok ok ok"
ALL_405 = "method method method method method method method"
LOGIN_405 = "login method method method method method method"

# ---------------------------------------------------------------------------------------------
# Pages and JSON of the pages (session, LoginRequiredMiddleware)
# ---------------------------------------------------------------------------------------------
#                        anon  disp     field    super    analyst  admin   auditor
PAGES: dict[str, Route] = {
    "healthz": route(GET=ALL_OK, POST=ALL_405, note="public liveness probe"),
    "home": route(
        GET="login redirect redirect ok ok ok ok",
        POST="login redirect redirect ok ok ok ok",
        note="dispatchers land on the console, field staff on the phone page; the page takes "
        "any method (it only renders links)",
    ),
    "login": route(
        GET="ok redirect redirect redirect redirect redirect redirect",
        POST="ok redirect redirect redirect redirect redirect redirect",
        note="an empty sign-in form answers 200 with errors",
    ),
    "logout": route(
        GET="login method method method method method method",
        POST="login login login login login login login",
    ),
    # --- the second sign-in step: only a session with a right password and no code yet uses it;
    # anyone else goes back to sign in (anonymous) or home (signed in)
    "login-verify": route(
        GET="login redirect redirect redirect redirect redirect redirect",
        POST="login redirect redirect redirect redirect redirect redirect",
    ),
    "login-enrol": route(
        GET="login redirect redirect redirect redirect redirect redirect",
        POST="login redirect redirect redirect redirect redirect redirect",
    ),
    "account-two-factor": route(
        GET="login ok ok ok ok ok ok",
        POST="login invalid invalid invalid invalid invalid invalid",
        note="everyone's own authenticator; an empty code is refused",
    ),
    # --- the audit trail: the auditor's (view and export); refusals are audited too
    "audit-trail": route(
        GET="login denied denied denied denied denied ok",
        POST="login denied denied denied denied denied ok",
    ),
    "audit-export": route(
        GET="login denied denied denied denied denied ok",
        POST="login denied denied denied denied denied ok",
    ),
    # --- the access rules page (admins keep the rules; every change is audited)
    "access-rules": route(GET="login denied denied denied denied ok denied", POST=LOGIN_405),
    "access-roles-save": route(
        GET=LOGIN_405, POST="login denied denied denied denied redirect denied"
    ),
    "access-grant-add": route(
        GET=LOGIN_405, POST="login denied denied denied denied invalid denied"
    ),
    "access-grant-revoke": route(
        obj="grant",
        GET=LOGIN_405,
        POST="login denied denied denied denied redirect denied",
        note="the admin revokes a grant of their agency's user",
    ),
    # --- sign-in rules (admins: per-role TOTP, locks, lost authenticators; all audited)
    "login-policy": route(GET="login denied denied denied denied ok denied", POST=LOGIN_405),
    "login-policy-save": route(
        GET=LOGIN_405, POST="login denied denied denied denied redirect denied"
    ),
    "login-lock-lift": route(
        obj="lock",
        GET=LOGIN_405,
        POST="login denied denied denied denied redirect denied",
        note="the admin lifts the lock on their agency's user",
    ),
    "two-factor-reset": route(
        obj="totp_user",
        GET=LOGIN_405,
        POST="login denied denied denied denied redirect denied",
        note="the admin resets their agency's user's authenticator",
    ),
    # --- the retention page (admins: policies and legal holds; every change is audited)
    "retention": route(GET="login denied denied denied denied ok denied", POST=LOGIN_405),
    "retention-policies-save": route(
        GET=LOGIN_405,
        POST="login denied denied denied denied invalid denied",
        note="an empty form names keep_days",
    ),
    "retention-hold-place": route(
        GET=LOGIN_405, POST="login denied denied denied denied invalid denied"
    ),
    "retention-hold-release": route(
        obj="hold",
        GET=LOGIN_405,
        POST="login denied denied denied denied invalid denied",
        note="a release needs a reason; another agency's hold answers like a missing one",
    ),
    # --- webhooks (admins: they send agency events out and hold signing secrets; audited)
    "webhooks": route(GET="login denied denied denied denied ok denied", POST=LOGIN_405),
    "webhook-create": route(
        GET=LOGIN_405,
        POST="login denied denied denied denied invalid denied",
        note="an empty form names name, url and events",
    ),
    "webhook-detail": route(
        obj="webhook",
        GET="login denied denied denied denied ok denied",
        POST=LOGIN_405,
        note="the delivery log; another agency's webhook answers like a missing one",
    ),
    "webhook-secret": route(
        obj="webhook",
        GET=LOGIN_405,
        POST="login denied denied denied denied invalid denied",
        note="needs action=show|rotate",
    ),
    "webhook-active": route(
        obj="webhook",
        GET=LOGIN_405,
        POST="login denied denied denied denied invalid denied",
        note="needs active=1|0",
    ),
    "webhook-test": route(
        obj="webhook",
        GET=LOGIN_405,
        POST="login denied denied denied denied redirect denied",
        note="queues a webhook.test delivery (rolled back with the test)",
    ),
    # --- dispatch pages: console needs call create + unit change; field staff go to /field/
    "console": route(
        GET="login ok redirect ok denied denied denied",
        POST="login ok redirect ok denied denied denied",
        note="renders the shell for any method; writes go through the API",
    ),
    "console-snapshot": route(GET="login ok ok ok ok ok denied", POST=LOGIN_405),
    "console-context": route(
        query="?location={own:location}&lat=29.42&lon=-98.49",
        GET="login ok ok ok ok ok denied",
        POST=LOGIN_405,
        note="about the place of the cast's call (its notes and history)",
    ),
    "console-suggest": route(GET="login ok ok ok ok ok denied", POST=LOGIN_405),
    "console-call": route(
        obj="call",
        GET="login ok ok ok ok ok hidden",
        POST=LOGIN_405,
        note="a role without calls gets 404, like a call that does not exist",
    ),
    "field": route(GET="login ok ok ok ok ok denied", POST="login ok ok ok ok ok denied"),
    "field-snapshot": route(GET="login ok ok ok ok ok denied", POST=LOGIN_405),
    "field-observe": route(
        GET="login ok ok ok denied denied denied",
        POST="login invalid invalid invalid denied denied denied",
    ),
    "calls-page": route(GET="login ok ok ok ok ok denied", POST="login ok ok ok ok ok denied"),
    "call-page": route(
        obj="call", GET="login ok ok ok ok ok hidden", POST="login ok ok ok ok ok hidden"
    ),
    # A transfer in (EIDO upload) logs a call: those who may create calls.
    "eido-import-page": route(
        GET="login ok denied ok denied denied denied",
        POST="login invalid denied invalid denied denied denied",
        note="an empty form names the document",
    ),
    # --- partner alerts (CAP): read like calls; received by admins and supervisors
    "alerts-page": route(
        GET="login ok ok ok ok ok denied",
        POST="login denied denied invalid denied invalid denied",
        note="an empty upload form names the file",
    ),
    "alert-page": route(obj="alert", GET="login ok ok ok ok ok hidden", POST=LOGIN_405),
    "finding-from-alert": route(
        obj="alert",
        GET=LOGIN_405,
        POST="login denied denied redirect redirect denied denied",
        note="proposes a finding (rolled back); those who review findings",
    ),
    # --- patterns (findings: supervisor and analyst; running an analysis: analyst)
    "patterns": route(
        GET="login denied denied ok ok denied denied",
        POST="login denied denied ok ok denied denied",
    ),
    "patterns-data": route(GET="login denied denied ok ok denied denied", POST=LOGIN_405),
    "patterns-run": route(GET=LOGIN_405, POST="login denied denied denied invalid denied denied"),
    "finding-page": route(
        obj="finding",
        GET="login denied denied ok ok denied denied",
        POST="login denied denied invalid invalid denied denied",
    ),
    "finding-page-need-to-know": route(
        obj="finding",
        GET=LOGIN_405,
        POST="login denied denied redirect redirect denied denied",
        note="an empty list of groups lifts the limit",
    ),
    "finding-outcome": route(
        obj="finding",
        GET=LOGIN_405,
        POST="login denied denied invalid invalid denied denied",
    ),
    # --- tasking pages (board: those who task or analyse; briefing: anyone with assignments)
    "tasking-board": route(GET="login denied denied ok ok denied denied", POST=LOGIN_405),
    "tasking-board-json": route(GET="login denied denied ok ok denied denied", POST=LOGIN_405),
    "tasking-new": route(
        query="?finding={own:finding}",
        GET="login denied denied ok denied denied denied",
        POST="login denied denied invalid denied denied denied",
    ),
    "tasking-briefing": route(GET="login denied ok ok ok denied denied", POST=LOGIN_405),
    "tasking-detail": route(
        obj="assignment",
        GET="login hidden ok ok ok hidden hidden",
        POST=LOGIN_405,
        note="field staff see it because it is their unit's",
    ),
}

# ---------------------------------------------------------------------------------------------
# REST API under /api/v1/ (RolePermission: a method a route does not map is refused, 403)
# ---------------------------------------------------------------------------------------------
ANON_ALL_403 = "login denied denied denied denied denied denied"
CALL_READ = "login ok ok ok ok ok denied"  # every role but the auditor views calls
CALL_WRITE = "login invalid invalid invalid denied denied denied"  # dispatcher, field, supervisor
# exports: calls and locations by supervisors and analysts, findings by analysts; the world's
# dispatcher holds a personal grant of call export (world.own["grant"]), so exports calls too
EXPORT_CALLS = "login ok denied ok ok denied denied"
EXPORT_CALLS_POST = "login method denied method method denied denied"
EXPORT_LOCATIONS = "login denied denied ok ok denied denied"
EXPORT_LOCATIONS_POST = "login denied denied method method denied denied"
EXPORT_FINDINGS = "login denied denied denied ok denied denied"
EXPORT_FINDINGS_POST = "login denied denied denied method denied denied"
CALL_ACTION_GET = "login method method method method method denied"
FINDING_READ = "login denied denied ok ok denied denied"
ASSIGN_READ = "login denied ok ok ok denied denied"
ASSIGN_ACTION_GET = "login denied method method method denied denied"

API: dict[str, Route] = {
    "api-me": route(GET="login ok ok ok ok ok ok", POST=LOGIN_405),
    "api-device-token": route(GET=LOGIN_405, POST="login ok ok ok ok ok ok"),
    # --- the audit trail (auditors; installation-wide by design, so no other-agency variant)
    "audit-event-list": route(GET="login denied denied denied denied denied ok", POST=ANON_ALL_403),
    "audit-event-detail": route(
        obj="audit_event", GET="login denied denied denied denied denied ok", POST=ANON_ALL_403
    ),
    # --- legal holds (admins and supervisors; the retention page is the admins')
    "legal-hold-list": route(
        GET="login denied denied ok denied ok denied",
        POST="login denied denied invalid denied invalid denied",
    ),
    "legal-hold-release": route(
        obj="hold",
        GET="login denied denied method denied method denied",
        POST="login denied denied invalid denied invalid denied",
        note="a release needs a reason",
    ),
    # --- calls
    "call-list": route(GET=CALL_READ, POST="login invalid denied invalid denied denied denied"),
    "call-detail": route(
        obj="call",
        GET=CALL_READ,
        PATCH="login ok ok ok denied denied denied",
        POST=ANON_ALL_403,
        note="an empty PATCH changes nothing and answers the call",
    ),
    "call-assign": route(obj="call", GET=CALL_ACTION_GET, POST=CALL_WRITE),
    "call-attach": route(obj="call", GET=CALL_ACTION_GET, POST=CALL_WRITE),
    "call-close": route(obj="call", GET=CALL_ACTION_GET, POST=CALL_WRITE),
    "call-events": route(obj="call", GET=CALL_READ, POST=ANON_ALL_403),
    "call-notes": route(obj="call", GET=CALL_ACTION_GET, POST=CALL_WRITE),
    "call-status": route(obj="call", GET=CALL_ACTION_GET, POST=CALL_WRITE),
    # --- CAD-to-CAD (NENA EIDO, docs/eido.md): sending a call is a dissemination (export right,
    # purpose and recipient in the query); a transfer in needs the create right ({} has no $id)
    "call-eido": route(
        obj="call",
        query="?purpose=matrix&recipient=matrix",
        GET=EXPORT_CALLS,
        POST=ANON_ALL_403,
    ),
    "call-import-eido": route(
        GET=CALL_ACTION_GET, POST="login invalid denied invalid denied denied denied"
    ),
    # --- units and AVL (AVL history: not the admin; uploads: field staff for their own unit)
    "unit-list": route(GET=CALL_READ, POST=ANON_ALL_403),
    "unit-detail": route(obj="unit", GET=CALL_READ, POST=ANON_ALL_403),
    "unit-positions": route(
        obj="unit",
        GET="login ok ok ok ok denied denied",
        POST="login denied invalid denied denied denied denied",
    ),
    "unit-status": route(
        obj="unit",
        GET=CALL_ACTION_GET,
        POST="login invalid invalid invalid denied invalid denied",
        note="field staff: only a unit they are signed to (the field user is on this one)",
    ),
    # --- locations (shared by agencies) and premise notes
    "location-list": route(GET=CALL_READ, POST=ANON_ALL_403),
    "location-detail": route(obj="location", GET=CALL_READ, POST=ANON_ALL_403),
    "location-history": route(obj="location", GET=CALL_READ, POST=ANON_ALL_403),
    "location-notes": route(
        obj="location",
        GET=CALL_READ,
        POST="login invalid denied invalid denied invalid denied",
    ),
    # --- observations, persons, vehicles, involvements (the admin and auditor: none)
    "observation-list": route(GET="login ok ok ok ok denied denied", POST=CALL_WRITE),
    "observation-detail": route(
        obj="observation", GET="login ok ok ok ok denied denied", POST=ANON_ALL_403
    ),
    "person-list": route(GET="login ok ok ok ok denied denied", POST=CALL_WRITE),
    "person-detail": route(obj="person", GET="login ok ok ok ok denied denied", POST=ANON_ALL_403),
    "person-need-to-know": route(
        obj="person",
        GET="login method method method method denied denied",
        POST="login invalid denied invalid denied denied denied",
    ),
    "person-intelligence-subject": route(
        obj="person",
        GET="login method method method method denied denied",
        POST="login invalid denied invalid denied denied denied",
        note="marking a subject changes the person: dispatchers and supervisors",
    ),
    "person-validate": route(
        obj="person",
        GET="login method method method method denied denied",
        POST="login denied denied invalid invalid denied denied",
        note="a retention review: who may decide on findings and see persons",
    ),
    "vehicle-list": route(GET="login ok ok ok ok denied denied", POST=CALL_WRITE),
    "vehicle-detail": route(
        obj="vehicle", GET="login ok ok ok ok denied denied", POST=ANON_ALL_403
    ),
    "involvement-list": route(GET="login ok ok ok ok denied denied", POST=CALL_WRITE),
    # --- reference data (writes only in the admin)
    "call-type-list": route(GET=CALL_READ, POST=ANON_ALL_403),
    # --- partner alerts: read like calls; upload by admins and supervisors (dispatch/alerts)
    "alert-list": route(GET=CALL_READ, POST="login denied denied invalid denied invalid denied"),
    "alert-detail": route(
        obj="alert", GET=CALL_READ, POST="login denied denied method denied method denied"
    ),
    "disposition-list": route(GET=CALL_READ, POST=ANON_ALL_403),
    # --- findings and analysis runs
    "finding-list": route(GET=FINDING_READ, POST=ANON_ALL_403),
    "finding-detail": route(obj="finding", GET=FINDING_READ, POST=ANON_ALL_403),
    "finding-need-to-know": route(
        obj="finding",
        GET="login denied denied method method denied denied",
        POST="login denied denied invalid invalid denied denied",
    ),
    "finding-decision": route(
        obj="finding",
        GET="login denied denied method method denied denied",
        POST="login denied denied invalid invalid denied denied",
    ),
    "analysis-run-list": route(GET=FINDING_READ, POST=ANON_ALL_403),
    "analysis-run-detail": route(obj="run", GET=FINDING_READ, POST=ANON_ALL_403),
    # --- assignments (field staff: their own; drafting/issuing/cancelling: supervisors)
    "assignment-list": route(
        GET=ASSIGN_READ, POST="login denied denied invalid denied denied denied"
    ),
    "assignment-pending": route(GET=ASSIGN_READ, POST=ANON_ALL_403),
    "assignment-detail": route(obj="assignment", GET=ASSIGN_READ, POST=ANON_ALL_403),
    "assignment-acknowledge": route(
        obj="assignment",
        GET=ASSIGN_ACTION_GET,
        POST="login denied ok ok denied denied denied",
        note="the analyst views assignments but may not work on them",
    ),
    "assignment-start": route(
        obj="assignment", GET=ASSIGN_ACTION_GET, POST="login denied ok ok denied denied denied"
    ),
    "assignment-finish": route(
        obj="assignment",
        GET=ASSIGN_ACTION_GET,
        POST="login denied invalid invalid denied denied denied",
    ),
    "assignment-report": route(
        obj="assignment",
        GET=ASSIGN_ACTION_GET,
        POST="login denied invalid invalid denied denied denied",
    ),
    "assignment-issue": route(
        obj="assignment",
        GET=ASSIGN_ACTION_GET,
        POST="login denied denied conflict denied denied denied",
        note="the record is already issued: the supervisor gets past the checks to a 409",
    ),
    "assignment-cancel": route(
        obj="assignment",
        GET=ASSIGN_ACTION_GET,
        POST="login denied denied ok denied denied denied",
    ),
    # --- shifts (rosters: read by those who assign work; kept in the admin)
    "shift-list": route(GET="login denied denied ok denied denied denied", POST=ANON_ALL_403),
    "shift-detail": route(
        obj="shift", GET="login denied denied ok denied denied denied", POST=ANON_ALL_403
    ),
    # --- schema and its viewers: public, like the code they describe
    # --- exports (EXPORT on the category; audited as disseminations; docs/exports.md). The query
    # gives the required purpose, so allowed roles get the file and it is searched for sentinels.
    "export-calls-geojson": route(
        query="?purpose=matrix", GET=EXPORT_CALLS, POST=EXPORT_CALLS_POST
    ),
    "export-calls-csv": route(query="?purpose=matrix", GET=EXPORT_CALLS, POST=EXPORT_CALLS_POST),
    "export-locations-geojson": route(
        query="?purpose=matrix", GET=EXPORT_LOCATIONS, POST=EXPORT_LOCATIONS_POST
    ),
    "export-findings-geojson": route(
        query="?purpose=matrix", GET=EXPORT_FINDINGS, POST=EXPORT_FINDINGS_POST
    ),
    "export-findings-csv": route(
        query="?purpose=matrix", GET=EXPORT_FINDINGS, POST=EXPORT_FINDINGS_POST
    ),
    "export-hotspots-geojson": route(
        query="?purpose=matrix", GET=EXPORT_FINDINGS, POST=EXPORT_FINDINGS_POST
    ),
    "export-assignment-areas-geojson": route(
        query="?purpose=matrix",
        GET="login denied denied ok denied denied denied",
        POST="login denied denied method denied denied denied",
    ),
    "api-schema": route(GET=ALL_OK, POST=ALL_405, note="public (the OpenAPI schema)"),
    "api-docs": route(GET=ALL_OK, POST=ALL_405, note="public (Swagger UI shell)"),
    "api-redoc": route(GET=ALL_OK, POST=ALL_405, note="public (ReDoc shell)"),
}

# ---------------------------------------------------------------------------------------------
# Django admin: open to the admin role only (everyone else is sent to the admin's sign-in);
# per model, the admin role's answer comes from the model's policy category. GET only: the
# same has_*_permission hooks decide the POSTs, and admin forms are covered by their own tests.
# ---------------------------------------------------------------------------------------------
NOT_ADMIN = "login login login login login {} login"

ADMIN_SITE: dict[str, Route] = {
    "admin:index": route(GET=NOT_ADMIN.format("ok")),
    "admin:login": route(
        GET="login ok ok ok ok redirect ok",
        note="anonymous people sign in on Beacon's page (the admin's form skips the second factor)",
    ),
    "admin:logout": route(GET="login redirect redirect redirect redirect method redirect"),
    "admin:password_change": route(GET=NOT_ADMIN.format("ok")),
    "admin:password_change_done": route(GET=NOT_ADMIN.format("ok")),
    "admin:autocomplete": route(
        GET=NOT_ADMIN.format("denied"), note="403 without a model/field query"
    ),
    "admin:jsi18n": route(GET=NOT_ADMIN.format("ok")),
    "admin:app_list": route(GET=NOT_ADMIN.format("ok")),
    "admin:view_on_site": route(
        obj="admin:dispatch_unit", GET=NOT_ADMIN.format("hidden"), note="units have no page"
    ),
    "admin:auth_user_password_change": route(obj="admin:auth_user", GET=NOT_ADMIN.format("ok")),
    "admin/(?P<url>.*)$": route(GET=NOT_ADMIN.format("hidden"), note="the admin's catch-all"),
}

# Each registered ModelAdmin adds six patterns: changelist, add, history, delete, change, and an
# unnamed ``<object_id>/`` redirect to change. Values: the admin role's answer for
# changelist, add, history, delete, change (the redirect is always ``redirect``).
# Deleting is for superusers only (a retention decision); read-only admins refuse add.
# Rows are scoped like every interface (CategoryAdmin.get_queryset): a model with an agency shows
# nothing to a role without its category, and the admin's history page then answers "does not
# exist" (a redirect to the index) for every id, before its permission check.
ADMIN_MODELS: dict[str, str] = {
    # label                                 changelist add    history delete change
    "auth_user": "ok ok ok denied ok",
    "auth_group": "ok ok ok denied ok",
    "governance_agency": "ok ok ok denied ok",
    # The world's share is between two other agencies: out of the admin's scope, so "not found".
    "governance_agencyshare": "ok ok redirect denied redirect",
    "governance_auditevent": "denied denied redirect denied denied",  # auditors use /governance/
    "governance_needtoknowgroup": "ok ok ok denied ok",  # access rules are the admin's
    "dispatch_calltype": "ok ok ok denied ok",
    "dispatch_disposition": "ok ok ok denied ok",
    "dispatch_unit": "ok ok ok denied ok",
    "dispatch_location": "ok ok ok denied ok",
    "dispatch_premisenote": "ok ok ok denied ok",
    "dispatch_dispatchsettings": "ok denied ok denied ok",  # a single row: no second one
    "dispatch_observationrequirement": "ok ok ok denied ok",  # per-category required fields
    "dispatch_alertfeed": "ok ok ok denied ok",  # partner CAP feeds (reference data)
    "intelligence_finding": "denied denied redirect denied denied",  # admins have no findings
    "intelligence_findingoutcome": "denied denied denied denied denied",
    "intelligence_analysisrun": "denied denied redirect denied denied",
    "tasking_assignment": "denied denied redirect denied denied",  # nor assignments
    "tasking_assignmentevent": "denied denied denied denied denied",
    "tasking_assignmentreport": "denied denied denied denied denied",
    "tasking_shift": "ok ok ok denied ok",  # rosters are staffing, like units
    "django_celery_beat_periodictask": "ok ok ok denied ok",
    "django_celery_beat_crontabschedule": "ok ok ok denied ok",
    "django_celery_beat_intervalschedule": "ok ok ok denied ok",
}
ADMIN_VIEWS = ("changelist", "add", "history", "delete", "change")


def _admin_model_routes() -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for label, row in ADMIN_MODELS.items():
        answers = dict(zip(ADMIN_VIEWS, row.split(), strict=True))
        for view, answer in answers.items():
            obj = None if view in ("changelist", "add") else f"admin:{label}"
            routes[f"admin:{label}_{view}"] = route(obj=obj, GET=NOT_ADMIN.format(answer))
        app, _, model = (
            label.partition("_")
            if not label.startswith("django_celery_beat")
            else (
                "django_celery_beat",
                "",
                label.removeprefix("django_celery_beat_"),
            )
        )
        routes[f"admin/{app}/{model}/<path:object_id>/"] = route(
            obj=f"admin:{label}", GET=NOT_ADMIN.format("redirect")
        )
    return routes


MATRIX: dict[str, Route] = {**PAGES, **API, **ADMIN_SITE, **_admin_model_routes()}

# Patterns deliberately left out, each with its reason. (Static files and media have no URL
# pattern: WhiteNoise serves /static/ as middleware and there is no media upload.)
EXCLUDED: dict[str, str] = {}

# Records that exist but that some roles may not see, by kind and variant (see matrix_world):
# the roles listed may see that record; for everyone else it must look exactly like MISSING_ID.
HIDDEN_VISIBLE_TO: dict[tuple[str, str], frozenset[str]] = {
    ("call", "other_agency"): frozenset(),
    ("unit", "other_agency"): frozenset(),
    ("observation", "other_agency"): frozenset(),
    ("observation", "confidential"): frozenset({"supervisor", "analyst"}),
    ("person", "other_agency"): frozenset(),
    ("person", "confidential"): frozenset({"supervisor", "analyst"}),
    ("vehicle", "other_agency"): frozenset(),
    ("vehicle", "confidential"): frozenset({"supervisor", "analyst"}),
    ("finding", "other_agency"): frozenset(),
    ("run", "other_agency"): frozenset(),
    ("assignment", "other_agency"): frozenset(),
    ("assignment", "other_unit"): frozenset({"supervisor", "analyst"}),
    ("shift", "other_agency"): frozenset(),
    ("grant", "other_agency"): frozenset(),
    ("lock", "other_agency"): frozenset(),
    ("totp_user", "other_agency"): frozenset(),
    ("hold", "other_agency"): frozenset(),
    ("webhook", "other_agency"): frozenset(),
    # the admin's object pages: another agency's rows, and notes above the admin's level
    ("alert", "other_agency"): frozenset(),
    ("admin:dispatch_unit", "other_agency"): frozenset(),
    ("admin:dispatch_alertfeed", "other_agency"): frozenset(),
    ("admin:dispatch_premisenote", "other_agency"): frozenset(),
    ("admin:dispatch_premisenote", "confidential"): frozenset(),
    ("admin:tasking_shift", "other_agency"): frozenset(),
    ("admin:governance_needtoknowgroup", "other_agency"): frozenset(),
}

# Records named in a request body or query string (not in the URL) go through the same access
# functions: one the role may not see must answer like MISSING_ID. Each entry: (route, method,
# the kind of record named, the request with "{id}" where the id goes; "{own:<kind>}" is the
# cast's own record). Roles in HIDDEN_VISIBLE_TO for that record are left out.
REFERENCES: list[tuple[str, str, str, dict[str, object] | str]] = [
    ("observation-list", "POST", "call", {"category": "other", "narrative": "x", "call": "{id}"}),
    (
        "involvement-list",
        "POST",
        "person",
        {"role": "subject", "person": "{id}", "call": "{own:call}"},
    ),
    (
        "involvement-list",
        "POST",
        "vehicle",
        {"role": "subject", "vehicle": "{id}", "call": "{own:call}"},
    ),
    (
        "involvement-list",
        "POST",
        "call",
        {"role": "subject", "person": "{own:person}", "call": "{id}"},
    ),
    (
        "involvement-list",
        "POST",
        "observation",
        {"role": "subject", "person": "{own:person}", "observation": "{id}"},
    ),
    ("call-assign", "POST", "unit", {"unit": "{id}"}),
    ("assignment-report", "POST", "observation", {"notes": "Walked.", "observation_ids": ["{id}"]}),
    (
        "assignment-list",
        "POST",
        "finding",
        {
            "finding": "{id}",
            "kind": "directed_patrol",
            "objective": "Be seen.",
            "area": {"type": "circle", "latitude": 29.42, "longitude": -98.49, "radius_m": 200},
            "windows": [],
            "assignee_unit": "{own:unit}",
        },
    ),
    ("tasking-new", "GET", "finding", "?finding={id}"),
    ("involvement-list", "GET", "person", "?person={id}"),
    ("involvement-list", "GET", "call", "?call={id}"),
]

# URL names given to two patterns, known and reported (test_url_names_are_unique lets only these
# through). reverse() returns one of the two, so links and forms using the name may go to the
# wrong one; remove the entry once the names differ.
KNOWN_DUPLICATE_NAMES: dict[str, str] = {
    # (finding-need-to-know was the page's form handler and the API action; the page's is now
    # finding-page-need-to-know.)
}

# Existence leaks found and not yet fixed (the fix belongs to another area): (route, method, role,
# variant) -> reason. Strict xfails: once fixed, the test fails until the entry is removed.
LEAK_XFAIL: dict[tuple[str, str, str, str], str] = {
    # Example: ("route-name", "POST", "admin", "other_agency"): "why, and where the fix belongs".
    # (access-grant-revoke answered 400 for another agency's grant, 404 for a missing one; fixed
    # in governance.access_rules.user_grant_revoke.)
}

# ---------------------------------------------------------------------------------------------
# Websocket routes (config/routing.py): "accept" (hello frame), "4401" (closed: sign in),
# "4403" (closed: not allowed). Tested in test_authorization_matrix_ws.py.
# ---------------------------------------------------------------------------------------------
#                      anon dispatcher field  supervisor analyst admin  auditor
WEBSOCKETS: dict[str, str] = {
    "ws/dispatch/": "4401 accept accept accept accept accept 4403",
}
