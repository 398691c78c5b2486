"""Sign-in pages: password, then (when needed) the authenticator code; the person's own
two-factor page; and the administrators' sign-in rules page (per-role TOTP, locks, resets).

Between a right password and a right code the session holds only a *pending* sign-in (the user
id, the backend, when, where to go next); nobody is logged in, so every page, the API's session
authentication and websockets treat the session as anonymous until ``_complete`` calls
``login``. The pending state lasts ``PENDING_TTL_S``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from beacon_core.errors import DomainError, NotFoundError
from governance import audit, login_security
from governance.access import can
from governance.audit import client_ip
from governance.choices import Action, AuditAction, Category

PENDING_KEY = "beacon_pending_login"
PENDING_TTL_S = 5 * 60
WRONG_CODE = "That code is not right. Enter the 6-digit code your authenticator app shows now."


def lock_message(until: dt.datetime) -> str:
    local = timezone.localtime(until, ZoneInfo(settings.BEACON_TIME_ZONE))
    return f"Too many failed sign-ins; try again after {local:%H:%M}."


class LoginForm(AuthenticationForm):
    """Django's sign-in form, saying so when the answer is "locked" rather than "wrong".

    The lock message is given for any username (existing or not) once it is locked, and only
    after the attempt failed, so it reveals nothing the attempt itself did not.
    """

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError:
            username = self.cleaned_data.get("username") or ""
            until = login_security.locked_until(
                username=username, ip=client_ip(self.request), now=timezone.now()
            )
            if until is not None:
                raise ValidationError(lock_message(until), code="locked") from None
            raise


class LoginView(auth_views.LoginView):
    """The sign-in page: a right password signs in, or starts the second step when needed."""

    template_name = "governance/login.html"
    redirect_authenticated_user = True
    form_class = LoginForm

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not login_security.second_factor_needed(user):
            return super().form_valid(form)
        # A new session key: the pending state must not ride on an id set before the password.
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user_id": user.pk,
            "backend": user.backend,
            "since": timezone.now().timestamp(),
            "next": self.get_success_url(),
        }
        return redirect("login-verify")


# --- the pending sign-in -------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A sign-in whose password was right and whose second factor is still to come."""

    user: Any
    backend: str
    next: str


