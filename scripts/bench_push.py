"""Push latency: from ``assignment_issue`` to the assignee's websocket receiving ``assignment.issued``.

    .venv/bin/python scripts/bench_push.py                      # 200 devices, 500 issues, 1 and 2 workers
    .venv/bin/python scripts/bench_push.py --workers 1 --issues 200 --rate 20
    .venv/bin/python scripts/bench_push.py --json push.json     # figures as JSON as well (- = stdout)

Issue #5's target: p95 under 100 ms on loopback with Redis, 200 concurrent connected devices.

Production mode, as deployed: PostgreSQL (a scratch database, dropped and re-created, whose name
must contain "bench") and channels-redis on a spare Redis database (``--redis-db``, default 9,
flushed before each run; never db 0). The bench

1. migrates the scratch database and creates an agency, a supervisor and ``--devices`` field
   users, each signed to a unit of their own (``governance.services.user_create`` and
   ``dispatch.services.unit_create``, as the demo writer does), plus a session per field user
   (``SessionStore``, the same rows ``login()`` writes) whose key is the ``sessionid`` cookie;
2. per ``--workers`` value, drafts ``--issues`` assignments to randomly chosen units, starts the
   real server (``manage.py serve --workers N``) and waits for ``/healthz``;
3. opens one websocket per field user to ``/ws/dispatch/`` (cookie + Origin, as a browser does)
   and waits for every ``hello``;
4. issues the drafts at ``--rate`` per second from a plain thread in this process
   (``tasking.services.assignment_issue``, whose ``publish_on_commit`` sends through
   channels-redis after the commit, as a Celery worker or the beat thread would). Latency is
   t1 - t0 on this process's ``perf_counter``: t0 just before ``assignment_issue`` is called,
   t1 when the assignee's socket reader has the ``assignment.issued`` frame. The split:
   "db" = t0 to the first publish (checks, claim, event row, commit), "publish" = the
   ``group_send`` calls (agency group, then the unit group), "deliver" = end of the unit
   group's ``group_send`` to t1 (Redis -> server worker -> consumer -> socket -> reader);
5. checks that every issue reached its unit's device exactly once and no other device.

Also printed: CPU seconds used by the server's processes and by this process over each run.
``--unit-group-only`` is a diagnostic, not the production path: it skips the agency-group copy
(the supervisors' board), which every field device also receives and drops, to show its cost.

The bench runs the code in its own checkout (``ROOT``); in a checkout where others are editing,
run it from a snapshot (``git archive HEAD | tar -x -C DIR``) so a half-made model change does not
break it mid-run.

Exit status 1 if a device failed to connect or a push was lost, duplicated or misdelivered
(a correctness check; the latency target is reported, not asserted). The load average is
printed with each run: the machine is shared, and timings move with it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/beacon_bench_push"
SECRET = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
AREA = {"type": "circle", "latitude": 29.4241, "longitude": -98.4936, "radius_m": 250}
WINDOWS = [
    {
        "kind": "weekly",
        "weekdays": [4, 5],
        "start": "19:00",
        "duration_minutes": 240,
        "first_date": "2026-03-06",
        "weeks": 4,
        "time_zone": "America/Chicago",
    }
]
ISSUED = "assignment.issued"


# --- pure helpers (tested without a server) ------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation (numpy's default); nan if empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize_ms(seconds: Iterable[float]) -> dict[str, float | int]:
    """Count, p50, p95, p99, max and mean in milliseconds of durations given in seconds."""
    ms = [s * 1000 for s in seconds]
    out: dict[str, float | int] = {"n": len(ms)}
    for name, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        out[name] = round(percentile(ms, q), 2)
    out["max"] = round(max(ms), 2) if ms else float("nan")
    out["mean"] = round(sum(ms) / len(ms), 2) if ms else float("nan")
    return out


def check_deliveries(
    expected: dict[int, int], receipts: Iterable[tuple[int, int]]
) -> dict[str, Any]:
    """Compare who should get each push (assignment id -> device) with who got it.

    ``receipts`` are (device, assignment id) pairs of ``assignment.issued`` frames. A push is
    "received" when its device got exactly one copy; "lost" when it got none; "duplicated" when
    it got more than one; "misdelivered" counts frames on any other device (or for an assignment
    that was not issued in this run).
    """
    got: Counter[tuple[int, int]] = Counter()
    misdelivered = 0
    for device, aid in receipts:
        if expected.get(aid) == device:
            got[(device, aid)] += 1
        else:
            misdelivered += 1
    received = sum(1 for aid, dev in expected.items() if got[(dev, aid)] == 1)
    lost = sum(1 for aid, dev in expected.items() if got[(dev, aid)] == 0)
    duplicated = sum(1 for aid, dev in expected.items() if got[(dev, aid)] > 1)
    return {
        "issued": len(expected),
        "received": received,
        "lost": lost,
        "duplicated": duplicated,
        "misdelivered": misdelivered,
        "ok": lost == 0 and duplicated == 0 and misdelivered == 0,
    }


def format_run(r: dict[str, Any]) -> str:
    """One run's figures as the lines printed after it."""
    lat, c = r["latency_ms"], r["delivery"]
    lines = [
        f"workers {r['workers']}: devices {r['devices_connected']}/{r['devices']} connected "
        f"(in {r['connect_s']:.1f} s), issues {c['issued']} at {r['rate']}/s, received "
        f"{c['received']}, lost {c['lost']}, duplicated {c['duplicated']}, misdelivered "
        f"{c['misdelivered']}, other frames {r['other_frames']}",
        f"  latency ms  p50 {lat['p50']:.1f}  p95 {lat['p95']:.1f}  p99 {lat['p99']:.1f}  "
        f"max {lat['max']:.1f}  mean {lat['mean']:.1f}",
    ]
    for part in ("db", "publish", "deliver"):
        s = r["split_ms"].get(part)
        if s and s["n"]:
            lines.append(
                f"  {part:8} ms  p50 {s['p50']:.1f}  p95 {s['p95']:.1f}  p99 {s['p99']:.1f}  "
                f"max {s['max']:.1f}"
            )
    if "server_cpu_s" in r:
        lines.append(
            f"  cpu s over {r['run_wall_s']:.1f} s: server {r['server_cpu_s']:.1f}, "
            f"bench (devices + issuer) {r['bench_cpu_s']:.1f}"
            + ("  [diagnostic: agency-group copies not sent]" if r.get("unit_group_only") else "")
        )
    lines.append(
        "  load before "
        + " ".join(f"{x:.2f}" for x in r["load_before"])
        + "  after "
        + " ".join(f"{x:.2f}" for x in r["load_after"])
    )
    return "\n".join(lines)


