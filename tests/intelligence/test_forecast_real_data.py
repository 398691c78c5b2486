"""Forecast evaluation on the real San Antonio calls (slow; skipped without the shared file).

The whole file is imported (about 25-30 s on either backend, see docs/benchmarks.md): a subset
by date would leave too few months for a 90-day training window plus several origins, because
the extract holds only the first days of each month.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from governance.models import Agency
from intelligence.analysis import forecast
from intelligence.forecasting import evaluate_calls
from tests.paths import CFS_DIR

SANANTONIO = CFS_DIR / "sanantonio_2025-2026.csv.gz"

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_default_method_beats_naive_pai_at_2_percent(agency: Agency, tmp_path: Path) -> None:
    if not SANANTONIO.exists():
        pytest.skip(f"real data not present: {SANANTONIO}")
    started = time.perf_counter()
    call_command(
        "import_calls",
        str(SANANTONIO),
        profile="sanantonio",
        rejects=str(tmp_path / "rejects.csv"),
        no_progress=True,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    report = evaluate_calls(agency=agency)  # the command's defaults: 90 d, 7 d, 12 origins
    assert len(report["origins"]) == 12
    assert report["study_area"]["cells"] > 8_000
    default = report["summary"][forecast.BEACON_DEFAULT_METHOD]["0.02"]["pai"]
    naive = report["summary"]["naive"]["0.02"]["pai"]
    assert default > naive, (default, naive)
    assert time.perf_counter() - started < 120
