"""Process harness for the fault tests: private PostgreSQL and Redis, Beacon's own processes.

Everything here listens on free loopback ports and lives in a temporary directory, so a test
can stop, kill and restart what it started without touching the shared servers on 5432/6379.
Each process writes its output to a log file; :meth:`Stack.dump_logs` prints the tails when a
test fails, and :meth:`Stack.close` stops whatever is still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
PG_BIN = Path(os.environ.get("BEACON_FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
PASSWORD = "faults-test-password-42"
# "Fast" for an answer during an outage: a hang runs into the tests' 30 s client timeout, and a
# healthy answer takes well under a second; 10 s leaves room for a loaded 2-core CI machine.
FAST_S = 10.0
# Frames that carry no event for the test to look at.
QUIET = frozenset({"hello", "pong"})


def outage_seconds() -> float:
    """How long an outage lasts: ``BEACON_FAULTS_OUTAGE_S`` (the issue's 30 s by default)."""
    return float(os.environ.get("BEACON_FAULTS_OUTAGE_S", "30"))


def missing_prerequisites() -> str | None:
    """Why the fault suite cannot run here, or None when it can."""
    for name in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / name).exists():
            return f"PostgreSQL binaries not found in {PG_BIN} (set BEACON_FAULTS_PG_BIN)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root and runuser is missing (initdb refuses root)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Clock:
    """Prints how long each stage of a fault test took (the figures in docs/reliability.md)."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()

    def mark(self, stage: str) -> None:
        now = time.monotonic()
        print(f"  [{now - self.started:6.1f} s] {stage} ({now - self.last:.1f} s)")
        self.last = now


# --- processes -----------------------------------------------------------------------------


@dataclass
class Proc:
    """One child process with its own process group and log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path = ROOT
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> Proc:
        self.starts += 1
        handle = self.log.open("ab")
        handle.write(f"\n===== start #{self.starts}: {' '.join(self.argv)}\n".encode())
        handle.flush()
        # A process group of its own: kill() reaches the Celery pool children as well.
        self.popen = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown handler runs, like a lost machine."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            assert self.popen is not None
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL if it does not exit in time."""
        if not self.alive():
            return
        assert self.popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        # Pool children that outlived their parent
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class RedisServer:
    """A throw-away Redis on a free loopback port: no persistence, stopped and started at will."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.proc = Proc(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            env=dict(os.environ),
            log=workdir / "redis.log",
        )

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.proc.start()
        wait_until(lambda: port_open(self.port), timeout=10, what="redis-server to listen")

    def stop(self) -> None:
        self.proc.stop()
        wait_until(lambda: not port_open(self.port), timeout=10, what="redis-server to close")


class PostgresCluster:
    """A private PostgreSQL cluster (``initdb`` once per session) on a free loopback port.

    Runs as the ``postgres`` user when the tests run as root (initdb refuses root); the data
    directory is a world-traversable temporary directory that user owns.
    """

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="beacon-faults-pg-"))
        self.dir.chmod(0o755)
        self.data = self.dir / "data"
        self.logfile = self.dir / "postgres.log"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, user="postgres")

    def _run(self, *argv: str, timeout: float = 60) -> str:
        cmd = [str(PG_BIN / argv[0]), *argv[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {out.stdout}\n{out.stderr}")
        return out.stdout

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.logfile), "-w",
                  "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``fast`` disconnects every client and shuts down cleanly; ``immediate`` is a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return port_open(self.port)

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def sql(self, db: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(
            self.url(db).replace("postgres://", "postgresql://"), autocommit=True
        ) as conn:
            cur = conn.execute(query, params or None)
            return cur.fetchall() if cur.description else []

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(RuntimeError):
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


# --- Beacon's processes ------------------------------------------------------------------


@dataclass
class Stack:
    """Beacon in production mode against a private database and Redis: web, worker, beat."""

    pg: PostgresCluster
    database: str
    redis: RedisServer
    workdir: Path
    procs: list[Proc] = field(default_factory=list)
    web_port: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
        env.update(
            DATABASE_URL=self.pg.url(self.database),
            REDIS_URL=self.redis.url(),
            SECRET_KEY="faults-only-secret-key-not-for-production-use-0123456789abcdef",
            DJANGO_SETTINGS_MODULE="config.settings",
            BEACON_VAR_DIR=str(self.workdir / "var"),
            SECURE_COOKIES="false",
            UVICORN_LOG_LEVEL="warning",
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
        )
        env.update(self.extra_env)
        return env

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def manage(self, *args: str, timeout: float = 300) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def _proc(self, name: str, argv: list[str]) -> Proc:
        existing = next((p for p in self.procs if p.name == name), None)
        if existing is not None:
            existing.env = self.env()
            return existing.start()
        proc = Proc(name, argv, env=self.env(), log=self.workdir / f"{name}.log")
        self.procs.append(proc)
        return proc.start()

    def start_web(self) -> Proc:
        if not self.web_port:
            self.web_port = free_port()
        proc = self._proc(
            "web",
            [
                sys.executable,
                "manage.py",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.web_port),
            ],
        )
        wait_until(
            lambda: http_status(f"{self.base}/healthz") == 200 or not proc.alive(),
            timeout=60,
            what="the web process to answer /healthz",
        )
        assert proc.alive(), f"web exited:\n{proc.tail()}"
        return proc

    def start_worker(self, queues: str = "default,analysis") -> Proc:
        # A fixed node name: a restarted worker is recognisably the same node (docs/operations.md).
        return self._proc(
            "worker",
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues,
             "-n", "faults@%h", "--concurrency", "1", "--loglevel", "INFO", "--without-gossip",
             "--without-mingle"],
        )  # fmt: skip

    def start_beat(self) -> Proc:
        return self._proc(
            "beat",
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
             "-s", str(self.workdir / "beat-schedule")],
        )  # fmt: skip

    def proc(self, name: str) -> Proc:
        return next(p for p in self.procs if p.name == name)

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.pg.sql(self.database, query, params)

    def dump_logs(self) -> None:
        for proc in [*self.procs, self.redis.proc]:
            print(f"\n----- {proc.name} log ({proc.log}) -----\n{proc.tail()}")
        if self.pg.logfile.exists():
            tail = self.pg.logfile.read_text(errors="replace").splitlines()[-30:]
            print("\n----- postgres log -----\n" + "\n".join(tail))

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop(timeout=3)  # teardown: a warm shutdown is not under test