# --- set-up (runs in this process, Django against the scratch database) --------------------


def set_env(
    args: argparse.Namespace, channels_prefix: str = "beacon-bench-push", **extra: str
) -> dict[str, str]:
    """Production-mode environment for this process and every process it starts (the soak
    uses it too, with its own channel prefix)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=args.postgres,
        REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}",
        CHANNELS_PREFIX=channels_prefix,
        SECRET_KEY=os.environ.get("SECRET_KEY") or SECRET,
        BEACON_EMBEDDED_BEAT="false",
        UVICORN_LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
        MAP_TILE_URL="",
        **extra,
    )
    os.environ.update(env)
    return env


def flush_redis(db: int) -> None:
    if db == 0:
        raise SystemExit("refusing to flush Redis db 0")
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


def make_people(devices: int) -> dict[str, Any]:
    """An agency, a supervisor and ``devices`` field users, each in their own unit, with sessions."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from dispatch.services import unit_create
    from governance.services import agency_get_or_create_default, roles_ensure, user_create

    roles_ensure()
    agency = agency_get_or_create_default()
    # No password: hashing 200 of them (PBKDF2) would be most of the set-up, and nobody logs in.
    supervisor = user_create(
        username="bench-supervisor", password=None, roles=["supervisor"], agency=agency
    )
    units: list[int] = []
    cookies: list[str] = []
    backend = settings.AUTHENTICATION_BACKENDS[0]
    for i in range(devices):
        user = user_create(
            username=f"bench-field-{i:03d}", password=None, roles=["field"], agency=agency
        )
        unit = unit_create(agency=agency, call_sign=f"B{i:03d}", users=[user])
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        units.append(unit.pk)
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return {"supervisor": supervisor, "units": units, "cookies": cookies}


def make_drafts(supervisor: Any, units: list[int], n: int, rng: random.Random) -> dict[int, int]:
    """``n`` draft assignments to random units; assignment id -> device index."""
    from tasking.services import assignment_create

    out: dict[int, int] = {}
    for i in range(n):
        device = rng.randrange(len(units))
        a = assignment_create(
            actor=supervisor,
            kind="directed_patrol",
            objective=f"Bench push {i}.",
            area=AREA,
            windows=WINDOWS,
            assignee_unit_id=units[device],
        )
        out[a.pk] = device
    return out


