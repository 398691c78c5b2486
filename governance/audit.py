"""The audit trail's one writer and its verifier: append hash-chained events, and check the chain.

Every event's ``hash`` is SHA-256 over a canonical JSON serialisation of its own fields plus the
previous event's hash (``prev_hash``), so changing, re-ordering or deleting a stored event breaks
the chain at that point; ``verify_chain`` (and ``manage.py verify_audit``) finds where. The
database refuses UPDATE and DELETE on the table (triggers, migration 0003), the ORM refuses them
too (``AuditEventQuerySet``); the chain is what shows it when someone with owner rights did it
anyway.

``record`` writes in the caller's transaction: the event commits or rolls back with the change it
describes. Appends are serialised (see ``_lock_chain_and_read_head``) so two writers cannot fork the chain.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import hashlib
import ipaddress
import json
import math
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from governance.access import user_agency_id
from governance.choices import AuditAction
from governance.models import AuditEvent

GENESIS_HASH = "0" * 64
# Bumped if the canonical form ever changes; it is part of what is hashed, so old events keep
# verifying under the version they were written with.
HASH_VERSION = 1
# Key of the PostgreSQL transaction-level advisory lock that serialises appends (any constant
# works, as long as nothing else in the database uses it; this one is "BEACAUD1" in ASCII).
CHAIN_LOCK_KEY = 0x4245414341554431
# No parameters, so the statements go in one round trip; the key is the constant above. The
# last one reads the head the new event links to (see ``_lock_chain_and_read_head``).
_CHAIN_HEAD_SQL = "SELECT seq, hash FROM governance_auditevent ORDER BY seq DESC LIMIT 1"
_CHAIN_LOCK_SQL = (
    "SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED; "
    f"SELECT pg_advisory_xact_lock({int(CHAIN_LOCK_KEY)}); {_CHAIN_HEAD_SQL}"
)

MAX_USER_AGENT = 256
MAX_LABEL = 200
MAX_USERNAME = 150
MAX_OBJECT_FIELD = 64
MAX_JUSTIFICATION = 5_000

# The request being served, set by ``governance.middleware.AuditRequestMiddleware``: services
# called from a view (``finding_decide``) record the client address without a request argument.
_current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "beacon_audit_request", default=None
)


@contextmanager
def bound_request(request: HttpRequest) -> Iterator[None]:
    """Make ``request`` the one ``record`` takes the client address from, for this block."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


# Marks on the request being served (see ``record_refusal``).
_REFUSAL_RECORDED = "_beacon_refusal_recorded"
_HIDDEN_REFUSAL = "_beacon_hidden_refusal"
MAX_PATH = 200
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# --- cleaning: what is stored is exactly what is hashed --------------------------------------


def _text(value: Any, limit: int | None = None) -> str:
    """A string PostgreSQL will store unchanged: no NUL, no lone surrogates, at most ``limit``."""
    text = "" if value is None else str(value)
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit is not None else text


