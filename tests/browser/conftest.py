"""Browser journeys: real Chromium (Debian's package) through Playwright, against a real `serve` process.

The server is the same `manage.py serve` that production and `make run` use,
pointed at pytest's test database, so journeys exercise HTTP, websockets and
the channel layer of the current mode (in-process, or Redis when REDIS_URL is
set). Tests use the ``transactional_db`` so their fixtures are committed and
visible to the server process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = (
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


def _find_chromium() -> str | None:
    return next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's Chromium; installed with apt when running as root, otherwise the journeys skip."""
    found = _find_chromium()
    if found:
        return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "chromium"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            subprocess.run(install, env=env, capture_output=True)
        found = _find_chromium()
        if found:
            return found
    pytest.skip(
        "Chromium is not installed and cannot be installed here (needs root + apt): "
        "`apt-get install chromium` to run the browser journeys"
    )


@pytest.fixture(scope="package")
def browser(chromium_executable: str) -> Iterator[Any]:
    """One Chromium for the browser package; closed (with Playwright's event loop) when it ends.

    Package scope matters: Playwright's sync API keeps an event loop running in
    this thread, which would break every async test collected after the journeys.
    """
    # Playwright's loop runs in the test thread; Django would otherwise refuse ORM
    # calls from the test body. Restored afterwards so later tests keep the check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env() -> dict[str, str]:
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_test",  # same password hashers as the test process
        SECRET_KEY=settings.SECRET_KEY,
        SECURE_COOKIES="false",
        BEACON_EMBEDDED_BEAT="false",
        MAP_TILE_URL="",
        UVICORN_LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
        DJANGO_ALLOW_ASYNC_UNSAFE="",
    )
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = ""
        env["SQLITE_PATH"] = str(db["NAME"])
    else:
        user, host, port = (
            db.get("USER") or "postgres",
            db.get("HOST") or "127.0.0.1",
            db.get("PORT") or 5432,
        )
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    return env


@pytest.fixture(scope="session")
def live_url(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """Base URL of a `manage.py serve` process using the test database."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=_server_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                output = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"serve did not start: {output[-2000:]}")
            time.sleep(0.2)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    # Drop the server's idle connections before pytest-django drops the test database.
    time.sleep(0.2)


@pytest.fixture(scope="session")
def analysis_worker(live_url: str) -> Iterator[None]:
    """In production mode, a real Celery worker for the analysis queues (as deployed): "Run now"
    queues the run and only a worker executes it. Embedded mode runs tasks in place: no-op."""
    env = _server_env()
    if not env.get("REDIS_URL"):
        yield
        return
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,analysis"]
    proc = subprocess.Popen(
        [*command, "--pool", "solo", "--loglevel", "info", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    seen: list[str] = []
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        seen.append(line)
        if " ready." in line:
            break
        if (not line and proc.poll() is not None) or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"celery worker did not start: {''.join(seen)[-2000:]}")
    # Keep draining its output so a full pipe never blocks the worker.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    yield
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


# Reports every Content-Security-Policy violation on the console (Playwright injects init
# scripts outside the page's CSP, so the listener itself is never refused).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  `${CSP_MARK} ${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
));
""".replace("CSP_MARK", '"[csp-violation]"')


@pytest.fixture
def new_page(browser: Any, live_url: str) -> Iterator[Any]:
    """``new_page(viewport=...)`` opens a fresh context (own cookies) on the live server.

    Any Content-Security-Policy violation on any page fails the journey (at teardown): the pages
    must work without inline script (docs/security.md). ``page.csp_violations`` lists them.
    Give ``wait_for_function`` a function (``"() => ..."``): Playwright runs a bare expression
    through eval, which the policy refuses (an EvalError, and a violation).
    """
    contexts: list[Any] = []
    violations: list[str] = []

    def _open(**kwargs: Any) -> Any:
        context = browser.new_context(base_url=live_url, **kwargs)
        context.set_default_timeout(10_000)
        context.add_init_script(CSP_LISTENER)
        contexts.append(context)
        page = context.new_page()
        page.csp_violations = violations

        def on_console(message: Any) -> None:
            if message.type != "error":
                return
            # Browser-side errors are the first thing to read when a journey fails.
            print(f"[browser console] {message.text}")
            if "[csp-violation]" in message.text or "Content Security Policy" in message.text:
                violations.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda e: print(f"[browser pageerror] {e}"))
        return page

    yield _open
    for context in contexts:
        context.close()
    if violations:
        pytest.fail("Content-Security-Policy violations:\n  " + "\n  ".join(violations))


def sign_in(page: Any, username: str, password: str) -> None:
    """Sign in through the login form, as a person would."""
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    try:
        page.wait_for_url(lambda url: "/login/" not in url)
    except Exception as exc:
        alert = page.locator("[role=alert]")
        reason = alert.inner_text() if alert.count() else page.content()[:500]
        raise AssertionError(f"sign-in as {username} failed at {page.url}: {reason}") from exc
