"""Admins tune the console (radius, duplicate window, status timers) in the browser; the console follows."""

from __future__ import annotations

import json
import re

import pytest

from dispatch.console_config import DEFAULTS, console_settings
from dispatch.models import DispatchSettings

pytestmark = pytest.mark.django_db


def _form(**overrides):
    fields = {
        f.name: f.default
        for f in DispatchSettings._meta.fields
        if f.name not in {"id", "updated_at"}
    }
    fields.update(overrides)
    return {k: str(v) for k, v in fields.items()}


def test_defaults_apply_until_an_admin_saves_settings():
    assert console_settings() == DEFAULTS


def test_admin_edits_settings_in_the_browser_and_the_console_uses_them(client, cast):
    client.force_login(cast["admin"])
    resp = client.post(
        "/admin/dispatch/dispatchsettings/add/",
        _form(context_radius_m=400, duplicate_window_min=45),
    )
    assert resp.status_code == 302, resp.content[:2000]
    assert DispatchSettings.objects.get().pk == 1
    client.force_login(cast["dispatcher"])
    page = client.get("/console/").content.decode()
    config = json.loads(
        re.search(r'id="console-config" type="application/json">(.*?)</script>', page).group(1)
    )
    assert config["settings"]["context_radius_m"] == 400
    assert config["settings"]["duplicate_window_min"] == 45


def test_red_before_amber_is_refused_with_the_field_named(client, cast):
    client.force_login(cast["admin"])
    resp = client.post(
        "/admin/dispatch/dispatchsettings/add/", _form(en_route_warn_s=900, en_route_alert_s=600)
    )
    assert resp.status_code == 200
    assert b"Red must come after amber." in resp.content
    assert not DispatchSettings.objects.exists()


def test_a_second_settings_row_cannot_be_added(client, cast):
    DispatchSettings.objects.create(pk=1)
    client.force_login(cast["admin"])
    assert client.get("/admin/dispatch/dispatchsettings/add/").status_code == 403


def test_dispatchers_cannot_edit_settings(client, cast):
    client.force_login(cast["dispatcher"])
    resp = client.post("/admin/dispatch/dispatchsettings/add/", _form())
    assert resp.status_code in (302, 403)
    assert not DispatchSettings.objects.exists()
