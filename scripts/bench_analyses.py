"""Benchmark every analysis over synthetic cities of growing size and the San Antonio file.

    .venv/bin/python scripts/bench_analyses.py                        # SQLite, 100k..1M + SA
    .venv/bin/python scripts/bench_analyses.py --sizes 100k,250k --no-sa
    .venv/bin/python scripts/bench_analyses.py --postgres postgres://postgres@127.0.0.1:5432/beacon_bench_analyses
    .venv/bin/python scripts/bench_analyses.py --json bench.json      # figures as JSON as well

Per backend and data set it starts from an empty, freshly migrated scratch database (SQLite in a
temporary directory; PostgreSQL dropped and re-created, its name must contain "bench"), loads the
data (``scripts/synthetic_calls.py`` for each size, ``import_calls --profile sanantonio`` for
the file), then runs the analyses through ``services.analysis_execute``, the code path of the
nightly schedule and of ``manage.py analyze``:

* **separate**: each kind alone in a fresh Python process. Wall time is measured around
  ``analysis_execute`` (runner + finding upserts, not interpreter start-up); peak memory is that
  process's ``ru_maxrss`` (peak resident set size, Linux, includes Python + Django, ~70 MB, which
  is printed as "base");
* **nightly**: every kind in sequence in one process, as ``run_all_analyses`` does in embedded
  mode: the time per kind, the total, and the process's peak RSS. By then the separate runs have
  proposed the findings, so the nightly run updates them, as a real night does.

"findings" is created + updated by the run. The load average is printed with each figure: the
machine is shared, and timings move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import DEFAULT_FILE, fresh_postgres  # noqa: E402

KINDS = ("repeat_locations", "hotspots", "time_windows", "trends", "near_repeat", "entities")
DEFAULT_SIZES = "100k,250k,500k,1M"
SYNTHETIC_END = "2026-07-01T00:00:00+00:00"


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


# --- the worker: runs inside a fresh process against the scratch database -----------------


def worker(kinds: list[str], as_of_text: str, cprofile_dir: str) -> None:
    """Run ``kinds`` in sequence through ``analysis_execute``; print one JSON line of figures."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import datetime as dt

    import django

    django.setup()
    from django.db.models import Max

    from dispatch.models import Call
    from intelligence.services import analysis_execute

    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if as_of_text == "auto":
        # Just after the last call, so every window ends where the data ends.
        last = Call.objects.aggregate(last=Max("received_at"))["last"]
        as_of = last + dt.timedelta(seconds=1)
    else:
        as_of = dt.datetime.fromisoformat(as_of_text)
    from beacon_core.db_maintenance import planner_statistics_refresh

    # As the nightly fan-out does first (SQLite ANALYZE; nothing on PostgreSQL).
    started = time.perf_counter()
    planner_statistics_refresh()
    statistics_s = round(time.perf_counter() - started, 3)
    from intelligence.runners import shared_results

    out: list[dict[str, Any]] = []
    # As run_all_analyses does in embedded mode: runs in one process share what they can.
    sharing = shared_results()
    sharing.__enter__()
    for kind in kinds:
        profiler = None
        if cprofile_dir:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        run = analysis_execute(kind=kind, as_of=as_of)
        wall = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(Path(cprofile_dir) / f"{kind}.prof"))
        counts = run.counts or {}
        out.append(
            {
                "kind": kind,
                "wall_s": round(wall, 3),
                "findings": int(counts.get("created", 0)) + int(counts.get("updated", 0)),
                "counts": counts,
                "status": run.status,
                "rss_after_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    sharing.__exit__(None, None, None)
    print(
        json.dumps(
            {
                "as_of": as_of.isoformat(),
                "statistics_s": statistics_s,
                "runs": out,
                "base_mb": round(base_kb / 1024),
                "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


# --- the driver --------------------------------------------------------------------------


def run(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return proc.stdout


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def analyse(
    env: dict[str, str], as_of: str, mode: str, cprofile_dir: str, tag: str
) -> dict[str, Any]:
    """The separate and/or nightly figures for the data now in the database."""
    result: dict[str, Any] = {"separate": {}, "nightly": None}
    me = [PYTHON, str(Path(__file__).resolve()), "--worker"]
    if mode in {"both", "separate"}:
        for kind in KINDS:
            load = load1()
            extra = []
            if cprofile_dir:
                where = Path(cprofile_dir) / tag
                where.mkdir(parents=True, exist_ok=True)
                extra = ["--cprofile", str(where)]
            figures = json.loads(run([*me, kind, "--as-of", as_of, *extra], env).splitlines()[-1])
            one = figures["runs"][0]
            result["separate"][kind] = {
                "wall_s": one["wall_s"],
                "peak_mb": figures["peak_mb"],
                "base_mb": figures["base_mb"],
                "findings": one["findings"],
                "load1": load,
            }
            print(
                f"  {kind:16} {one['wall_s']:8.2f} s  peak {figures['peak_mb']:5d} MB  "
                f"findings {one['findings']:6d}  (load {load})",
                file=sys.stderr,
            )
    if mode in {"both", "nightly"}:
        load = load1()
        figures = json.loads(run([*me, ",".join(KINDS), "--as-of", as_of], env).splitlines()[-1])
        result["nightly"] = {
            # The fan-out's ANALYZE counts: the night pays for it.
            "total_s": round(
                figures.get("statistics_s", 0) + sum(r["wall_s"] for r in figures["runs"]), 2
            ),
            "statistics_s": figures.get("statistics_s", 0),
            "peak_mb": figures["peak_mb"],
            "base_mb": figures["base_mb"],
            "per_kind": {r["kind"]: r["wall_s"] for r in figures["runs"]},
            "findings": {r["kind"]: r["findings"] for r in figures["runs"]},
            # The process's peak so far after each kind: a kind's own peak, if it raised it.
            "peak_after_mb": {r["kind"]: r["rss_after_mb"] for r in figures["runs"]},
            "load1": load,
            "load1_after": load1(),
        }
        print(
            f"  nightly (all kinds) {result['nightly']['total_s']:.2f} s (ANALYZE "
            f"{result['nightly']['statistics_s']:.2f} s)  peak {figures['peak_mb']} MB  "
            f"(load {load})",
            file=sys.stderr,
        )
    return result


def bench_backend(
    backend: str,
    env: dict[str, str],
    fresh: Any,
    sizes: list[int],
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    results = []
    for n in sizes:
        fresh()
        run([PYTHON, "manage.py", "migrate", "-v0"], env)
        print(f"{backend} {label(n)}: loading synthetic calls (load {load1()})", file=sys.stderr)
        started = time.perf_counter()
        cmd = [PYTHON, "scripts/synthetic_calls.py", "--calls", str(n), "--seed", str(args.seed)]
        cmd += ["--end", SYNTHETIC_END, "--json", "--no-progress"]
        loaded = json.loads(run(cmd, env).splitlines()[-1])
        loaded["load_s"] = round(time.perf_counter() - started, 1)
        print(f"  loaded {loaded}", file=sys.stderr)
        tag = f"{backend}-{label(n)}"
        figures = analyse(env, SYNTHETIC_END, args.mode, args.cprofile, tag)
        results.append({"backend": backend, "data": label(n), "calls": n, **loaded, **figures})
    if not args.no_sa:
        fresh()
        run([PYTHON, "manage.py", "migrate", "-v0"], env)
        print(f"{backend} SA: importing {args.file.name} (load {load1()})", file=sys.stderr)
        started = time.perf_counter()
        rejects = Path(env["BEACON_VAR_DIR"]) / "rejects.csv"
        cmd = [PYTHON, "manage.py", "import_calls", str(args.file), "--profile", "sanantonio"]
        run([*cmd, "--no-progress", "--rejects", str(rejects)], env)
        load_s = round(time.perf_counter() - started, 1)
        figures = analyse(env, "auto", args.mode, args.cprofile, f"{backend}-SA")
        results.append({"backend": backend, "data": "SA", "load_s": load_s, **figures})
    return results


def print_table(results: list[dict[str, Any]]) -> None:
    separate = [r for r in results if r["separate"]]
    if separate:
        print()
        print("Separate runs (one fresh process per analysis): wall s / peak RSS MB / findings")
        print(f"{'backend':10} {'data':5} " + " ".join(f"{k:>22}" for k in KINDS))
    for r in separate:
        cells = []
        for k in KINDS:
            s = r["separate"][k]
            cells.append(f"{s['wall_s']:7.2f} {s['peak_mb']:5d} {s['findings']:6d}".rjust(22))
        print(f"{r['backend']:10} {r['data']:5} " + " ".join(cells))
    if not any(r["nightly"] for r in results):
        return
    print()
    print(
        "Nightly set (all kinds in sequence in one process): wall s / findings per kind, "
        "total s, peak RSS"
    )
    print(
        f"{'backend':10} {'data':5} "
        + " ".join(f"{k[:15]:>15}" for k in KINDS)
        + f" {'total':>8} {'peak MB':>8} {'load':>5}"
    )
    for r in results:
        n = r["nightly"]
        if not n:
            continue
        print(
            f"{r['backend']:10} {r['data']:5} "
            + " ".join(f"{n['per_kind'][k]:8.2f}/{n['findings'][k]:<6d}" for k in KINDS)
            + f" {n['total_s']:8.2f} {n['peak_mb']:8d} {n['load1']:5.2f}"
        )
        if n.get("peak_after_mb"):
            peaks = " ".join(f"{n['peak_after_mb'][k]:>15d}" for k in KINDS)
            print(f"{'':10} {'MB':5} {peaks}  (process peak after each kind)")
    for backend in sorted({r["backend"] for r in results}):
        sized = [r for r in results if r["backend"] == backend and r["data"] != "SA"]
        if len(sized) < 2:
            continue
        print()
        print("Growth (time at the largest size / time at the smallest)")
        lo, hi = sized[0], sized[-1]
        ratio = hi["calls"] / lo["calls"]
        parts = []
        for k in KINDS:
            a = (lo["separate"].get(k) or {}).get("wall_s") or (lo["nightly"] or {}).get(
                "per_kind", {}
            ).get(k)
            b = (hi["separate"].get(k) or {}).get("wall_s") or (hi["nightly"] or {}).get(
                "per_kind", {}
            ).get(k)
            if a and b:
                parts.append(f"{k} x{b / a:.1f}")
        if lo["nightly"] and hi["nightly"]:
            parts.append(f"nightly x{hi['nightly']['total_s'] / lo['nightly']['total_s']:.1f}")
        print(f"{backend} {lo['data']}->{hi['data']} (data x{ratio:g}): " + ", ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="e.g. 100k,250k,500k,1M (or none)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="San Antonio CFS file.")
    parser.add_argument("--no-sa", action="store_true", help="Skip the San Antonio file.")
    parser.add_argument(
        "--postgres", default="", help="URL of a bench database (name contains 'bench')."
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--mode",
        choices=("both", "separate", "nightly"),
        default="both",
        help="separate processes per kind, the nightly sequence, or both (default).",
    )
    parser.add_argument("--cprofile", default="", help="Directory for cProfile dumps per kind.")
    parser.add_argument("--json", default="", help="Also write the figures to this JSON file.")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch SQLite directory.")
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker.split(","), args.as_of, args.cprofile)
        return
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip() and s != "none"]
    if not args.no_sa and not args.file.exists():
        print(f"no San Antonio file at {args.file}; skipping it", file=sys.stderr)
        args.no_sa = True
    if args.cprofile:
        args.cprofile = str(Path(args.cprofile).resolve())

    work = Path(tempfile.mkdtemp(prefix="beacon-bench-analyses-"))
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    # Production mode (DATABASE_URL set) insists on a secret key; the bench needs none.
    base.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    base["BEACON_VAR_DIR"] = str(work)
    # One BLAS thread, as manage.py and the Celery worker set it (the worker here is neither).
    base.setdefault("OPENBLAS_NUM_THREADS", "1")
    base.setdefault("OMP_NUM_THREADS", "1")
    # The code under test: other work may change it while the bench runs, so name it.
    git = shutil.which("git") or "/usr/bin/git"

    def git_out(*cmd: str) -> str:
        proc = subprocess.run([git, *cmd], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
        return proc.stdout

    head = git_out("rev-parse", "--short", "HEAD").strip()
    dirty = git_out("status", "--porcelain", "--untracked-files=no").splitlines()
    changed = sorted(line[3:] for line in dirty if line.strip())
    print(f"code {head or '?'} in {ROOT}; uncommitted changes: {', '.join(changed) or 'none'}")
    print(
        f"cpus {os.cpu_count()}  python {sys.version.split()[0]}  sizes "
        f"{','.join(label(n) for n in sizes) or '-'}  SA {'no' if args.no_sa else args.file.name}"
        f"  load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        if not args.no_sqlite:
            db = work / "bench.sqlite3"

            def fresh_sqlite() -> None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)

            results += bench_backend(
                "sqlite", {**base, "SQLITE_PATH": str(db)}, fresh_sqlite, sizes, args
            )
        if args.postgres:
            results += bench_backend(
                "postgresql",
                {**base, "DATABASE_URL": args.postgres},
                lambda: fresh_postgres(args.postgres),
                sizes,
                args,
            )
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table(results)
    print(
        f"\nbench time {time.perf_counter() - started:.0f} s; "
        f"load now {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