def _json_value(value: Any) -> Any:
    """``value`` as plain JSON that survives a round trip through SQLite text and PostgreSQL jsonb.

    jsonb stores numbers as ``numeric``: a float with no fraction (``1e20``) comes back as an
    integer, so such floats are stored as integers in the first place; NaN and infinities are
    not JSON and become strings.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, Mapping):
        return {_text(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_json_value(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return _text(value)


def _at_text(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_bytes(
    *,
    seq: int,
    at: dt.datetime,
    actor_username: str,
    action: str,
    object_type: str,
    object_id: str,
    object_label: str,
    justification: str,
    ip: str,
    user_agent: str,
    agency_id: int | None,
    details: Any,
    prev_hash: str,
) -> bytes:
    """The exact bytes an event's hash is taken over: sorted-key compact JSON, ASCII-escaped.

    The actor's foreign key is left out on purpose: deleting an account sets it to NULL (the
    one change the triggers allow), and the copied username is what identifies the person.
    """
    payload = {
        "v": HASH_VERSION,
        "seq": seq,
        "at": _at_text(at),
        "actor": actor_username,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_label": object_label,
        "justification": justification,
        "ip": ip,
        "user_agent": user_agent,
        "agency": agency_id,
        "details": details,
        "prev": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def event_hash(**fields: Any) -> str:
    """SHA-256 (hex) of :func:`canonical_bytes` of these fields."""
    return hashlib.sha256(canonical_bytes(**fields)).hexdigest()


def stored_hash_input(event: AuditEvent | Mapping[str, Any]) -> dict[str, Any]:
    """The hashed fields of a stored event (a model instance or a ``values()`` row)."""
    get = event.get if isinstance(event, Mapping) else lambda name: getattr(event, name)
    return {
        "seq": get("seq"),
        "at": get("at"),
        "actor_username": get("actor_username"),
        "action": get("action"),
        "object_type": get("object_type"),
        "object_id": get("object_id"),
        "object_label": get("object_label"),
        "justification": get("justification"),
        "ip": get("ip"),
        "user_agent": get("user_agent"),
        "agency_id": get("agency_id"),
        "details": get("details"),
        "prev_hash": get("prev_hash"),
    }


# --- request facts ---------------------------------------------------------------------------


def _valid_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For behind a trusted proxy.

    X-Forwarded-For is whatever the client sent plus what each proxy appended, so it is read
    only when ``BEACON_TRUST_X_FORWARDED_FOR`` says a proxy of ours sets it, and then its last
    entry (the address our proxy saw), never the first (which the client can forge).
    """
    if getattr(settings, "BEACON_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            address = _valid_ip(forwarded.split(",")[-1])
            if address:
                return address
    return _valid_ip(request.META.get("REMOTE_ADDR", "") or "")


def _user_agent(request: HttpRequest) -> str:
    return _text(request.META.get("HTTP_USER_AGENT", ""), MAX_USER_AGENT)


REDACTED = "[redacted]"


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any], *, redact: Collection[str] = ()
) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for each field whose value differs (missing counts as None).

    Fields named in ``redact`` are listed with ``[redacted]`` for both values: the trail is read
    by auditors, whose role may not see record content (free text, identity, places), so it
    says *that* such a field changed and the record's own history keeps the values.
    """
    changes: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            if name in redact:
                changes[name] = [REDACTED, REDACTED]
            else:
                changes[name] = [_json_value(old), _json_value(new)]
    return changes


def label(obj: Any) -> str:
    """A label that names a record without its content: ``call 2026-000042``, ``person #7``.

    ``str(obj)`` of a person, vehicle, note or unit is a name, a plate, text or a call sign;
    auditors read the whole trail but may not read those records (authorization matrix), so
    events about them carry this label instead.
    """
    number = getattr(obj, "number", None)
    name = obj._meta.verbose_name
    return f"{name} {number}" if isinstance(number, str) and number else f"{name} #{obj.pk}"


# --- appending -------------------------------------------------------------------------------


def _lock_chain_and_read_head() -> tuple[int, str] | None:
    """Serialise appends until the caller's transaction ends; the chain's head (seq, hash).

    PostgreSQL: a transaction-level advisory lock, so the head read next is the committed head
    and no other writer appends until this transaction commits or rolls back. Lock and read go in
    one round trip: every other audited write waits while this one holds the lock, and under
    load each round trip taken while holding it is also a wait for the interpreter lock on the
    way back (the soak saw intake queue behind the chain). SQLite: the connection opens
    transactions with BEGIN IMMEDIATE (settings), which already holds the one write lock. In
    both, ``seq`` being unique is the last line: a fork fails instead of forming.

    PostgreSQL also runs the transaction's pending foreign-key checks first. Django's foreign
    keys are checked at COMMIT, and a check waits for any row lock that excludes FOR KEY SHARE;
    a writer holding the chain lock while it waited, with that row's holder queued for the chain,
    deadlocked (the soak: an analysis run's evidence rows against a call being closed). Checked
    here, such a wait happens before the chain lock is taken. The checks then go back to deferred
    (every constraint of this project is INITIALLY DEFERRED or not deferrable).
    """
    if connection.vendor != "postgresql":
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        return (head[0], head[1]) if head else None
    with connection.cursor() as cursor:
        cursor.execute(_CHAIN_LOCK_SQL)
        while cursor.nextset():  # to the last statement's result: the head
            pass
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def record(
    *,
    action: str,
    actor: Any = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    object_label: str = "",
    agency_id: int | None = None,
    details: Mapping[str, Any] | None = None,
    justification: str = "",
    request: HttpRequest | None = None,
    actor_username: str = "",
) -> AuditEvent:
    """Append one event to the audit trail, in the caller's transaction.

    ``obj`` (a model instance) fills the object type, id and label, and the agency when the
    object has one; otherwise pass ``object_type``/``object_id``/``object_label``. The agency
    falls back to the actor's. ``actor_username`` is for events without an account (a failed
    sign-in names the username tried). ``request`` defaults to the one being served.
    """
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    if request is None:
        request = _current_request.get()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        # Never str(obj) by default: for persons, vehicles and notes that is their content.
        object_label = object_label or label(obj)
        if agency_id is None:
            agency_id = getattr(obj, "agency_id", None)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    if agency_id is None and is_user:
        agency_id = user_agency_id(actor)
    fields: dict[str, Any] = {
        "actor_username": _text(actor.get_username() if is_user else actor_username, MAX_USERNAME),
        "action": action,
        "object_type": _text(object_type, MAX_OBJECT_FIELD),
        "object_id": _text(object_id, MAX_OBJECT_FIELD),
        "object_label": _text(object_label, MAX_LABEL),
        "justification": _text(justification, MAX_JUSTIFICATION).strip(),
        "ip": client_ip(request) if request is not None else "",
        "user_agent": _user_agent(request) if request is not None else "",
        "agency_id": agency_id,
        "details": _json_value(dict(details or {})),
    }
    if fields["details"].get("outcome") == "denied":
        # The request's refusal is on the trail now; ``record_refusal`` must not add a second.
        served = _current_request.get()
        if served is not None:
            setattr(served, _REFUSAL_RECORDED, True)
    # No savepoint inside a caller's transaction: a failed append fails that transaction anyway,
    # and the two extra round trips would be taken while holding the chain lock.
    with transaction.atomic(savepoint=False):
        head = _lock_chain_and_read_head()
        fields["seq"] = head[0] + 1 if head else 1
        fields["prev_hash"] = head[1] if head else GENESIS_HASH
        # Taken under the lock, so times never run backwards along the chain on one clock.
        fields["at"] = timezone.now()
        return AuditEvent.objects.create(
            actor=actor if is_user else None,
            hash=event_hash(**fields),
            **fields,
        )


# --- verifying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    """The first place the chain does not hold, and what is wrong there."""

    event_id: int
    seq: int
    kind: str  # "gap", "broken_link" or "hash_mismatch"
    message: str


@dataclass(frozen=True)
class ChainReport:
    """What ``verify_chain`` found: how many events it checked, the head, and the first break."""

    checked: int
    head_seq: int
    head_hash: str
    first_break: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


VERIFY_FIELDS = (
    "id",
    "seq",
    "at",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "justification",
    "ip",
    "user_agent",
    "agency_id",
    "details",
    "prev_hash",
    "hash",
)


def verify_chain(
    *, batch_size: int = 5_000, progress: Callable[[int, int], None] | None = None
) -> ChainReport:
    """Walk the trail in ``seq`` order, a batch at a time, and stop at the first broken link.

    Checks, per event: its position follows the previous one (a hole is a deleted row), its
    ``prev_hash`` is the previous event's hash, and its own hash matches its fields. Deleting
    the newest events leaves no hole; compare ``head_hash`` with a copy kept elsewhere for that.
    ``progress(checked, total)`` is called after each batch.
    """
    total = AuditEvent.objects.count()
    checked, expected_seq, expected_prev, last_seq = 0, 1, GENESIS_HASH, 0
    while True:
        rows = list(
            AuditEvent.objects.filter(seq__gt=last_seq)
            .order_by("seq")
            .values(*VERIFY_FIELDS)[:batch_size]
        )
        if not rows:
            break
        for row in rows:
            problem = _check_row(row, expected_seq, expected_prev)
            if problem is not None:
                return ChainReport(checked, last_seq, expected_prev, problem)
            checked += 1
            expected_seq, expected_prev, last_seq = row["seq"] + 1, row["hash"], row["seq"]
        if progress is not None:
            progress(checked, total)
    return ChainReport(checked, last_seq, expected_prev, None)


def _check_row(row: Mapping[str, Any], expected_seq: int, expected_prev: str) -> ChainBreak | None:
    pk, seq = row["id"], row["seq"]
    if seq != expected_seq:
        missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}-{seq - 1}"
        return ChainBreak(
            pk,
            seq,
            "gap",
            f"event id {pk} (seq {seq}): seq {missing} missing before it; an event was deleted",
        )
    if row["prev_hash"] != expected_prev:
        return ChainBreak(
            pk,
            seq,
            "broken_link",
            f"event id {pk} (seq {seq}): prev_hash {row['prev_hash']} is not the hash of the "
            f"event before it ({expected_prev}); that event was changed and re-hashed, or this "
            "link was rewritten",
        )
    computed = event_hash(**stored_hash_input(row))
    if computed != row["hash"]:
        return ChainBreak(
            pk,
            seq,
            "hash_mismatch",
            f"event id {pk} (seq {seq}): stored hash {row['hash']} but its fields hash to "
            f"{computed}; the event was changed after it was written",
        )
    return None


# --- sign-in and sign-out (connected in GovernanceConfig.ready) ------------------------------


def on_user_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """A successful sign-in (CJIS 5.4.1.1: successful log-on attempts), naming the factors
    when the sign-in page passed a second one (``governance.login_views``)."""
    factors = getattr(request, "beacon_login_factors", None)
    details = {"factors": factors} if factors else None
    record(action=AuditAction.LOGIN, actor=user, request=request, details=details)


def on_user_login_failed(
    sender: Any, credentials: Mapping[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A refused sign-in: the username tried, never the password (Django masks it anyway)."""
    record(
        action=AuditAction.LOGIN_FAILED,
        actor_username=_text(credentials.get("username", ""), MAX_USERNAME),
        request=request,
    )


