"""Pages need a signed-in user; sign-in and sign-out work; the health check is open."""

from __future__ import annotations

import re

import pytest
from django.contrib.admindocs.views import extract_views_from_urlpatterns, simplify_regex
from django.test import Client
from django.urls import get_resolver

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

# Not pages: the API authenticates inside DRF, static files and the health check are public,
# and the sign-in pages must be reachable signed out.
NOT_PAGES = ("/api/", "/static/", "/healthz", "/login/", "/admin/login/")


def page_paths() -> list[str]:
    """Every routed page, with a sample value in place of each URL parameter."""
    paths = set()
    for _view, regex, _namespace, _name in extract_views_from_urlpatterns(
        get_resolver().url_patterns
    ):
        path = re.sub(r"<[^>]+>", "1", simplify_regex(regex))
        if not path.startswith(NOT_PAGES):
            paths.add(path)
    return sorted(paths)


def test_the_url_map_has_the_pages_we_expect_to_protect():
    paths = page_paths()
    assert {"/", "/calls/", "/calls/1/", "/admin/", "/logout/"} <= set(paths)


@pytest.mark.parametrize("path", page_paths())
def test_every_page_sends_anonymous_users_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302, path
    # Admin site views that opt out of the middleware guard themselves with the admin sign-in.
    sign_in = (
        r"^/admin/login/\?next=|^/login/\?next="
        if path.startswith("/admin/")
        else r"^/login/\?next="
    )
    assert re.match(sign_in, response["Location"]), response["Location"]


def test_the_sign_in_page_renders_for_anonymous_users(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content and b"csrfmiddlewaretoken" in response.content


def test_signing_in_lands_on_the_home_page_with_roles(cast):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/login/",
        {"username": "analyst1", "password": TEST_PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert b"analyst1" in home.content


@pytest.mark.parametrize(("role", "landing"), [("dispatcher", "/console/"), ("field", "/field/")])
def test_dispatchers_and_field_staff_land_where_they_work(cast, client, role, landing):
    client.force_login(cast[role])
    assert client.get("/")["Location"] == landing


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(cast, client):
    response = client.post("/login/", {"username": "dispatcher1", "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert "_auth_user_id" not in client.session


def test_a_disabled_account_cannot_sign_in(cast, client):
    user = cast["dispatcher"]
    user.is_active = False
    user.save()
    client.post("/login/", {"username": "dispatcher1", "password": TEST_PASSWORD})
    assert "_auth_user_id" not in client.session


def test_signing_out_takes_a_post_and_ends_the_session(cast, client):
    client.force_login(cast["dispatcher"])
    assert client.get("/logout/").status_code == 405  # a link or prefetch must not sign anyone out
    assert "_auth_user_id" in client.session
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/calls/").status_code == 302


def test_healthz_is_public_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_the_admin_site_is_for_the_admin_role_only(cast, client):
    client.force_login(cast["dispatcher"])
    assert client.get("/admin/").status_code == 302  # to the admin's own sign-in
    client.force_login(cast["admin"])
    response = client.get("/admin/")
    assert response.status_code == 200
    # Models are registered (SimpleAdminConfig does not autodiscover them).
    assert b"/admin/dispatch/calltype/" in response.content
    assert client.get("/admin/dispatch/calltype/").status_code == 200