def _pending(request: HttpRequest) -> Pending | None:
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if timezone.now().timestamp() - float(data.get("since", 0)) > PENDING_TTL_S:
        request.session.pop(PENDING_KEY, None)
        return None
    user = get_user_model().objects.filter(pk=data.get("user_id"), is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return None
    return Pending(user=user, backend=str(data.get("backend", "")), next=str(data.get("next", "")))


def _complete(request: HttpRequest, pending: Pending) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    login_security.throttle_reset(username=pending.user.get_username())
    request.beacon_login_factors = ["password", "totp"]  # type: ignore[attr-defined]
    login(request, pending.user, backend=pending.backend)
    return redirect(pending.next or settings.LOGIN_REDIRECT_URL)


def _code_outcome(
    request: HttpRequest, pending: Pending, check: Callable[[str, dt.datetime], bool]
) -> tuple[bool, str]:
    """Check the posted code; a wrong one is audited and counts toward the lockout."""
    username = pending.user.get_username()
    ip = client_ip(request)
    now = timezone.now()
    until = login_security.locked_until(username=username, ip=ip, now=now)
    if until is None and check(request.POST.get("code", "")[:20], now):
        return True, ""
    audit.record(
        action=AuditAction.LOGIN_FAILED,
        actor_username=username,
        details={"factor": "totp", **({"locked": True} if until else {})},
    )
    if until is None:
        until = login_security.failure_register(username=username, ip=ip, now=now, factor="totp")
    if until is not None:
        request.session.pop(PENDING_KEY, None)  # start again with the password after the lock
        return False, lock_message(until)
    return False, WRONG_CODE


def _expired(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    return redirect(f"{reverse('login')}?expired=1")


@login_not_required
@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """Second step: the code from the person's authenticator app."""
    pending = _pending(request)
    if pending is None:
        return _expired(request)
    if login_security.confirmed_device(pending.user) is None:
        return redirect("login-enrol")
    error = ""
    if request.method == "POST":
        ok, error = _code_outcome(
            request,
            pending,
            lambda code, now: login_security.totp_verify(user=pending.user, code=code, now=now),
        )
        if ok:
            return _complete(request, pending)
    context = {"error": error, "ended": PENDING_KEY not in request.session}
    return render(request, "governance/login_verify.html", context, status=400 if error else 200)


@login_not_required
@require_http_methods(["GET", "POST"])
def login_enrol(request: HttpRequest) -> HttpResponse:
    """Second step for someone whose role requires TOTP but who has no authenticator yet."""
    pending = _pending(request)
    if pending is None:
        return _expired(request)
    if login_security.confirmed_device(pending.user) is not None:
        return redirect("login-verify")
    error = ""
    if request.method == "POST":
        ok, error = _code_outcome(
            request,
            pending,
            lambda code, now: login_security.totp_enrol_confirm(
                user=pending.user, code=code, now=now
            ),
        )
        if ok:
            return _complete(request, pending)
    if PENDING_KEY not in request.session:  # locked: no secret to show any more
        context = {"error": error, "ended": True}
        return render(request, "governance/login_verify.html", context, status=400)
    device = login_security.totp_enrol_start(user=pending.user, now=timezone.now())
    context = {
        "error": error,
        "secret": device.secret,
        "uri": login_security.provisioning_uri(device),
        "during_sign_in": True,
    }
    return render(request, "governance/two_factor.html", context, status=400 if error else 200)


# --- the person's own two-factor page ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def account_two_factor(request: HttpRequest) -> HttpResponse:
    """Set up, or remove, the signed-in person's authenticator."""
    user = request.user
    now = timezone.now()
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("op") == "remove":
                login_security.totp_remove(
                    actor=user, user=user, code=request.POST.get("code", "")[:20], now=now
                )
                return redirect(f"{reverse('account-two-factor')}?saved=removed")
            if login_security.totp_enrol_confirm(
                user=user, code=request.POST.get("code", "")[:20], now=now
            ):
                return redirect(f"{reverse('account-two-factor')}?saved=enrolled")
            error = WRONG_CODE
        except DomainError as exc:
            error = " ".join(m for ms in exc.errors.values() for m in ms)
        except NotFoundError:
            error = "No two-factor device to remove."
    device = login_security.confirmed_device(user)
    context: dict[str, Any] = {
        "error": error,
        "enrolled": device is not None,
        "required": login_security.totp_required_by_role(user),
        "saved": request.GET.get("saved", ""),
    }
    if device is None:
        # Idempotent: the same unconfirmed secret is shown until it is confirmed.
        pending_device = login_security.totp_enrol_start(user=user, now=now)
        context["secret"] = pending_device.secret
        context["uri"] = login_security.provisioning_uri(pending_device)
    return render(request, "governance/two_factor.html", context, status=400 if error else 200)


# --- the administrators' sign-in rules page ------------------------------------------------------


def _require_policy(request: HttpRequest, action: str) -> None:
    if not can(request.user, action, Category.ACCESS_POLICY):
        raise PermissionDenied


def _policy_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    context = {
        "policies": login_security.role_policies(),
        "locks": login_security.current_locks(actor=request.user, now=now),
        "people": login_security.two_factor_people(actor=request.user),
        "may_change": can(request.user, Action.CHANGE, Category.ACCESS_POLICY),
        "saved": request.GET.get("saved", ""),
        "time_zone": settings.BEACON_TIME_ZONE,
        "lockout": {
            "threshold": login_security.lockout_threshold(),
            "minutes": int(login_security.lockout_duration().total_seconds() // 60),
            "ip_threshold": login_security.lockout_ip_threshold(),
        },
    }
    return render(request, "governance/login_policy.html", context)


@require_GET
def login_policy_page(request: HttpRequest) -> HttpResponse:
    _require_policy(request, Action.VIEW)
    return _policy_page(request)


@require_POST
def login_policy_save(request: HttpRequest) -> HttpResponseBase:
    """Apply the per-role checkboxes; only roles whose setting changed are written (audited)."""
    _require_policy(request, Action.CHANGE)
    wanted = set(request.POST.getlist("require_totp"))
    changed = 0
    for role, _label, current in login_security.role_policies():
        if (role in wanted) != current:
            changed += login_security.role_login_policy_set(
                actor=request.user,
                role=role,
                require_totp=role in wanted,
                justification=request.POST.get("justification", ""),
            )
    return redirect(f"{reverse('login-policy')}?saved={changed}")


@require_POST
def login_lock_lift(request: HttpRequest, throttle_id: int) -> HttpResponseBase:
    _require_policy(request, Action.CHANGE)
    try:
        login_security.throttle_unlock(
            actor=request.user,
            throttle_id=throttle_id,
            now=timezone.now(),
            justification=request.POST.get("reason", ""),
        )
    except NotFoundError:
        raise Http404 from None
    return redirect(f"{reverse('login-policy')}?saved=unlocked#locks")


@require_POST
def two_factor_reset(request: HttpRequest, user_id: int) -> HttpResponseBase:
    """An administrator takes away someone's authenticator (a lost phone); they enrol again."""
    _require_policy(request, Action.CHANGE)
    target = get_user_model().objects.filter(pk=user_id).first()
    if target is None or target.pk == request.user.pk:
        raise Http404
    try:
        login_security.totp_remove(actor=request.user, user=target, now=timezone.now())
    except NotFoundError:
        raise Http404 from None
    return redirect(f"{reverse('login-policy')}?saved=reset#people")
