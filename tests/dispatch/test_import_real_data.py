"""``import_calls`` on the two real public CFS files in /work/shared/data/cfs (skipped without them).

The independent check: calls per location in the database must equal a plain
Python group-by over the same slice of the raw CSV, keyed with
``normalize_address`` (and the normalised township for Montgomery County).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count

from dispatch.addressing import AddressError, normalize_address, normalize_locality
from dispatch.models import Call, Location
from tests.paths import CFS_DIR

SANANTONIO = CFS_DIR / "sanantonio_2025-2026.csv.gz"
MONTCOPA = CFS_DIR / "montgomerycountypa_2015-2016.csv.gz"
SANANTONIO_ROWS = 208_653
SLICE = 2_000

pytestmark = pytest.mark.django_db


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    return path


def run_import(path: Path, profile: str, rejects: Path, **options: object) -> str:
    out = io.StringIO()
    call_command(
        "import_calls",
        str(path),
        profile=profile,
        rejects=str(rejects),
        no_progress=True,
        stdout=out,
        stderr=out,
        **options,
    )
    return out.getvalue()


def raw_slice(path: Path, limit: int) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return [row for _, row in zip(range(limit), reader, strict=False)]


def db_calls_per_place() -> Counter[tuple[str, str]]:
    rows = (
        Call.objects.filter(location__isnull=False)
        .values("location__address_key", "location__locality")
        .annotate(n=Count("id"))
    )
    return Counter({(r["location__address_key"], r["location__locality"]): r["n"] for r in rows})


def rejected_lines(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))


def test_sanantonio_slice(agency, tmp_path: Path) -> None:
    path = need(SANANTONIO)
    out = run_import(path, "sanantonio", tmp_path / "rejects.csv", limit=SLICE)

    raw = raw_slice(path, SLICE)
    usable = [r for r in raw if r["IncidentNumber"].strip()]
    assert f"read {SLICE}, imported {len(usable)}," in out
    assert Call.objects.count() == len(usable)
    expected: Counter[tuple[str, str]] = Counter()
    for row in usable:
        try:
            expected[(normalize_address(row["Address"]).key, "")] += 1
        except AddressError:
            continue
    assert db_calls_per_place() == expected
    # ResponseDate is authoritative: the first row is 2025-09-01 00:01:47 in San Antonio.
    first = Call.objects.get(external_id=raw[0]["IncidentNumber"])
    assert first.received_at.isoformat() == "2025-09-01T05:01:47+00:00"
    assert first.call_type.category == raw[0]["Category"]
    assert first.number.startswith("2025-")


def test_montcopa_slice(agency, tmp_path: Path) -> None:
    path = need(MONTCOPA)
    rejects = tmp_path / "rejects.csv"
    out = run_import(path, "montcopa", rejects, limit=SLICE)

    # Exact duplicate rows are one call (the file has no id; the derived id is shared).
    seen: dict[tuple[str, ...], dict[str, str]] = {}
    for row in raw_slice(path, SLICE):
        seen.setdefault(tuple(row[c] for c in ("lat", "lng", "desc", "title", "timeStamp")), row)
    assert Call.objects.count() == len(seen)
    assert f"imported {len(seen)}," in out
    assert rejected_lines(rejects) == SLICE - len(seen)
    expected: Counter[tuple[str, str]] = Counter()
    for row in seen.values():
        if row["addr"].strip():
            key = normalize_address(row["addr"]).key
            expected[(key, normalize_locality(row["twp"]))] += 1
    assert db_calls_per_place() == expected
    assert Call.objects.filter(call_type__category="EMS").exists()
    assert Location.objects.filter(locality="NORRISTOWN").exists()


def test_montcopa_time_is_dispatch_time_in_eastern(agency, tmp_path: Path) -> None:
    path = need(MONTCOPA)
    run_import(path, "montcopa", tmp_path / "r.csv", limit=2)
    # Row 1: "...; 2015-12-10 @ 17:10:52;" local (EST, UTC-5); timeStamp says 17:40.
    received = sorted(Call.objects.values_list("received_at", flat=True))
    assert [r.isoformat() for r in received] == [
        "2015-12-10T22:10:52+00:00",
        "2015-12-10T22:29:21+00:00",
    ]


@pytest.mark.slow
def test_sanantonio_whole_file_and_reimport(agency, tmp_path: Path) -> None:
    path = need(SANANTONIO)
    rejects = tmp_path / "rejects.csv"
    out = run_import(path, "sanantonio", rejects)
    rejected = rejected_lines(rejects)
    assert rejected == 5  # the five rows without an IncidentNumber
    assert f"read {SANANTONIO_ROWS}, imported {SANANTONIO_ROWS - rejected}," in out
    assert Call.objects.count() == SANANTONIO_ROWS - rejected
    # Bogus points (1.0,-1.0 and out of area) are dropped, the calls kept.
    assert not Call.objects.filter(latitude__lt=28).exists()

    again = run_import(path, "sanantonio", tmp_path / "rejects2.csv")
    assert f"imported 0, skipped (already present) {SANANTONIO_ROWS - rejected}" in again
    assert Call.objects.count() == SANANTONIO_ROWS - rejected