# --- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [PYTHON, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers)]
    out = log.open("w")
    proc = subprocess.Popen(  # noqa: S603
        cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            # Our own loopback server's URL, built just above.
            urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310  # nosec B310
            return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_server(proc)
                raise SystemExit(f"serve did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the processes of process group ``pgid``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after "(comm)": state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])
    return total / tick


# --- the issuer thread ---------------------------------------------------------------------


class Issuer(threading.Thread):
    """Issues the drafts at ``rate`` per second; records t0, the publish times and the return."""

    def __init__(
        self, supervisor: Any, drafts: dict[int, int], rate: float, unit_group_only: bool
    ) -> None:
        super().__init__(name="bench-issuer", daemon=True)
        self.supervisor, self.drafts, self.rate = supervisor, drafts, rate
        self.unit_group_only = unit_group_only
        self.t0: dict[int, float] = {}
        self.returned: dict[int, float] = {}
        self.publishes: dict[int, list[tuple[str, float, float]]] = defaultdict(list)
        self.errors: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        from django.db import close_old_connections

        import beacon_core.realtime as rt
        from tasking.services import assignment_issue

        original = rt.publish_now
        current: list[int] = [0]

        def timed(group: str, event: Any) -> bool:
            if self.unit_group_only and group.startswith("dispatch.agency."):
                return True  # diagnostic: what the agency-group fan-out costs the devices
            started = time.perf_counter()
            ok = original(group, event)
            self.publishes[current[0]].append((group, started, time.perf_counter()))
            return ok

        rt.publish_now = timed
        try:
            begin = time.perf_counter()
            for i, aid in enumerate(self.drafts):
                wait = begin + i / self.rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                current[0] = aid
                self.t0[aid] = time.perf_counter()
                try:
                    assignment_issue(assignment_id=aid, actor=self.supervisor)
                except Exception as exc:  # reported; the delivery check then counts it lost
                    self.errors.append(f"{aid}: {exc!r}")
                self.returned[aid] = time.perf_counter()
        finally:
            rt.publish_now = original
            close_old_connections()
            self.done.set()


# --- the devices ---------------------------------------------------------------------------


async def devices_run(
    base: str, cookies: list[str], issuer: Issuer, drafts: dict[int, int], settle: float
) -> dict[str, Any]:
    """Connect every device, start the issuer, collect frames until all arrived or ``settle`` s."""
    from websockets.asyncio.client import connect

    url = base.replace("http://", "ws://") + "/ws/dispatch/?feed=field"  # as field.js connects
    receipts: list[tuple[int, int, float]] = []  # device, assignment id, t1
    other: list[tuple[int, dict[str, Any]]] = []
    hellos = 0
    sockets: list[Any] = []
    gate = asyncio.Semaphore(25)  # a browser fleet reconnecting after a restart, not a SYN flood
    expected_total = len(drafts)
    all_in = asyncio.Event()

    async def open_one(i: int) -> Any:
        nonlocal hellos
        async with gate:
            ws = await connect(
                url,
                origin=base,  # AllowedHostsOriginValidator
                additional_headers={"Cookie": cookies[i]},
                proxy=None,
                compression=None,
                open_timeout=60,
            )
            hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if hello.get("type") != "hello":
                raise RuntimeError(f"device {i}: first frame {hello}")
            hellos += 1
            return ws

    async def read(i: int, ws: Any) -> None:
        try:
            async for raw in ws:
                t1 = time.perf_counter()
                event = json.loads(raw)
                if event.get("type") == ISSUED:
                    receipts.append((i, int(event["assignment_id"]), t1))
                    if len(receipts) >= expected_total:
                        all_in.set()
                else:
                    other.append((i, event))
        except Exception:  # closed at the end, or by the server
            return

    started = time.perf_counter()
    opened = await asyncio.gather(
        *(open_one(i) for i in range(len(cookies))), return_exceptions=True
    )
    connect_s = time.perf_counter() - started
    failures = [repr(o) for o in opened if isinstance(o, BaseException)]
    sockets = [(i, o) for i, o in enumerate(opened) if not isinstance(o, BaseException)]
    readers = [asyncio.create_task(read(i, ws)) for i, ws in sockets]
    issuer.start()
    await asyncio.to_thread(issuer.done.wait)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_in.wait(), settle)
    # Linger a little so a duplicate or a stray copy has time to show up too.
    await asyncio.sleep(0.5)
    await asyncio.gather(*(ws.close() for _, ws in sockets), return_exceptions=True)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return {
        "receipts": receipts,
        "other": other,
        "hellos": hellos,
        "connect_s": connect_s,
        "failures": failures,
    }


def one_run(
    env: dict[str, str], workers: int, people: dict[str, Any], args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    rng = random.Random(args.seed * 1000 + workers)  # noqa: S311
    flush_redis(args.redis_db)
    drafts = make_drafts(people["supervisor"], people["units"], args.issues, rng)
    from django.db import connections

    connections.close_all()  # the issuer thread opens its own; nothing idles in this thread
    log = work / f"serve-{workers}.log"
    proc, base = start_server(env, workers, log)
    try:
        issuer = Issuer(people["supervisor"], drafts, args.rate, args.unit_group_only)
        load_before = os.getloadavg()
        cpu_before, own_before, wall_before = (
            group_cpu_s(proc.pid),
            time.process_time(),
            time.perf_counter(),
        )
        got = asyncio.run(devices_run(base, people["cookies"], issuer, drafts, args.settle))
        wall = time.perf_counter() - wall_before
        server_cpu = group_cpu_s(proc.pid) - cpu_before
        bench_cpu = time.process_time() - own_before
        load_after = os.getloadavg()
    finally:
        stop_server(proc)
    from dispatch.realtime import unit_group

    delivery = check_deliveries(drafts, [(d, a) for d, a, _ in got["receipts"]])
    arrival: dict[int, float] = {}
    for device, aid, t1 in got["receipts"]:
        if drafts.get(aid) == device:
            arrival.setdefault(aid, t1)
    latency = [arrival[a] - issuer.t0[a] for a in arrival if a in issuer.t0]
    db, publish, deliver = [], [], []
    for aid, t1 in arrival.items():
        pubs = issuer.publishes.get(aid) or []
        unit_pubs = [p for p in pubs if p[0] == unit_group(people["units"][drafts[aid]])]
        if not pubs or not unit_pubs:
            continue
        db.append(pubs[0][1] - issuer.t0[aid])
        publish.append(pubs[-1][2] - pubs[0][1])
        deliver.append(t1 - unit_pubs[-1][2])
    failures = got["failures"]
    result = {
        "workers": workers,
        "devices": len(people["cookies"]),
        "devices_connected": got["hellos"],
        "connect_failures": failures[:5],
        "connect_s": round(got["connect_s"], 2),
        "rate": args.rate,
        "delivery": delivery,
        "other_frames": len(got["other"]),
        "other_frame_types": dict(Counter(e.get("type", "?") for _, e in got["other"])),
        "issue_errors": issuer.errors[:5],
        "latency_ms": summarize_ms(latency),
        "split_ms": {
            "db": summarize_ms(db),
            "publish": summarize_ms(publish),
            "deliver": summarize_ms(deliver),
        },
        "service_call_ms": summarize_ms(issuer.returned[a] - issuer.t0[a] for a in issuer.returned),
        "unit_group_only": args.unit_group_only,
        # CPU seconds over the run (connect + issue + settle), of the server's processes and of
        # this process (200 socket readers + the issuer thread), and the run's wall time.
        "server_cpu_s": round(server_cpu, 2),
        "bench_cpu_s": round(bench_cpu, 2),
        "run_wall_s": round(wall, 2),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
    }
    if failures or issuer.errors:
        tail = log.read_text()[-2000:]
        print(f"server log tail ({log}):\n{tail}", file=sys.stderr)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--postgres", default=DEFAULT_DB, help="scratch DB (name has 'bench').")
    parser.add_argument("--redis-db", type=int, default=9, help="spare Redis db, flushed (not 0).")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0, help="issues per second.")
    parser.add_argument("--workers", default="1,2", help="server worker counts to run, e.g. 1,2")
    parser.add_argument("--settle", type=float, default=10.0, help="max s to wait for stragglers.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--unit-group-only",
        action="store_true",
        help="diagnostic: skip the agency-group publish (the board's copy), to see its cost.",
    )
    parser.add_argument("--json", default="", help="also write the figures here ('-' = stdout).")
    parser.add_argument("--keep", action="store_true", help="keep the server logs' directory.")
    args = parser.parse_args()
    if args.redis_db == 0:
        raise SystemExit("--redis-db 0 is the application's; use a spare one")
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_import import fresh_postgres

    env = set_env(args)
    git = shutil.which("git") or "/usr/bin/git"
    head = subprocess.run(  # noqa: S603
        [git, "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(
        f"code {head or '?'}; cpus {os.cpu_count()}  python {sys.version.split()[0]}  devices "
        f"{args.devices}  issues {args.issues} at {args.rate}/s  workers {args.workers}  load "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    work = Path(tempfile.mkdtemp(prefix="beacon-bench-push-"))
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    try:
        fresh_postgres(args.postgres)
        migrate = subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, capture_output=True
        )
        if migrate.returncode:
            sys.stderr.write((migrate.stdout + migrate.stderr).decode()[-4000:])
            raise SystemExit("migrate failed")
        import django

        django.setup()
        t = time.perf_counter()
        people = make_people(args.devices)
        print(
            f"set-up: {args.devices} users, units and sessions in {time.perf_counter() - t:.1f} s"
        )
        for workers in worker_counts:
            r = one_run(env, workers, people, args, work)
            results.append(r)
            print(format_run(r), flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"bench time {time.perf_counter() - started:.0f} s")
    if args.json == "-":
        print(json.dumps(results, indent=2))
    elif args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    ok = all(r["delivery"]["ok"] and r["devices_connected"] == r["devices"] for r in results)
    if not ok:
        print(
            "FAILED: a device did not connect, or a push was lost or misdelivered", file=sys.stderr
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