# --- HTTP ----------------------------------------------------------------------------------


def http_status(url: str, timeout: float = 2) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


@dataclass
class Reply:
    status: int | None  # None: no answer at all (refused, reset, timed out)
    body: Any
    text: str
    seconds: float
    content_type: str = ""


def request(
    url: str,
    *,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15,
) -> Reply:
    """One HTTP request; never raises for HTTP errors or refused connections."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        method=method,
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw, status, ctype = resp.read(), resp.status, resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        raw, status, ctype = err.read(), err.code, err.headers.get("Content-Type", "")
    except OSError as err:
        return Reply(None, None, str(err), time.monotonic() - started)
    text = raw.decode(errors="replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return Reply(status, parsed, text, time.monotonic() - started, ctype)


@dataclass
class ApiUser:
    """A user's token (REST) and session cookie (pages and websockets) on one stack."""

    stack: Stack
    username: str
    token: str
    cookie: str = ""

    def api(self, method: str, path: str, body: Any = None, timeout: float = 15) -> Reply:
        return request(
            f"{self.stack.base}/api/v1/{path}",
            method=method,
            body=body,
            headers={"Authorization": f"Token {self.token}"},
            timeout=timeout,
        )

    def page_json(self, path: str) -> Reply:
        return request(f"{self.stack.base}{path}", headers={"Cookie": self.cookie})

    def login(self) -> None:
        """Sign in through the login form, like a browser, for a session cookie."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{self.stack.base}/login/", timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, "the login form has no CSRF token"
        form = {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token[1]}
        opener.open(
            f"{self.stack.base}/login/", data=urllib.parse.urlencode(form).encode(), timeout=10
        )
        session = next((c.value for c in jar if c.name == "sessionid"), "")
        assert session, f"{self.username} could not sign in"
        self.cookie = f"sessionid={session}"


# --- a websocket client that behaves like static/js/beacon.js LiveSocket ---------------------


class LiveClient:
    """What a console or the field page does: a socket that reconnects with backoff (0.5 s
    doubling to 5 s) and, after every (re)connect, re-reads its resync endpoint over HTTP.

    Runs in a thread of its own with its own event loop. ``events`` holds every pushed event,
    ``resyncs`` every resync answer, ``states`` the state changes the page would show.
    """

    def __init__(self, user: ApiUser, resync_path: str, feed: str = "") -> None:
        self.user = user
        self.resync_path = resync_path
        self.feed = feed  # "?feed=field" for a phone, as field.js connects
        self.events: list[dict[str, Any]] = []
        self.resyncs: list[Any] = []
        self.states: list[str] = []
        self.closes: list[int | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._lock = threading.Lock()

    def start(self) -> LiveClient:
        self._thread.start()
        wait_until(lambda: self.state == "live" and self.resyncs, timeout=45, what="socket live")
        return self

    @property
    def state(self) -> str:
        return self.states[-1] if self.states else ""

    def lost_since(self, mark: int) -> bool:
        """Whether the page showed "reconnecting" since ``len(states)`` was ``mark``."""
        return "reconnecting" in self.states[mark:]

    def _set(self, state: str) -> None:
        with self._lock:
            if self.state != state:
                self.states.append(state)

    def _resync(self) -> None:
        reply = self.user.page_json(self.resync_path)
        if reply.status == 200:
            with self._lock:
                self.resyncs.append(reply.body)

    async def _run(self) -> None:
        import websockets

        delay = 0.5
        base = self.user.stack.base
        url = base.replace("http://", "ws://") + "/ws/dispatch/" + self.feed
        while not self._stop.is_set():
            self._set("connecting")
            try:
                async with websockets.connect(
                    url,
                    additional_headers={"Cookie": self.user.cookie},
                    origin=base,  # type: ignore[arg-type]
                    open_timeout=5,
                    ping_interval=5,
                    ping_timeout=5,
                    close_timeout=1,
                ) as ws:
                    delay = 0.5
                    self._set("live")
                    await asyncio.to_thread(self._resync)
                    while not self._stop.is_set():
                        try:
                            text = await asyncio.wait_for(ws.recv(), timeout=0.5)
                        except TimeoutError:
                            continue
                        frame = json.loads(text)
                        # A batch frame carries several events (static/js/beacon.js).
                        batch = frame.get("events") if frame.get("type") == "batch" else [frame]
                        with self._lock:
                            self.events += [e for e in batch if e.get("type") not in QUIET]
            except Exception as exc:  # refused, reset, closed by the server: reconnect
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                with self._lock:
                    self.closes.append(code)
                if code in {4401, 4403}:
                    self._set("denied")
                    return
            if self._stop.is_set():
                return
            self._set("reconnecting")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@contextlib.contextmanager
def running(client: LiveClient) -> Iterator[LiveClient]:
    client.start()
    try:
        yield client
    finally:
        client.stop()
