"""Soak: a bounded run of the whole production deployment under steady peak load (issue #8).

    make soak                                   # 5 minutes, the issue's load, figures into docs
    SOAK_SECONDS=60 make soak                   # a short one while developing
    .venv/bin/python scripts/soak.py --seconds 60 --docs ''   # print only, leave the docs alone

Production mode on loopback only: a scratch PostgreSQL database (``--postgres``, whose name must
contain "soak"; dropped and re-created) and a spare Redis database (``--redis-db``, default 11,
flushed; never 0). The script

1. migrates the database and seeds, through the services, one agency with ``--consoles``
   dispatchers (a session each for the console websocket, a token each for the API), a
   supervisor (token), ``--devices`` field users each signed to a unit of their own (a session
   for the device websocket, a token for AVL and assignments), ``--history`` synthetic past calls
   (``scripts/synthetic_calls.py``) for the analyses to chew on, and a beat entry that starts the
   real nightly fan-out (``intelligence.run_all_analyses``) every ``--analysis-every`` seconds;
2. starts the deployment as docs/operations.md describes it: ``manage.py serve --workers N``,
   ``celery worker -Q default,analysis --concurrency 2`` and ``celery beat`` (DatabaseScheduler);
3. connects every console and device websocket (cookie + Origin, as a browser does) and then,
   for ``--seconds``, drives the load open-loop (requests start on a fixed timetable whether or
   not earlier ones have answered):
   - call intake: ``POST /api/v1/calls/`` at ``--call-rate`` per second (dispatcher tokens in
     turn), each call closed ``--call-lifetime`` s later (``POST .../close/``) so the open queue
     stays at a steady size instead of growing for the whole run;
   - AVL: every device posts a fix to ``/api/v1/units/<id>/positions/`` every ``--avl-every`` s;
   - assignments: the supervisor creates and issues one (``POST /api/v1/assignments/`` with
     ``issue``) to a random device's unit every ``--assign-every`` s; the device acknowledges it
     when the push arrives (``POST .../acknowledge/``), and polls ``assignments/pending/`` every
     60 s, as the field page does;
   - consoles behave as ``static/js/console.js``: a ``ping`` every 25 s, a snapshot read
     (``/console/snapshot.json``) every 60 s; call events (which carry their queue row) and
     batched ``units_moved`` events are applied in place, any other event asks for a snapshot
     read at most once a second (the page's throttled resync); devices ping every 25 s;
4. drains (waits up to ``--settle`` s for answers and pushes still under way), stops everything,
   checks the audit chain (``verify_audit``) and reports.

Reported: per endpoint the requests offered by the timetable and answered, errors, and p50/p95/p99
latency (from the moment a request is sent until its answer is read); how late the generator sent
requests against its timetable (late when all client connections are waiting on a server that
fell behind); pushes delivered against issued (assignments to their devices; ``call_created``
events to every console); analysis runs; the
resident memory (RSS) of every server, worker and beat process at the start of the load, half-way
and at the end, with a growth verdict on the second half (where warm-up is over), CPU seconds used
by each process group and by this generator, and the load average (the machine is shared).

Exit status 1 if any request failed or answered an unexpected status, a socket failed or closed,
a push was lost or duplicated, an analysis run failed, a process died or logged a traceback, or
the audit chain does not verify. Memory growth is reported, not asserted: five minutes cannot
tell a slow leak from a cache filling up, only show which way it goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent
PYTHON = sys.executable
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- soak:begin (scripts/soak.py replaces this section on each run) -->"
END = "<!-- soak:end -->"
CENTRE = (29.4241, -98.4936)
PING_EVERY = 25.0  # static/js/beacon.js
SNAPSHOT_EVERY = 60.0  # static/js/console.js: setInterval(resync, 60000)
RESYNC_SPACING = 1.0  # console.js: resyncSoon(), at most one board re-read a second
PENDING_EVERY = 60.0  # field page: assignments/pending/ on load, reconnect and every minute
PROGRESS_EVERY = 10.0
KEEP_ALIVE_S = 4.0  # below uvicorn's timeout_keep_alive (5 s)

sys.path.insert(0, str(SCRIPTS))
from bench_push import percentile, set_env, stop_server  # noqa: E402


def env_default(name: str, default: Any) -> Any:
    """``SOAK_<NAME>`` from the environment (the Makefile passes these), typed like ``default``."""
    raw = os.environ.get(f"SOAK_{name}")
    if raw is None or raw == "":
        return default
    return type(default)(raw)


# --- pure helpers (tested without a server) ------------------------------------------------


def latency_summary(seconds: list[float]) -> dict[str, float | int]:
    """n, p50, p95, p99 and max in milliseconds."""
    ms = [s * 1000 for s in seconds]
    out: dict[str, float | int] = {"n": len(ms)}
    for name, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        out[name] = round(percentile(ms, q), 1)
    out["max"] = round(max(ms), 1) if ms else float("nan")
    return out


def memory_verdict(start_kb: int, mid_kb: int, end_kb: int) -> str:
    """Whether a process kept growing over the second half of the run.

    The first half includes warm-up (imports on first use, connection pools, Django's caches,
    the analyses' first arrays), so only the second half is judged: more than 5 % and more than
    10 MB over it is "growing"; anything else is "flat".
    """
    growth = end_kb - mid_kb
    if growth > 10 * 1024 and growth > 0.05 * max(mid_kb, 1):
        return f"growing (+{growth / 1024:.0f} MB in the second half)"
    return "flat"


def replace_section(text: str, body: str) -> str:
    """``text`` with the soak section (between the markers) replaced by ``body``, or appended."""
    block = f"{BEGIN}\n{body.strip()}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        return f"{head}{block}{tail}"
    return f"{text.rstrip()}\n\n{block}\n"


def unpack_frame(frame: Any) -> list[dict[str, Any]]:
    """The events in one websocket frame: a ``batch`` frame carries several, in order."""
    if isinstance(frame, dict) and frame.get("type") == "batch":
        return [e for e in frame.get("events", []) if isinstance(e, dict)]
    return [frame] if isinstance(frame, dict) else []


def route_of(method: str, path: str) -> str:
    """The endpoint a request belongs to: ids become ``{id}``, the query string is dropped."""
    path = path.split("?", 1)[0]
    return f"{method} {re.sub(r'/[0-9]+(?=/|$)', '/{id}', path)}"


# --- the run's bookkeeping -------------------------------------------------------------------


@dataclass
class Stats:
    """Everything the generator saw; appended from the executor threads and the event loop."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lag: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    pushes: dict[str, int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, seconds: float, lag: float) -> None:
        with self.lock:
            self.latency[route].append(seconds)
            self.lag.append(lag)

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.error_samples) < 20:
                self.error_samples.append(f"{kind}: {detail[:300]}")

    def requests(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.latency.values())


