"""Sign-in, sign-out and the role-aware landing page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from governance.access import user_roles
from governance.choices import Role
from governance.selectors import user_summary


class LoginView(auth_views.LoginView):
    """The sign-in page."""

    template_name = "governance/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires)."""


def home(request: HttpRequest) -> HttpResponse:
    """Landing page: dispatchers go to the console, field staff to their phone view, others choose."""
    roles = user_roles(request.user)
    if Role.DISPATCHER in roles:
        return redirect("console")
    if roles == {Role.FIELD}:
        return redirect("field")
    return render(request, "governance/home.html", {"me": user_summary(request.user)})
