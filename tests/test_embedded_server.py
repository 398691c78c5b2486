"""Embedded mode end to end: the real `serve` process on SQLite, login, REST intake and a live push.

This is what `make run` starts. It proves that one process serves pages, the
API and websockets, and that a call created over the API reaches a connected
console through the in-process channel layer.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import websockets

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "embedded-test-password-42"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
    }
    env.update(
        BEACON_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="config.settings",
        UVICORN_LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    var_dir = tmp_path_factory.mktemp("embedded-var")
    env = _env(var_dir)
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(
        env,
        "shell",
        "-c",
        "from governance.services import user_create, agency_get_or_create_default as d;"
        f"user_create(username='disp', password='{PASSWORD}', roles=['dispatcher'], agency=d())",
    )
    token = _manage(env, "drf_create_token", "disp").split()[2]
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"serve exited: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("serve did not answer /healthz within 30 s")
    yield {"base": base, "port": port, "token": token, "var_dir": var_dir, "proc": proc}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _login(base: str) -> http.cookiejar.CookieJar:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login/").read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf, "login form has no CSRF token"
    data = urllib.parse.urlencode(
        {"username": "disp", "password": PASSWORD, "csrfmiddlewaretoken": csrf.group(1)}
    ).encode()
    opener.open(f"{base}/login/", data=data)
    assert any(c.name == "sessionid" for c in jar), "login did not set a session"
    return jar


def _api(base: str, token: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def test_secret_key_is_generated_once_and_kept(server):
    key_file = server["var_dir"] / "secret_key"
    assert key_file.exists()
    assert len(key_file.read_text().strip()) >= 50
    assert (server["var_dir"] / "beacon.sqlite3").exists()


def test_pages_require_login_and_login_works(server):
    # urllib follows the redirect: an anonymous request lands on the login page.
    resp = urllib.request.urlopen(f"{server['base']}/calls/")
    assert "/login/?next=/calls/" in resp.geturl()
    jar = _login(server["base"])
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{server['base']}/calls/")
    assert page.geturl().endswith("/calls/")


def test_call_created_over_api_is_pushed_to_a_console(server):
    jar = _login(server["base"])
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)

    async def scenario() -> dict:
        uri = f"ws://127.0.0.1:{server['port']}/ws/dispatch/"
        headers = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{server['port']}"}
        async with websockets.connect(uri, additional_headers=headers) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert hello["type"] == "hello"
            started = time.monotonic()
            status, body = await asyncio.to_thread(
                _api,
                server["base"],
                server["token"],
                "/api/v1/calls/",
                {
                    "call_type": "NOISE",
                    "address": "500 Elm Street Apt 2",
                    "narrative": "loud party",
                },
            )
            assert status == 201, body
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                # A batch frame carries several events (static/js/beacon.js).
                for event in frame["events"] if frame.get("type") == "batch" else [frame]:
                    if event.get("type") == "call_created":
                        event["elapsed"] = time.monotonic() - started
                        event["created_id"] = body["id"]
                        return event

    event = asyncio.run(scenario())
    assert event["call_id"] == event["created_id"]
    assert event["elapsed"] < 5