def on_user_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """A sign-out; nothing to record when nobody was signed in."""
    if user is not None and getattr(user, "is_authenticated", False):
        record(action=AuditAction.LOGOUT, actor=user, request=request)


# --- consultations of sensitive records ------------------------------------------------------

# Categories whose every detail read is a consultation to log (DPA 2018 s.62), whatever the
# record's level: any person record, caller identity, and findings about a person or vehicle.
ALWAYS_LOGGED_VIEWS = frozenset({"person", "caller_identity", "finding"})
# Anything else (vehicles) is logged from this level up.
SENSITIVE_VIEW_LEVEL = 2  # Sensitivity.RESTRICTED


def record_view(
    user: Any,
    obj: Any,
    *,
    category: str,
    sensitivity: int | None = None,
    details: Mapping[str, Any] | None = None,
    repeat_after: int | None = None,
) -> AuditEvent | None:
    """Log that ``user`` consulted ``obj`` when it is a sensitive record; ``None`` when not logged.

    Called by detail endpoints and pages (never lists: a list names records, a detail shows
    them), after the access check passed. ``repeat_after`` (seconds) is for views that refresh
    themselves (the console's call panel re-reads after every live update): one event per user
    and record in that window, remembered in the cache, so the trail records the consultation
    and not each redraw.
    """
    if category not in ALWAYS_LOGGED_VIEWS and (sensitivity or 0) < SENSITIVE_VIEW_LEVEL:
        return None
    if repeat_after:
        from django.core.cache import cache

        key = f"beacon:audit:view:{getattr(user, 'pk', '')}:{category}:{obj._meta.label_lower}:{obj.pk}"
        if not cache.add(key, 1, timeout=repeat_after):
            return None
    return record(
        action=AuditAction.VIEW,
        actor=user,
        obj=obj,
        object_label=label(obj),
        details={
            "category": category,
            **({"sensitivity": int(sensitivity)} if sensitivity is not None else {}),
            **dict(details or {}),
        },
    )


