"""scripts/soak.py: its helpers, and a short soak at low rates so the script keeps working."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.paths import ROOT


def _module():
    spec = importlib.util.spec_from_file_location("soak", ROOT / "scripts" / "soak.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("soak", module)
    spec.loader.exec_module(module)
    return module


soak = _module()


def test_section_is_replaced_and_the_rest_kept():
    doc = "# Benchmarks\n\n## Import\n\ntable\n"
    first = soak.replace_section(doc, "run one")
    assert first.startswith(doc.rstrip()) and soak.BEGIN in first and "run one" in first
    second = soak.replace_section(first + "\n## After\n\nkept\n", "run two")
    assert "run one" not in second and "run two" in second
    assert second.count(soak.BEGIN) == 1 and second.count(soak.END) == 1
    assert "## Import\n\ntable" in second and second.endswith("## After\n\nkept\n")


def test_memory_verdict_judges_the_second_half_only():
    mb = 1024
    # warm-up growth in the first half is not a leak
    assert soak.memory_verdict(100 * mb, 300 * mb, 305 * mb) == "flat"
    assert soak.memory_verdict(200 * mb, 200 * mb, 240 * mb).startswith("growing (+40 MB")
    # under 10 MB, or under 5 % of a big process, is noise
    assert soak.memory_verdict(100 * mb, 100 * mb, 109 * mb) == "flat"
    assert soak.memory_verdict(1000 * mb, 1000 * mb, 1040 * mb) == "flat"


def test_routes_group_requests_by_endpoint():
    assert soak.route_of("POST", "/api/v1/units/17/positions/") == (
        "POST /api/v1/units/{id}/positions/"
    )
    assert soak.route_of("GET", "/api/v1/calls/?status=open") == "GET /api/v1/calls/"
    assert soak.route_of("POST", "/api/v1/calls/123/close/") == "POST /api/v1/calls/{id}/close/"


def test_a_batch_frame_is_read_as_its_events_in_order():
    one = {"type": "call_created", "call_id": 1}
    two = {"type": "call_updated", "call_id": 1}
    assert soak.unpack_frame(one) == [one]
    assert soak.unpack_frame({"type": "batch", "events": [one, "junk", two]}) == [one, two]
    assert soak.unpack_frame(["not", "a", "frame"]) == []


def test_latency_summary_is_in_milliseconds():
    s = soak.latency_summary([0.010, 0.020, 0.030])
    assert (s["n"], s["p50"], s["max"]) == (3, 20.0, 30.0)
    assert soak.latency_summary([])["n"] == 0


def test_memory_rows_name_each_process_and_spot_a_death():
    first = {("server worker", 1): 100_000, ("beat", 2): 50_000}
    mid = {("server worker", 1): 120_000, ("beat", 2): 50_000}
    last = {("server worker", 1): 121_000}
    rows = soak.memory_rows([(0.0, first), (50.0, mid), (100.0, last)])
    by_name = {r["process"]: r for r in rows}
    assert by_name["server worker"]["verdict"] == "flat"
    assert by_name["beat"]["verdict"] == "gone before the end"


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_short_soak_at_low_rates_passes(tmp_path: Path) -> None:
    """The whole script end to end for 15 s: server, worker, beat, sockets, pushes, the report."""
    url = urlparse(os.environ["DATABASE_URL"])
    name = f"{url.path.lstrip('/') or 'beacon'}_soak_smoke"
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    figures = tmp_path / "soak.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOAK_")}
    cmd = [
        sys.executable,
        "scripts/soak.py",
        "--seconds=15",
        "--call-rate=2",
        "--call-lifetime=5",
        "--devices=6",
        "--consoles=2",
        "--assign-every=3",
        "--analysis-every=10",
        "--history=500",
        "--workers=1",
        f"--postgres={url._replace(path=f'/{name}').geturl()}",
        f"--redis-db={os.environ.get('SOAK_REDIS_DB', '11')}",
        f"--docs={docs}",
        f"--json={figures}",
    ]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    assert "[  10 s]" in out.stdout  # progress while it runs
    result = json.loads(figures.read_text())
    assert result["totals"]["errors"] == 0 and result["totals"]["requests"] > 50
    pushes = result["pushes"]
    assert pushes["assignments_issued"] >= 3
    assert pushes["assignments_received"] == pushes["assignments_issued"]
    assert pushes["console_frames"] == pushes["console_expected"] > 0
    routes = {row["route"] for row in result["endpoints"]}
    assert {"POST /api/v1/calls/", "POST /api/v1/units/{id}/positions/"} <= routes
    assert {m["process"].split(" ")[0] for m in result["memory"]} >= {"server", "worker", "beat"}
    text = docs.read_text()
    assert soak.BEGIN in text and "### Latest run" in text and text.startswith("# Benchmarks")
    assert "## Other\n\nkept" in text
    import psycopg

    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
