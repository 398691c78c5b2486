"""Content-Security-Policy (issue #8): every HTML page carries a policy that forbids inline
script, and no template (or admin override) contains inline script or inline event handlers,
so the pages still work under it. The browser journeys check the same in Chromium: any CSP
violation fails them (tests/browser/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory, override_settings

from beacon_core.csp import HEADER, csp_relax, policy_for, tile_source
from tests.governance.authorization_matrix import MATRIX, ROLES
from tests.governance.matrix_sessions import signed_in_world
from tests.governance.matrix_support import build_url, object_id, url_patterns
from tests.governance.matrix_world import World

ROOT = Path(settings.BASE_DIR)
PATTERNS = {p.key: p for p in url_patterns()}


def _directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


# --- the policy ---------------------------------------------------------------------------------


def test_policy_forbids_inline_script_and_plugins() -> None:
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8000")
    policy = _directives(policy_for(request))
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["style-src"] == [
        "'self'"
    ]  # no <style> elements; attributes only (style-src-attr)
    assert policy["connect-src"][:1] == ["'self'"]
    assert "ws://127.0.0.1:8000" in policy["connect-src"]
    assert "wss://127.0.0.1:8000" in policy["connect-src"]
    assert "'unsafe-eval'" not in " ".join(s for v in policy.values() for s in v)


@pytest.mark.django_db
def test_a_request_for_a_host_not_allowed_still_gets_400_with_the_policy() -> None:
    response = Client().get("/login/", HTTP_HOST="evil.example.org")
    assert response.status_code == 400
    policy = _directives(response[HEADER])
    assert policy["script-src"] == ["'self'"]
    assert not any("evil" in source for source in policy["connect-src"])


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://tiles.local:8080/osm/{z}/{x}/{y}.png", "http://tiles.local:8080"),
        ("/tiles/{z}/{x}/{y}.png", None),  # served by Beacon itself: 'self'
        ("", None),
        ([], None),  # the tests' "no tiles"
    ],
)
def test_tile_source_of_map_tile_url(url: Any, source: str | None) -> None:
    assert tile_source(url) == source


@pytest.mark.parametrize(
    "url", ["ftp://tiles.example.org/{z}.png", "https://tiles.{s}.example.org/{z}.png"]
)
def test_a_tile_url_the_policy_cannot_express_is_refused(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="MAP_TILE_URL"):
        tile_source(url)


def test_tile_host_and_extra_sources_reach_img_src() -> None:
    leaflet = {**settings.LEAFLET_CONFIG, "TILES": "https://{s}.tiles.example.org/{z}/{x}/{y}.png"}
    with override_settings(
        LEAFLET_CONFIG=leaflet,
        BEACON_CSP_EXTRA_IMG_SRC=["https://overlay.example.org"],
        BEACON_CSP_EXTRA_CONNECT_SRC=["https://geo.example.org"],
    ):
        policy = _directives(policy_for(RequestFactory().get("/")))
    assert policy["img-src"] == [
        "'self'",
        "data:",
        "https://*.tiles.example.org",
        "https://overlay.example.org",
    ]
    assert "https://geo.example.org" in policy["connect-src"]


def test_csp_relax_widens_one_view_only() -> None:
    def view(request: Any) -> Any:
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = RequestFactory().get("/")
    relaxed = csp_relax(style_src=["'unsafe-inline'"])(view)(request)
    policy = _directives(policy_for(request, relaxed.csp_relax))
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["script-src"] == ["'self'"]
    assert not hasattr(view(request), "csp_relax")


# --- every page carries it ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    yield from signed_in_world(django_db_blocker)


def _pages() -> list[Any]:
    """Every GET route some role reads with 200 (the first such role), admin pages included."""
    cases = []
    for key in sorted(MATRIX):
        row = MATRIX[key].checks.get("GET")
        if row is None:
            continue
        answers = dict(zip(ROLES, row.split(), strict=True))
        role = next((r for r in [*ROLES[1:], "anonymous"] if answers[r] == "ok"), None)
        if role is not None:
            cases.append(pytest.param(key, role, id=f"{key}|{role}"))
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "role"), _pages())
def test_every_html_page_carries_the_policy(world: World, key: str, role: str) -> None:
    if key not in PATTERNS:
        pytest.skip(f"{key} is not a URL pattern")
    entry = MATRIX[key]
    query = re.sub(r"\{own:(\w+)\}", lambda m: str(world.own[m.group(1)]), entry.query)
    url = build_url(PATTERNS[key], entry.obj, object_id(entry.obj, world)) + query
    client = Client()
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    response = client.get(url)
    assert response.status_code == 200, f"GET {url} as {role}: HTTP {response.status_code}"
    # Every response has it (JSON and files too: harmless, and nothing is forgotten).
    policy = _directives(response[HEADER])
    assert policy["script-src"] == ["'self'"], f"GET {url}: {response[HEADER]}"
    assert policy["object-src"] == ["'none'"]
    if response.get("Content-Type", "").startswith("text/html"):
        body = response.content.decode()
        assert not _inline_scripts(body), f"GET {url} renders inline script"
        assert not INLINE_HANDLER.search(body), f"GET {url} renders an inline event handler"


# --- no template has inline script ------------------------------------------------------------

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
# on<event>= as an HTML attribute (after whitespace inside a tag), and javascript: URLs.
INLINE_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def _inline_scripts(html: str) -> list[str]:
    """Opening tags of <script> elements that would execute inline code (no src, not JSON data)."""
    found = []
    for match in SCRIPT_TAG.finditer(html):
        attrs = match.group(1)
        if re.search(r"\bsrc\s*=", attrs) or re.search(
            r"""type\s*=\s*["']application/(?:ld\+)?json["']""", attrs
        ):
            continue
        found.append(match.group(0))
    return found