# --- refused requests (CJIS 5.4.1.1: unsuccessful attempts to access a resource) -------------


def note_need_to_know_refusal(qs: Any, pk: Any, *, category: str) -> None:
    """Remember that the record ``pk`` of ``qs`` exists and was hidden from the request's user.

    Called by access functions after a record answered "not found": ``qs`` is what the user would
    see without need-to-know, so a hit means a need-to-know limit alone refused it. Nothing is
    written here (the access check may sit inside a transaction that rolls back with its 404);
    ``record_refusal`` writes the event once the response is ready. The answer stays the plain
    404 of a missing record.
    """
    served = _current_request.get()
    text = str(pk)
    if served is None or not text.isdigit() or len(text) > 18:
        return
    obj = qs.filter(pk=int(text)).first()
    if obj is not None:
        setattr(served, _HIDDEN_REFUSAL, (obj, category))


def record_refusal(request: HttpRequest, response: Any) -> AuditEvent | None:
    """One ``denied`` event for a signed-in user's refused request; ``None`` when not recorded.

    Recorded: every 403 (a role without the right, a write to another agency's record, a failed
    CSRF check), and a 404 that hid an existing record by need-to-know (see
    ``note_need_to_know_refusal``). Not recorded: anonymous requests (401, sign-in redirects; the
    sign-in itself is audited), 404s of missing or otherwise invisible records, and requests whose
    refusal a view already recorded (the audit trail's own pages). The response is not touched.
    """
    status = getattr(response, "status_code", 0)
    if status not in (403, 404) or getattr(request, _REFUSAL_RECORDED, False):
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    method = (request.method or "").upper()
    action = (
        AuditAction.VIEW
        if method in SAFE_METHODS
        else AuditAction.DELETE
        if method == "DELETE"
        else AuditAction.CHANGE
    )
    match = getattr(request, "resolver_match", None)
    details: dict[str, Any] = {
        "outcome": "denied",
        "status": status,
        "method": method[:10],
        "path": request.path[:MAX_PATH],
        "route": (match.view_name if match else "")[:MAX_PATH],
    }
    if status == 403:
        return record(
            action=action,
            actor=user,
            object_type="http.request",
            object_label=details["route"] or details["path"],
            details=details,
            request=request,
        )
    hidden = getattr(request, _HIDDEN_REFUSAL, None)
    if hidden is None:
        return None
    obj, category = hidden
    return record(
        action=action,
        actor=user,
        obj=obj,
        details={**details, "reason": "need_to_know", "category": category},
        request=request,
    )


# --- password changes (CJIS 5.4.1.1: successful and unsuccessful password changes) ----------


def record_password_change(request: HttpRequest, account: Any, response: Any) -> AuditEvent | None:
    """One ``change`` event on ``account`` for a submitted password-change form.

    ``response`` is the form view's answer: a redirect means the password was changed
    (``outcome: allowed``); the form shown again means it was refused (``outcome: failed``, with
    the names of the fields in error, never a value). GETs and other answers record nothing.
    """
    if request.method != "POST" or account is None:
        return None
    status = getattr(response, "status_code", 0)
    if status in (301, 302, 303):
        details: dict[str, Any] = {"password": "changed", "outcome": "allowed"}
    elif status == 200:
        form = (getattr(response, "context_data", None) or {}).get("form")
        errors = sorted(getattr(form, "errors", {}) or {}) if form is not None else []
        details = {"password": "change refused", "outcome": "failed", "fields": errors}
    else:
        return None
    own = getattr(request.user, "pk", None) == account.pk
    return record(
        action=AuditAction.CHANGE,
        actor=request.user,
        obj=account,
        details={**details, "own_account": own},
        request=request,
    )