class Http:
    """Keep-alive HTTP/1.1 to the server, one connection per executor thread (as many clients)."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.port, self.stats = port, stats
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        # uvicorn closes a keep-alive connection after 5 idle seconds; a request sent on it just
        # then dies with a broken pipe. Clients (browsers, requests' pool) reconnect instead.
        if conn is not None and time.monotonic() - self.local.used > KEEP_ALIVE_S:
            conn.close()
            conn = None
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.local.conn = conn
        self.local.used = time.monotonic()
        return conn

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str = "",
        cookie: str = "",
        body: Any = None,
        expect: int = 200,
        planned: float = 0.0,
    ) -> Any:
        """Send one request; record its latency, or an error. Returns the JSON answer or None."""
        # The TLS proxy in front of a deployment says the request came over HTTPS; without it
        # production settings answer every request with a redirect to https://.
        headers = {"X-Forwarded-Proto": "https", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if cookie:
            headers["Cookie"] = cookie
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        route = route_of(method, path)
        sent = time.perf_counter()
        try:
            conn = self._conn()
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            self.local.used = time.monotonic()
        except Exception as exc:  # a reset or timeout: counted, and the next request reconnects
            self.local.conn = None
            self.stats.error(f"{route} transport", repr(exc))
            return None
        took = time.perf_counter() - sent
        self.stats.record(route, took, max(0.0, sent - planned) if planned else 0.0)
        if response.status != expect:
            self.stats.error(f"{route} {response.status}", raw.decode(errors="replace"))
            return None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            self.stats.error(f"{route} not JSON", raw[:200].decode(errors="replace"))
            return None


# --- set-up (this process, Django against the scratch database) ------------------------------


def fresh_database(url: str) -> None:
    """Drop and re-create the soak database named in ``url``."""
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if "soak" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the soak database name must contain 'soak'")
    admin = urlparse(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis(db: int) -> None:
    if db == 0:
        raise SystemExit("refusing to flush Redis db 0")
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


@dataclass
class Cast:
    """Who takes part, as the load generator needs them: ids, tokens and session cookies."""

    agency_id: int
    dispatcher_tokens: list[str]
    console_cookies: list[str]
    supervisor_token: str
    unit_ids: list[int]
    device_tokens: list[str]
    device_cookies: list[str]
    call_types: list[str]
    dispositions: list[str]


def seed(args: argparse.Namespace) -> Cast:
    """The agency, its people and units, the history and the analysis schedule."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_celery_beat.models import IntervalSchedule, PeriodicTask
    from rest_framework.authtoken.models import Token

    from dispatch.models import CallType, Disposition
    from dispatch.services import unit_create
    from governance.services import agency_get_or_create_default, roles_ensure, user_create

    roles_ensure()
    agency = agency_get_or_create_default()
    backend = settings.AUTHENTICATION_BACKENDS[0]

    def session_cookie(user: Any) -> str:
        # The rows login() writes; nobody types a password (hashing hundreds would be the set-up).
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    dispatcher_tokens, console_cookies = [], []
    for i in range(max(args.consoles, 1)):
        user = user_create(
            username=f"soak-dispatcher-{i:03d}", password=None, roles=["dispatcher"], agency=agency
        )
        dispatcher_tokens.append(Token.objects.create(user=user).key)
        console_cookies.append(session_cookie(user))
    supervisor = user_create(
        username="soak-supervisor", password=None, roles=["supervisor"], agency=agency
    )
    unit_ids, device_tokens, device_cookies = [], [], []
    for i in range(args.devices):
        user = user_create(
            username=f"soak-field-{i:03d}", password=None, roles=["field"], agency=agency
        )
        unit_ids.append(unit_create(agency=agency, call_sign=f"S{i:03d}", users=[user]).pk)
        device_tokens.append(Token.objects.create(user=user).key)
        device_cookies.append(session_cookie(user))
    if args.history:
        import synthetic_calls

        plan = synthetic_calls.generate(args.history, seed=11, end=dt.datetime.now(tz=dt.UTC))
        synthetic_calls.write(plan, progress=False)
    every, _ = IntervalSchedule.objects.get_or_create(
        every=args.analysis_every, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(
        name="soak: every analysis",
        task="intelligence.run_all_analyses",
        interval=every,
        kwargs="{}",
        queue="default",
        expire_seconds=max(1, args.analysis_every - 5),
    )
    return Cast(
        agency_id=agency.pk,
        dispatcher_tokens=dispatcher_tokens[: args.consoles] or dispatcher_tokens,
        console_cookies=console_cookies[: args.consoles],
        supervisor_token=Token.objects.create(user=supervisor).key,
        unit_ids=unit_ids,
        device_tokens=device_tokens,
        device_cookies=device_cookies,
        call_types=list(
            CallType.objects.filter(active=True).values_list("code", flat=True).order_by("code")
        ),
        dispositions=list(
            Disposition.objects.filter(active=True).values_list("code", flat=True).order_by("code")
        ),
    )


# --- the deployment's processes ------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path


def start(name: str, cmd: list[str], env: dict[str, str], work: Path) -> Proc:
    log = work / f"{name}.log"
    popen = subprocess.Popen(  # noqa: S603
        cmd,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: RSS and CPU are read per group
    )
    return Proc(name, popen, log)


def wait_healthy(proc: Proc, port: int) -> None:
    deadline = time.monotonic() + 90
    while True:
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        if proc.popen.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{proc.name} did not start:\n{proc.log.read_text()[-3000:]}")
        time.sleep(0.3)


def wait_for_log(proc: Proc, needle: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while needle not in proc.log.read_text(errors="replace"):
        if proc.popen.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{proc.name} did not start:\n{proc.log.read_text()[-3000:]}")
        time.sleep(0.3)


def group_processes(pgid: int) -> dict[int, tuple[str, int, float]]:
    """pid -> (command, RSS in kB, CPU seconds) of every live process in group ``pgid``."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[str, int, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # after "(comm)": state, ppid, pgrp, ...
                continue
            status = (stat.parent / "status").read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) if "VmRSS" in status else 0
        cpu = (int(fields[11]) + int(fields[12])) / tick
        out[int(stat.parent.name)] = (cmdline.strip(), rss, cpu)
    return out


def label(proc: Proc, pid: int, cmd: str) -> str:
    """A reader's name for one process of a group."""
    if pid == proc.popen.pid:
        return {"server": "server (uvicorn supervisor)", "worker": "worker (celery main)"}.get(
            proc.name, proc.name
        )
    if proc.name == "server":
        if "resource_tracker" in cmd:
            return "server resource tracker"
        return "server worker" if "multiprocessing" in cmd else f"server child ({cmd[:40]})"
    return "worker child (prefork)" if proc.name == "worker" else f"{proc.name} child"


def sample_memory(procs: list[Proc]) -> dict[tuple[str, int], int]:
    """(label, pid) -> RSS kB for every process of the deployment."""
    out = {}
    for proc in procs:
        for pid, (cmd, rss, _) in sorted(group_processes(proc.popen.pid).items()):
            out[(label(proc, pid, cmd), pid)] = rss
    return out


def group_cpu(proc: Proc) -> float:
    return sum(cpu for _, _, cpu in group_processes(proc.popen.pid).values())


def log_problems(proc: Proc) -> list[str]:
    """Tracebacks and ERROR lines a process logged (each one counts as an error)."""
    lines = proc.log.read_text(errors="replace").splitlines()
    return [ln for ln in lines if "Traceback" in ln or " ERROR " in ln or "ERROR/" in ln]


# --- the load ------------------------------------------------------------------------------


class Load:
    """The generator: sockets on the event loop, requests on a thread pool, all on a timetable."""

    def __init__(self, args: argparse.Namespace, cast: Cast, port: int, procs: list[Proc]) -> None:
        self.args, self.cast, self.port, self.procs = args, cast, port, procs
        self.stats = Stats()
        self.http = Http(port, self.stats)
        self.pool = ThreadPoolExecutor(max_workers=args.threads, thread_name_prefix="soak-http")
        self.rng = random.Random(args.seed)  # noqa: S311
        self.stop = asyncio.Event()
        self.inflight: set[asyncio.Future] = set()
        self.closed = False  # the thread pool is shut down
        self.offered: Counter[str] = Counter()  # route -> requests the timetable asked for
        self.calls_created: list[int] = []
        self.console_events: Counter[int] = Counter()  # console -> call_created events received
        self.issued: dict[int, int] = {}  # assignment id -> device
        self.received: Counter[tuple[int, int]] = Counter()  # (device, assignment id)
        self.misdelivered = 0
        self.pings = 0
        self.pongs = 0
        self.sockets_open = 0
        self.memory: list[tuple[float, dict[tuple[str, int], int]]] = []
        self.positions = [
            (CENTRE[0] + self.rng.uniform(-0.08, 0.08), CENTRE[1] + self.rng.uniform(-0.08, 0.08))
            for _ in cast.unit_ids
        ]

    # requests -------------------------------------------------------------------------------

    def fire(self, planned: float, method: str, path: str, **kwargs: Any) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        if self.closed:  # a close or an acknowledgement due after the run: not sent
            done = loop.create_future()
            done.set_result(None)
            return done
        if not self.stop.is_set():
            self.offered[route_of(method, path)] += 1
        future = loop.run_in_executor(
            self.pool, lambda: self.http.request(method, path, planned=planned, **kwargs)
        )
        self.inflight.add(future)
        future.add_done_callback(self.inflight.discard)
        return future

    async def timetable(self, period: float, phase: float, action: Any) -> None:
        """Call ``action(planned_time)`` every ``period`` s from ``phase`` on, until the end."""
        begin = self.t0 + phase
        k = 0
        while not self.stop.is_set():
            planned = begin + k * period
            delay = planned - time.perf_counter()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)
                if self.stop.is_set():
                    return
            action(planned)
            k += 1

    def call_intake(self, planned: float) -> None:
        i = len(self.calls_created) + self.stats.errors.total()
        token = self.cast.dispatcher_tokens[i % len(self.cast.dispatcher_tokens)]
        lat = CENTRE[0] + self.rng.uniform(-0.1, 0.1)
        lon = CENTRE[1] + self.rng.uniform(-0.1, 0.1)
        body = {
            "call_type": self.rng.choice(self.cast.call_types),
            "priority": self.rng.randint(1, 5),
            "address": f"{self.rng.randint(100, 9999)} SOAK AVE",
            "locality": "SAN ANTONIO",
            "latitude": round(lat, 6),
            "longitude": round(lon, 6),
            "narrative": "Soak test call.",
        }
        future = self.fire(planned, "POST", "/api/v1/calls/", token=token, body=body, expect=201)

        def created(f: asyncio.Future) -> None:
            answer = None if f.cancelled() else f.result()
            if not answer:
                return
            self.calls_created.append(answer["id"])
            loop = asyncio.get_running_loop()
            when = time.perf_counter() + self.args.call_lifetime
            loop.call_later(self.args.call_lifetime, self.call_close, answer["id"], token, when)

        future.add_done_callback(created)

    def call_close(self, call_id: int, token: str, planned: float) -> None:
        if self.stop.is_set():
            return  # the load is over; the call stays open
        body = {"disposition": self.rng.choice(self.cast.dispositions)}
        self.fire(planned, "POST", f"/api/v1/calls/{call_id}/close/", token=token, body=body)

    def avl(self, device: int) -> Any:
        def post(planned: float) -> None:
            lat, lon = self.positions[device]
            lat += self.rng.uniform(-0.0005, 0.0005)
            lon += self.rng.uniform(-0.0005, 0.0005)
            self.positions[device] = (lat, lon)
            fix = {
                "recorded_at": dt.datetime.now(tz=dt.UTC).isoformat(),
                "latitude": round(lat, 6),
                "longitude": round(lon, 6),
                "heading": round(self.rng.uniform(0, 359), 1),
                "speed": round(self.rng.uniform(0, 20), 1),
                "accuracy": 5.0,
            }
            unit = self.cast.unit_ids[device]
            self.fire(
                planned,
                "POST",
                f"/api/v1/units/{unit}/positions/",
                token=self.cast.device_tokens[device],
                body={"positions": [fix]},
            )

        return post

    def assign(self, planned: float) -> None:
        device = self.rng.randrange(len(self.cast.unit_ids))
        today = dt.datetime.now(tz=dt.UTC).date()
        body = {
            "kind": "directed_patrol",
            "objective": "Soak: visit the area.",
            "area": {
                "type": "circle",
                "latitude": CENTRE[0],
                "longitude": CENTRE[1],
                "radius_m": 250,
            },
            "windows": [
                {
                    "kind": "weekly",
                    "weekdays": [today.weekday()],
                    "start": "19:00",
                    "duration_minutes": 240,
                    "first_date": today.isoformat(),
                    "weeks": 4,
                    "time_zone": "America/Chicago",
                }
            ],
            "assignee_unit": self.cast.unit_ids[device],
            "issue": True,
        }
        future = self.fire(
            planned,
            "POST",
            "/api/v1/assignments/",
            token=self.cast.supervisor_token,
            body=body,
            expect=201,
        )

        def created(f: asyncio.Future) -> None:
            answer = None if f.cancelled() else f.result()
            if answer:
                self.issued[answer["id"]] = device

        future.add_done_callback(created)

    def pending(self, device: int) -> Any:
        def get(planned: float) -> None:
            token = self.cast.device_tokens[device]
            self.fire(planned, "GET", "/api/v1/assignments/pending/", token=token)

        return get

    # sockets --------------------------------------------------------------------------------

    async def open_socket(self, cookie: str, gate: asyncio.Semaphore, feed: str = "") -> Any:
        """A console's socket, or with ``feed="?feed=field"`` a phone's (as field.js connects)."""
        from websockets.asyncio.client import connect

        async with gate:
            sent = time.perf_counter()
            ws = await connect(
                f"ws://127.0.0.1:{self.port}/ws/dispatch/{feed}",
                origin=f"http://127.0.0.1:{self.port}",  # AllowedHostsOriginValidator
                additional_headers={"Cookie": cookie},
                proxy=None,
                compression=None,
                open_timeout=60,
                max_queue=None,  # read everything; a slow reader must not push back on the server
            )
            hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
            self.stats.record("WS /ws/dispatch/ (connect)", time.perf_counter() - sent, 0.0)
            if hello.get("type") != "hello":
                raise RuntimeError(f"first frame {hello}")
            self.sockets_open += 1
            return ws

    async def pinger(self, ws: Any, phase: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), phase)
        while not self.stop.is_set():
            with contextlib.suppress(Exception):
                await ws.send('{"type":"ping"}')
                self.pings += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), PING_EVERY)

    async def read(self, ws: Any, who: int, *, console: bool, on_event: Any) -> None:
        try:
            async for raw in ws:
                for event in unpack_frame(json.loads(raw)):
                    kind = event.get("type")
                    if kind == "pong":
                        self.pongs += 1
                        continue
                    if console:
                        if kind == "call_created":
                            self.console_events[who] += 1
                        on_event(event)
                    elif kind == "assignment.issued":
                        aid = int(event["assignment_id"])
                        self.received[(who, aid)] += 1
                        self.acknowledge(who, aid)
        except Exception as exc:
            if not self.stop.is_set():
                self.stats.error(
                    "websocket closed", f"{'console' if console else 'device'} {who}: {exc!r}"
                )
            return
        if not self.stop.is_set():
            self.stats.error("websocket closed", f"{'console' if console else 'device'} {who}")

    def acknowledge(self, device: int, aid: int) -> None:
        token = self.cast.device_tokens[device]
        self.fire(
            time.perf_counter(), "POST", f"/api/v1/assignments/{aid}/acknowledge/", token=token
        )

    # the run --------------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        args, cast = self.args, self.cast
        gate = asyncio.Semaphore(25)  # a fleet reconnecting after a restart, not a SYN flood
        started = time.perf_counter()
        opened = await asyncio.gather(
            *(self.open_socket(c, gate) for c in cast.console_cookies),
            *(self.open_socket(c, gate, "?feed=field") for c in cast.device_cookies),
            return_exceptions=True,
        )
        connect_s = time.perf_counter() - started
        for o in opened:
            if isinstance(o, BaseException):
                self.stats.error("websocket connect", repr(o))
        consoles = opened[: len(cast.console_cookies)]
        devices = opened[len(cast.console_cookies) :]
        print(
            f"sockets: {self.sockets_open}/{len(opened)} connected in {connect_s:.1f} s",
            flush=True,
        )
        self.t0 = time.perf_counter()
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task] = []
        for i, ws in enumerate(consoles):
            if isinstance(ws, BaseException):
                continue
            tasks.append(asyncio.create_task(self.console_reader(i, ws, loop)))
            tasks.append(asyncio.create_task(self.pinger(ws, self.rng.uniform(0, PING_EVERY))))
        for i, ws in enumerate(devices):
            if isinstance(ws, BaseException):
                continue
            tasks.append(
                asyncio.create_task(self.read(ws, i, console=False, on_event=lambda _: None))
            )
            tasks.append(asyncio.create_task(self.pinger(ws, self.rng.uniform(0, PING_EVERY))))
        n = len(cast.unit_ids)
        if args.call_rate > 0:
            tasks.append(
                asyncio.create_task(self.timetable(1 / args.call_rate, 0, self.call_intake))
            )
        for d in range(n):
            tasks.append(
                asyncio.create_task(
                    self.timetable(args.avl_every, d * args.avl_every / n, self.avl(d))
                )
            )
            tasks.append(
                asyncio.create_task(
                    self.timetable(PENDING_EVERY, d * PENDING_EVERY / n, self.pending(d))
                )
            )
        if args.assign_every > 0 and n:
            tasks.append(asyncio.create_task(self.timetable(args.assign_every, 0.5, self.assign)))
        tasks.append(asyncio.create_task(self.progress()))
        self.cpu0 = time.process_time()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), args.seconds)
        self.stop.set()
        load_wall = time.perf_counter() - self.t0
        self.memory.append((load_wall, sample_memory(self.procs)))
        # Drain: answers still under way, closes scheduled for calls created near the end are
        # not sent (the run is over), pushes still travelling.
        drain_until = time.perf_counter() + args.settle
        # Polled: the answers complete on executor threads and the pushes on many sockets.
        while time.perf_counter() < drain_until and (  # noqa: ASYNC110
            self.inflight or not self.pushes_complete()
        ):
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # a duplicate, if any, has time to show up too
        generator_cpu = time.process_time() - self.cpu0
        for ws in opened:
            if not isinstance(ws, BaseException):
                with contextlib.suppress(Exception):
                    await ws.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.closed = True
        self.pool.shutdown(wait=True, cancel_futures=True)
        return {"connect_s": connect_s, "load_wall_s": load_wall, "generator_cpu_s": generator_cpu}

    async def console_reader(self, i: int, ws: Any, loop: asyncio.AbstractEventLoop) -> None:
        """A console: counts call events and re-reads the board as console.js does."""
        cookie = self.cast.console_cookies[i]
        pending: list[asyncio.TimerHandle | None] = [None]
        last = [0.0]

        def snapshot() -> None:
            pending[0] = None
            last[0] = time.perf_counter()
            if not self.stop.is_set():
                self.fire(last[0], "GET", "/console/snapshot.json", cookie=cookie)

        def on_event(event: dict[str, Any]) -> None:
            if not self.args.console_resync or pending[0] is not None:
                return
            if event.get("type") == "units_moved" or "row" in event:
                return  # applied in place
            wait = max(0.080, RESYNC_SPACING - (time.perf_counter() - last[0]))
            pending[0] = loop.call_later(wait, snapshot)

        periodic = asyncio.create_task(
            self.timetable(
                SNAPSHOT_EVERY, self.rng.uniform(0, SNAPSHOT_EVERY), lambda _: snapshot()
            )
        )
        try:
            await self.read(ws, i, console=True, on_event=on_event)
        finally:
            periodic.cancel()
            if pending[0] is not None:
                pending[0].cancel()

    def pushes_complete(self) -> bool:
        calls = len(self.calls_created)
        devices_done = all(self.received[(d, a)] >= 1 for a, d in self.issued.items())
        consoles_done = all(
            self.console_events[i] >= calls for i in range(len(self.cast.console_cookies))
        )
        return devices_done and consoles_done

    async def progress(self) -> None:
        self.memory.append((0.0, sample_memory(self.procs)))
        last_t, last_n = self.t0, 0
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), PROGRESS_EVERY)
            if self.stop.is_set():
                return
            now = time.perf_counter()
            n = self.stats.requests()
            elapsed = now - self.t0
            mem = sample_memory(self.procs)
            self.memory.append((elapsed, mem))
            by_group: dict[str, int] = defaultdict(int)
            for (name, _), rss in mem.items():
                by_group[name.split(" ")[0]] += rss
            with self.stats.lock:
                recent = {
                    r: v[-200:]
                    for r, v in self.stats.latency.items()
                    if "calls/" in r or "positions" in r
                }
                errors = self.stats.errors.total()
            p95 = "  ".join(
                f"{'calls' if 'calls/' in r and 'close' not in r else 'close' if 'close' in r else 'avl'} "
                f"p95 {percentile([x * 1000 for x in v], 95):.0f} ms"
                for r, v in sorted(recent.items())
            )
            delivered = sum(1 for a, d in self.issued.items() if self.received[(d, a)] >= 1)
            print(
                f"[{elapsed:4.0f} s] requests {n} ({(n - last_n) / (now - last_t):.0f}/s), "
                f"errors {errors}, calls {len(self.calls_created)}, pushes {delivered}/"
                f"{len(self.issued)} | {p95} | RSS MB "
                + " ".join(f"{k} {v / 1024:.0f}" for k, v in sorted(by_group.items()))
                + f" | load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            last_t, last_n = now, n


# --- results ---------------------------------------------------------------------------------


def memory_rows(samples: list[tuple[float, dict[tuple[str, int], int]]]) -> list[dict[str, Any]]:
    """Per process: RSS at the start of the load, half-way and at the end, and the verdict."""
    if not samples:
        return []
    first, last = samples[0][1], samples[-1][1]
    half = samples[-1][0] / 2
    mid = min(samples, key=lambda s: abs(s[0] - half))[1]
    rows = []
    for key in sorted(set(first) | set(last)):
        name, pid = key
        a, m, b = first.get(key), mid.get(key), last.get(key)
        if a is None or b is None or m is None:
            verdict = "gone before the end" if b is None else "started during the run"
        else:
            verdict = memory_verdict(a, m, b)
        rows.append(
            {
                "process": name,
                "pid": pid,
                "start_kb": a,
                "mid_kb": m,
                "end_kb": b,
                "verdict": verdict,
            }
        )
    return rows


def analysis_runs(since: dt.datetime) -> dict[str, Any]:
    from intelligence.models import AnalysisRun

    runs = AnalysisRun.objects.filter(started_at__gte=since)
    by_status = Counter(runs.values_list("status", flat=True))
    durations = list(runs.exclude(duration_ms=None).values_list("duration_ms", flat=True))
    errors = list(runs.filter(status="failed").values_list("kind", "error")[:5])
    return {
        "by_status": dict(by_status),
        "fan_outs": len(set(runs.values_list("as_of", flat=True))),
        "p50_ms": percentile(durations, 50) if durations else None,
        "max_ms": max(durations) if durations else None,
        "errors": errors,
    }


def fmt_mb(kb: int | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.0f} MB"


def report_markdown(r: dict[str, Any]) -> str:
    """The docs section: how to run it, what ran, and the figures."""
    a = r["args"]
    lines = [
        "### Latest run",
        "",
        "`make soak` runs `scripts/soak.py` (its docstring has the details): a scratch PostgreSQL "
        "database and Redis db 11, the real server (`manage.py serve --workers "
        f"{a['workers']}`), a Celery worker (`-Q default,analysis --concurrency 2`) and beat, "
        "then steady load from one generator process on the same machine: "
        f"{a['call_rate']:g} calls/s through `POST /api/v1/calls/` (each closed "
        f"{a['call_lifetime']:g} s later), {a['devices']} devices posting a fix every "
        f"{a['avl_every']:g} s and polling their pending assignments every minute, "
        f"{a['consoles']} consoles on the websocket (pings, a snapshot every minute, events "
        "applied in place and a throttled snapshot for the rest, like `console.js`), an assignment issued to a random device "
        f"every {a['assign_every']:g} s and acknowledged on arrival, and the nightly analysis "
        f"fan-out started by beat every {a['analysis_every']:g} s over {a['history']:,} "
        "synthetic past calls plus the soak's own. Options: `SOAK_SECONDS`, `SOAK_CALL_RATE`, "
        "`SOAK_DEVICES`, `SOAK_CONSOLES`, `SOAK_WORKERS` (see `scripts/soak.py --help`).",
        "",
        f"Measured {r['date']}, code {r['code']}, {r['cpus']} cores shared with other work "
        f"(load average before {r['load_before']}, after {r['load_after']}); "
        f"{a['seconds']:g} s of load after {r['connect_s']:.1f} s to connect "
        f"{r['sockets']} sockets.",
        "",
        f"**Verdict: {r['verdict']}**",
        "",
        "| endpoint | offered | answered | errors | answered/s | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in r["endpoints"]:
        lines.append(
            f"| `{row['route']}` | {row['offered']:,} | {row['n']:,} | {row['errors']} | "
            f"{row['rate']:.1f} | "
            f"{row['p50']:.0f} ms | {row['p95']:.0f} ms | {row['p99']:.0f} ms | {row['max']:.0f} ms |"
        )
    t = r["totals"]
    lines += [
        f"| **all** | {t['offered']:,} | **{t['requests']:,}** | **{t['errors']}** | "
        f"{t['rate']:.1f} | | | | |",
        "",
        f"- Queueing in the generator: requests were sent p95 {r['lag']['p95'] / 1000:.1f} s / max "
        f"{r['lag']['max'] / 1000:.1f} s after their time on the timetable (0 when the server "
        f"keeps up; otherwise all {a['threads']} client connections were waiting for answers). "
        "Requests still queued when the load stopped were not sent: offered minus answered.",
        f"- Pushes: assignments {r['pushes']['assignments_received']} delivered of "
        f"{r['pushes']['assignments_issued']} issued (lost {r['pushes']['assignments_lost']}, "
        f"duplicated {r['pushes']['assignments_duplicated']}, misdelivered "
        f"{r['pushes']['misdelivered']}); `call_created` events {r['pushes']['console_frames']:,} "
        f"of {r['pushes']['console_expected']:,} expected ({r['pushes']['calls']:,} calls x "
        f"{r['pushes']['consoles']} consoles); pings answered {r['pushes']['pongs']} of "
        f"{r['pushes']['pings']}.",
        f"- Analyses: {r['analysis']['fan_outs']} fan-outs, runs by status "
        f"{r['analysis']['by_status'] or '{}'}, median run {r['analysis']['p50_ms'] or 0:.0f} ms.",
        f"- CPU seconds over the load: server {r['cpu']['server']:.0f}, worker "
        f"{r['cpu']['worker']:.0f}, beat {r['cpu']['beat']:.1f}, generator "
        f"{r['cpu']['generator']:.0f} (of {r['cpus'] * a['seconds']:.0f} available).",
        f"- Audit chain after the run: {r['audit']}.",
        "",
        "| process | RSS at start | half-way | end | second half |",
        "|---|---:|---:|---:|---|",
    ]
    for m in r["memory"]:
        lines.append(
            f"| {m['process']} (pid {m['pid']}) | {fmt_mb(m['start_kb'])} | {fmt_mb(m['mid_kb'])} "
            f"| {fmt_mb(m['end_kb'])} | {m['verdict']} |"
        )
    if r["error_samples"]:
        lines += ["", "Errors (first few):", ""]
        lines += [f"- `{e}`" for e in r["error_samples"][:10]]
    return "\n".join(lines)


def summarise(load: Load, extra: dict[str, Any], procs: list[Proc]) -> dict[str, Any]:
    stats = load.stats
    seconds = extra["load_wall_s"]
    endpoints = []
    errors_by_route: Counter[str] = Counter()
    for kind, count in stats.errors.items():
        route = kind.rsplit(" ", 1)[0]
        if route.split(" ", 1)[0] in {"GET", "POST", "WS"}:
            errors_by_route[route] += count
    for route in sorted(set(stats.latency) | set(errors_by_route)):
        s = latency_summary(stats.latency.get(route, []))
        endpoints.append(
            {
                "route": route,
                "offered": load.offered.get(route, s["n"]),
                "n": s["n"],
                "errors": errors_by_route.get(route, 0),
                "rate": s["n"] / seconds if seconds else 0.0,
                **{k: s[k] for k in ("p50", "p95", "p99", "max")},
            }
        )
    lost = sum(1 for a, d in load.issued.items() if load.received[(d, a)] == 0)
    dup = sum(1 for a, d in load.issued.items() if load.received[(d, a)] > 1)
    mis = sum(n for (d, a), n in load.received.items() if load.issued.get(a) != d)
    calls, consoles = len(load.calls_created), load.args.consoles
    console_frames = sum(load.console_events.values())
    pushes = {
        "assignments_issued": len(load.issued),
        "assignments_received": len(load.issued) - lost,
        "assignments_lost": lost,
        "assignments_duplicated": dup,
        "misdelivered": mis,
        "calls": calls,
        "consoles": consoles,
        "console_frames": console_frames,
        "console_expected": calls * consoles,
        "pings": load.pings,
        "pongs": load.pongs,
    }
    if lost or dup or mis:
        stats.error("push", f"assignments lost {lost}, duplicated {dup}, misdelivered {mis}")
    if console_frames != calls * consoles:
        stats.error("push", f"call_created events {console_frames} != {calls} x {consoles}")
    for proc in procs:
        if proc.popen.poll() is not None:
            stats.error("process died", f"{proc.name} exited {proc.popen.returncode}")
        for line in log_problems(proc)[:50]:
            stats.error(f"{proc.name} log", line)
    total_errors = stats.errors.total()
    n = stats.requests()
    return {
        "endpoints": endpoints,
        "totals": {
            "offered": sum(e["offered"] for e in endpoints),
            "requests": n,
            "errors": total_errors,
            "rate": n / seconds if seconds else 0,
        },
        "lag": latency_summary(stats.lag),
        "pushes": pushes,
        "error_samples": stats.error_samples,
        "errors": dict(stats.errors),
        "memory": memory_rows(load.memory),
    }


def verify_audit(env: dict[str, str]) -> tuple[bool, str]:
    proc = subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "verify_audit"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return proc.returncode == 0, (proc.stdout.strip() or proc.stderr.strip())[-300:]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--seconds", type=float, default=env_default("SECONDS", 300.0))
    p.add_argument("--call-rate", type=float, default=env_default("CALL_RATE", 20.0))
    p.add_argument("--call-lifetime", type=float, default=env_default("CALL_LIFETIME", 30.0))
    p.add_argument("--devices", type=int, default=env_default("DEVICES", 200))
    p.add_argument("--avl-every", type=float, default=env_default("AVL_EVERY", 5.0))
    p.add_argument("--consoles", type=int, default=env_default("CONSOLES", 50))
    p.add_argument("--assign-every", type=float, default=env_default("ASSIGN_EVERY", 2.0))
    p.add_argument("--analysis-every", type=int, default=env_default("ANALYSIS_EVERY", 60))
    p.add_argument("--history", type=int, default=env_default("HISTORY", 20_000))
    p.add_argument("--workers", type=int, default=env_default("WORKERS", 2))
    p.add_argument("--threads", type=int, default=env_default("THREADS", 48))
    p.add_argument(
        "--console-resync",
        action=argparse.BooleanOptionalAction,
        default=bool(env_default("CONSOLE_RESYNC", 1)),
        help="consoles re-read the snapshot (at most once a second) after events that carry no row, as console.js does.",
    )
    p.add_argument("--settle", type=float, default=20.0, help="max s to drain at the end.")
    p.add_argument(
        "--postgres",
        default=env_default("POSTGRES", "postgres://postgres@127.0.0.1:5432/beacon_soak"),
        help="scratch database (its name must contain 'soak'; dropped and re-created).",
    )
    p.add_argument("--redis-db", type=int, default=env_default("REDIS_DB", 11))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--docs",
        default=os.environ.get("SOAK_DOCS", str(DOCS)),  # SOAK_DOCS= (empty): no docs
        help="markdown file whose soak section is replaced ('' = leave the docs alone).",
    )
    p.add_argument("--json", default="", help="also write the figures here ('-' = stdout).")
    p.add_argument("--keep", action="store_true", help="keep the processes' log directory.")
    args = p.parse_args(argv)
    if args.redis_db == 0:
        p.error("--redis-db 0 is the application's; use a spare one")
    if args.consoles < 1 or args.seconds <= 0:
        p.error("--consoles must be at least 1 and --seconds positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    env = set_env(args, channels_prefix="beacon-soak", LOG_LEVEL="WARNING")
    git = shutil.which("git") or "/usr/bin/git"
    code = subprocess.run(  # noqa: S603
        [git, "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"soak: {args.seconds:g} s, {args.call_rate:g} calls/s, {args.devices} devices every "
        f"{args.avl_every:g} s, {args.consoles} consoles, server workers {args.workers}; code "
        f"{code or '?'}, load {load_before}",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="beacon-soak-"))
    procs: list[Proc] = []
    try:
        t = time.perf_counter()
        fresh_database(args.postgres)
        flush_redis(args.redis_db)
        migrate = subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, capture_output=True
        )
        if migrate.returncode:
            sys.stderr.write((migrate.stdout + migrate.stderr).decode()[-4000:])
            raise SystemExit("migrate failed")
        import django

        django.setup()
        cast = seed(args)
        from django.db import connections
        from django.utils import timezone

        connections.close_all()
        print(f"set-up: migrated and seeded in {time.perf_counter() - t:.1f} s", flush=True)
        from bench_push import free_port

        port = free_port()
        serve = [PYTHON, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
        procs.append(start("server", [*serve, "--workers", str(args.workers)], env, work))
        celery = [PYTHON, "-m", "celery", "-A", "config"]
        procs.append(
            start(
                "worker",
                [
                    *celery,
                    "worker",
                    "-Q",
                    "default,analysis",
                    "--concurrency",
                    "2",
                    "-l",
                    "warning",
                ],
                env,
                work,
            )
        )
        procs.append(
            start(
                "beat",
                [
                    *celery,
                    "beat",
                    "--scheduler",
                    "django_celery_beat.schedulers:DatabaseScheduler",
                    "-l",
                    "info",
                    "--schedule",
                    str(work / "beat-schedule"),
                ],
                env,
                work,
            )
        )
        wait_healthy(procs[0], port)
        wait_for_log(procs[2], "beat: Starting")
        began = timezone.now()
        load = Load(args, cast, port, procs)
        cpu_before = {p.name: group_cpu(p) for p in procs}
        extra = asyncio.run(load.run())
        cpu = {p.name: group_cpu(p) - cpu_before[p.name] for p in procs}
        result = summarise(load, extra, procs)
        result["analysis"] = analysis_runs(began)
        for kind, error in result["analysis"]["errors"]:
            load.stats.error("analysis failed", f"{kind}: {error}")
        result["analysis"].pop("errors")
    finally:
        for proc in reversed(procs):
            stop_server(proc.popen)
    ok_audit, audit_text = verify_audit(env)
    if not ok_audit:
        load.stats.error("audit chain", audit_text)
    result.update(
        args=vars(args),
        code=code or "?",
        date=dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpus=os.cpu_count(),
        load_before=load_before,
        load_after=" ".join(f"{x:.1f}" for x in os.getloadavg()),
        connect_s=extra["connect_s"],
        sockets=f"{load.sockets_open}/{len(cast.console_cookies) + len(cast.device_cookies)}",
        cpu={**cpu, "generator": extra["generator_cpu_s"]},
        audit=audit_text.split(";")[0] if ok_audit else f"BROKEN ({audit_text})",
        error_samples=load.stats.error_samples,
    )
    result["totals"]["errors"] = load.stats.errors.total()
    ok = result["totals"]["errors"] == 0
    result["verdict"] = (
        "passed: no errors, every push delivered"
        if ok
        else f"FAILED: {result['totals']['errors']} errors ({dict(load.stats.errors)})"
    )
    text = report_markdown(result)
    print("\n" + text, flush=True)
    if args.docs:
        docs = Path(args.docs)
        docs.write_text(replace_section(docs.read_text() if docs.exists() else "", text))
        print(f"\nwrote the soak section of {docs}")
    if args.json == "-":
        print(json.dumps(result, indent=2, default=str))
    elif args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    if args.keep or not ok:
        print(f"process logs kept in {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