def _templates() -> list[Path]:
    dirs = [ROOT / "templates"] + [
        ROOT / app / "templates"
        for app in ("governance", "dispatch", "intelligence", "tasking", "beacon_core", "exports")
    ]
    return sorted(p for d in dirs if d.is_dir() for p in d.rglob("*.html"))


def test_the_scan_finds_what_it_looks_for() -> None:
    """The scanner is not blind: each forbidden form is caught, the allowed ones are not."""
    assert _inline_scripts("<script>alert(1)</script>")
    assert _inline_scripts('<SCRIPT type="text/javascript">x()</SCRIPT>')
    assert not _inline_scripts('<script src="/static/js/a.js"></script>')
    assert not _inline_scripts('<script id="c" type="application/json">{}</script>')
    assert INLINE_HANDLER.search('<button type="button" onclick="go()">')
    assert INLINE_HANDLER.search('<form\n  onsubmit="return x()">')
    assert INLINE_HANDLER.search('<a href="javascript:void(0)">')
    assert not INLINE_HANDLER.search('<p class="online">onion=1</p>')


def test_templates_contain_no_inline_script_or_handlers() -> None:
    templates = _templates()
    assert len(templates) > 20, "the template scan found no templates: wrong directory?"
    offenders = []
    for path in templates:
        text = path.read_text()
        offenders += [f"{path.relative_to(ROOT)}: {tag}" for tag in _inline_scripts(text)]
        offenders += [
            f"{path.relative_to(ROOT)}: {m.group(0)!r}" for m in INLINE_HANDLER.finditer(text)
        ]
    assert not offenders, (
        "Inline script is refused by the Content-Security-Policy: move it to a static JS file "
        "and pass data with json_script or data- attributes (docs/security.md):\n  "
        + "\n  ".join(offenders)
    )


def test_python_code_renders_no_inline_script() -> None:
    """HTML built in Python (format_html, mark_safe, admin columns) is held to the same rule."""
    offenders = []
    for app in ("governance", "dispatch", "intelligence", "tasking", "beacon_core", "exports"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path.name == "csp.py":
                continue
            text = path.read_text()
            offenders += [f"{path.relative_to(ROOT)}: {tag}" for tag in _inline_scripts(text)]
            offenders += [
                f"{path.relative_to(ROOT)}: {m.group(0)!r}" for m in INLINE_HANDLER.finditer(text)
            ]
    assert not offenders, "\n  ".join(offenders)
