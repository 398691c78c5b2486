"""``import_calls``: the historical import, end to end through the management command.

The fixture ``tests/fixtures/import_beacon.csv`` mixes good rows with one of
each kind of bad row; the tests check the good ones land as the same rows
``call_create`` would write, the bad ones are reported by line with a reason,
and nothing changes on a second run.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dispatch import services
from dispatch.models import Call, CallType, Disposition, Location

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BEACON_CSV = FIXTURES / "import_beacon.csv"
GOOD_IDS = {"A-1", "A-2", "A-9", "A-10"}

pytestmark = pytest.mark.django_db


def run_import(path: Path, *args: str, **options: object) -> str:
    out = io.StringIO()
    call_command(
        "import_calls", str(path), *args, no_progress=True, stdout=out, stderr=out, **options
    )
    return out.getvalue()


def read_rejects(path: Path) -> dict[int, str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {int(row["line"]): row["reason"] for row in csv.DictReader(fh)}


@pytest.fixture
def beacon_file(tmp_path: Path) -> Path:
    """The fixture plus one row whose address field is far beyond any CSV field limit."""
    path = tmp_path / "calls.csv"
    shutil.copy(BEACON_CSV, path)
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(f'A-11,2025-03-01T12:00:00+00:00,THEFT,3,"{"X" * 200_000}",,,,\n')
    return path


@pytest.fixture(autouse=True)
def _central_time(settings) -> None:
    settings.BEACON_TIME_ZONE = "America/Chicago"


def test_good_rows_imported_and_bad_rows_reported(
    agency, beacon_file: Path, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.csv"
    out = run_import(beacon_file, rejects=str(rejects))

    assert "read 11, imported 4, skipped (already present) 0, rejected 7" in out
    assert set(Call.objects.values_list("external_id", flat=True)) == GOOD_IDS
    reasons = read_rejects(rejects)
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 12]
    assert "not an ISO 8601" in reasons[4]
    assert "no UTC offset" in reasons[5]
    assert "priority" in reasons[6]
    assert "not a valid WGS84 point" in reasons[7]
    assert "No address and no point" in reasons[8]
    assert "Duplicate external id 'A-1': first seen on line 2" in reasons[9]
    assert "field" in reasons[12].lower() and "limit" in reasons[12]


def test_imported_rows_are_closed_historical_calls(
    agency, beacon_file: Path, tmp_path: Path
) -> None:
    run_import(beacon_file, rejects=str(tmp_path / "r.csv"))
    calls = {
        c.external_id: c
        for c in Call.objects.select_related("call_type", "location", "disposition")
    }
    first, second = calls["A-1"], calls["A-2"]

    for call in calls.values():
        assert call.status == "closed"
        assert call.closed_at == call.received_at
        assert call.agency == agency
    assert not Call.objects.filter(events__isnull=False).exists()  # no timeline for history
    assert first.received_at == dt.datetime(2025, 3, 1, 16, 0, tzinfo=dt.UTC)
    assert (first.source, second.source) == ("phone", "import")
    # One place for both spellings, with the first point seen; A-2 had none and takes it.
    assert first.location_id == second.location_id
    assert first.location.address_key == "123 N MAIN ST #4"
    assert (second.latitude, second.longitude) == (29.42, -98.49)
    assert second.h3_r9 == first.h3_r9 != ""
    # Unknown call type and disposition are created, in the imported category.
    new_type = CallType.objects.get(code="NEWTYPE")
    assert (new_type.category, new_type.default_priority) == ("imported", 2)
    assert second.disposition == Disposition.objects.get(code="NEWDISPO")
    assert first.disposition.code == "REPORT"
    # Priority from the call type when the row has none.
    assert calls["A-9"].priority == CallType.objects.get(code="DISTURB").default_priority
    # Numbered by local year: 23:30 on 31 Dec in Chicago is already 2025 in UTC.
    assert calls["A-9"].number.startswith("2024-")
    assert first.number.startswith("2025-")
    # A point without an address: a call without a location.
    assert calls["A-10"].location is None and calls["A-10"].latitude == 29.5
    assert calls["A-9"].location.kind == "intersection"


def test_reimport_is_idempotent(agency, beacon_file: Path, tmp_path: Path) -> None:
    run_import(beacon_file, rejects=str(tmp_path / "r1.csv"))
    counts = (Call.objects.count(), Location.objects.count(), CallType.objects.count())
    out = run_import(beacon_file, rejects=str(tmp_path / "r2.csv"))
    assert "imported 0, skipped (already present) 4, rejected 7" in out
    assert (Call.objects.count(), Location.objects.count(), CallType.objects.count()) == counts
    assert read_rejects(tmp_path / "r1.csv") == read_rejects(tmp_path / "r2.csv")


def test_import_matches_call_create(agency, other_agency, tmp_path: Path) -> None:
    """The batched path writes the row ``call_create`` writes (bar number, status and ids)."""
    path = tmp_path / "one.csv"
    path.write_text(
        "external_id,received_at,call_type,priority,address,latitude,longitude\n"
        "X-1,2025-05-01T10:00:00+00:00,THEFT,2,500 South Flores Street,29.41,-98.495\n",
        encoding="utf-8",
    )
    run_import(path, agency="neighbour")
    imported = Call.objects.get(external_id="X-1")
    created = services.call_create(
        agency=agency,
        actor=None,
        call_type=CallType.objects.get(code="THEFT"),
        priority=2,
        address="500 South Flores Street",
        latitude=29.41,
        longitude=-98.495,
        received_at=dt.datetime(2025, 5, 1, 10, tzinfo=dt.UTC),
        external_id="X-1",
    )
    same = [
        "call_type_id",
        "priority",
        "location_id",
        "address_given",
        "received_at",
        "latitude",
        "longitude",
        "h3_r7",
        "h3_r9",
        "h3_r11",
        "caller_name",
        "narrative",
        "version",
    ]
    assert {f: getattr(imported, f) for f in same} == {f: getattr(created, f) for f in same}
    assert imported.agency.code == "neighbour"


def test_missing_columns_fail_fast_and_write_nothing(agency, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("external_id,when,call_type,address\nA,2025-01-01T00:00:00Z,THEFT,1 Main St\n")
    before = (Location.objects.count(), CallType.objects.count())
    with pytest.raises(CommandError, match=r"missing column.*received_at.*priority.*latitude"):
        run_import(path, rejects=str(tmp_path / "r.csv"))
    assert Call.objects.count() == 0
    assert (Location.objects.count(), CallType.objects.count()) == before
    assert not (tmp_path / "r.csv").exists()


def test_unknown_agency_is_refused(agency) -> None:
    with pytest.raises(CommandError, match="No agency with code 'nope'"):
        run_import(BEACON_CSV, agency="nope")


def test_gzip_detected_by_content_not_name(agency, tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"  # no .gz suffix on purpose
    path.write_bytes(gzip.compress(BEACON_CSV.read_bytes()))
    out = run_import(path, rejects=str(tmp_path / "r.csv"))
    assert "imported 4" in out
    assert set(Call.objects.values_list("external_id", flat=True)) == GOOD_IDS


def test_utf8_bom_and_latin1_lines(agency, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    lines = BEACON_CSV.read_bytes().splitlines(keepends=True)
    latin1 = "Z-1,2025-03-01T10:00:00-06:00,THEFT,3,100 Calle Peñasco,,,,\n".encode("latin-1")
    path.write_bytes(b"\xef\xbb\xbf" + b"".join(lines[:3]) + latin1)
    out = run_import(path, rejects=str(tmp_path / "r.csv"))
    assert "imported 3" in out
    assert "1 line(s) were not UTF-8" in out
    assert Call.objects.get(external_id="Z-1").address_given == "100 Calle Peñasco"


def test_rejects_default_next_to_input(agency, beacon_file: Path) -> None:
    out = run_import(beacon_file)
    written = list(beacon_file.parent.glob("import-rejects-*.csv"))
    assert len(written) == 1 and str(written[0]) in out
    assert len(read_rejects(written[0])) == 7


def test_small_batches_and_limit(agency, beacon_file: Path, tmp_path: Path) -> None:
    out = run_import(beacon_file, rejects=str(tmp_path / "r.csv"), batch_size=1, limit=3)
    assert "read 3, imported 2" in out
    assert Call.objects.count() == 2
