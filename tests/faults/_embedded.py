"""An embedded-mode Beacon (``manage.py serve`` on SQLite, beat in-process) as a child process
that a fault test can start, load, SIGKILL and start again on the same ``BEACON_VAR_DIR``."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90
REQUEST_TIMEOUT_S = 10


def embedded_env(var_dir: Path) -> dict[str, str]:
    """The environment of `make run`: no DATABASE_URL/REDIS_URL, so SQLite and in-process jobs."""
    drop = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SQLITE_PATH", "BEACON_EMBEDDED_BEAT"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    env.update(
        BEACON_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="config.settings",
        UVICORN_LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """Run a management command to completion; its stdout, or a failure naming its stderr."""
    out = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise AssertionError(f"manage.py {args[0]} failed ({out.returncode}): {out.stderr[-3000:]}")
    return out.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedServer:
    """One `manage.py serve` process at a time on one var dir; each start gets a new port."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        # A file, not a pipe: nobody reads the output while the server runs, and a full pipe
        # would block the server.
        log = (self.log_dir / f"serve-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.proc.kill()
                    raise AssertionError(f"serve did not start: {self.log()[-3000:]}") from None
                time.sleep(0.2)

    def log(self) -> str:
        return (self.log_dir / f"serve-{self.starts}.log").read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no exit hook, no final beat sync, no SQLite checkpoint."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def api(self, token: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(status, JSON) of a token-authenticated request; raises OSError if nobody answers."""
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            method="POST" if body is not None else "GET",
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def sqlite_rows(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the server's database directly (WAL lets a reader in beside the running server)."""
    db = sqlite3.connect(db_path, timeout=20)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def wait_for(check: Any, *, timeout: float, what: str) -> Any:
    """Poll ``check()`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)
