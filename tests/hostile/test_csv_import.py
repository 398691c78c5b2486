"""Hostile files for ``import_calls``: each is refused with the row and the field named, and a
refused row writes nothing (no call, no place, no call type or disposition made for it).

Cases already covered in ``tests/dispatch/test_import_calls.py`` are not repeated here: a UTF-8
BOM and Windows-1252 lines, missing columns (fails before writing), a field over the size limit,
a date without an offset, an out-of-range point, duplicate ids in one file, gzip by content.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import CommandError

from dispatch.models import Call, CallType, Disposition, Location
from tests.dispatch.test_import_calls import read_rejects, run_import

pytestmark = pytest.mark.django_db

HEADER = (
    "external_id,received_at,call_type,priority,address,latitude,longitude,disposition,source\n"
)
GOOD = "G-1,2025-03-01T10:00:00+00:00,THEFT,3,1 Elm St,29.42,-98.49,,phone\n"


def _written() -> tuple[int, int, int, int]:
    return (
        Call.objects.count(),
        Location.objects.count(),
        CallType.objects.count(),
        Disposition.objects.count(),
    )


def _import_rows(tmp_path: Path, *rows: str) -> dict[int, str]:
    """Import GOOD plus ``rows``; return the rejects by line, after checking GOOD landed alone."""
    path = tmp_path / "calls.csv"
    path.write_text(HEADER + GOOD + "".join(rows), encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    run_import(path, rejects=str(rejects))
    assert list(Call.objects.values_list("external_id", flat=True)) == ["G-1"]
    return read_rejects(rejects)


def test_a_utf16_file_is_refused_before_anything_is_written(agency, tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes((HEADER + GOOD).encode("utf-16"))
    before = _written()
    with pytest.raises(CommandError, match="missing column"):
        run_import(path, rejects=str(tmp_path / "r.csv"))
    assert _written() == before


def test_a_binary_file_is_refused_before_anything_is_written(agency, tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    before = _written()
    with pytest.raises(CommandError):
        run_import(path, rejects=str(tmp_path / "r.csv"))
    assert _written() == before


def test_an_empty_file_is_refused(agency, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        run_import(path, rejects=str(tmp_path / "r.csv"))


@pytest.mark.parametrize(
    ("latitude", "longitude", "words"),
    [
        ("nan", "-98.49", "latitude: 'nan' is not a finite number"),
        ("29.42", "inf", "longitude: 'inf' is not a finite number"),
        ("north", "-98.49", "latitude: 'north' is not a number"),
        ("29.42", "", "Give both latitude and longitude"),
        ("29.42", "-181", "is not a valid WGS84 point"),
    ],
)
def test_an_invalid_point_names_the_field(agency, tmp_path: Path, latitude, longitude, words):
    row = f"B-1,2025-03-01T10:00:00+00:00,THEFT,3,1 Elm St,{latitude},{longitude},,\n"
    assert words in _import_rows(tmp_path, row)[3]


@pytest.mark.parametrize(
    ("received_at", "words"),
    [
        ("2025-02-30T10:00:00+00:00", "received_at: '2025-02-30T10:00:00+00:00' is not an ISO"),
        ("1969-12-31T23:00:00+00:00", "received_at: 1969-12-31 is before 1970"),
        ("9999-01-01T00:00:00+00:00", "is in the future"),
        ("", "received_at is empty"),
    ],
)
def test_an_invalid_date_names_the_field(agency, tmp_path: Path, received_at, words) -> None:
    row = f"B-1,{received_at},THEFT,3,1 Elm St,,,,\n"
    assert words in _import_rows(tmp_path, row)[3]


def test_a_row_with_too_many_columns_is_one_rejection(agency, tmp_path: Path) -> None:
    row = "B-1,2025-03-01T10:00:00+00:00,THEFT,3,1 Elm St,,,,,extra\n"
    assert _import_rows(tmp_path, row)[3] == "Expected 9 columns, found 10."


def test_a_refused_row_makes_no_call_type_disposition_or_place(agency, tmp_path: Path) -> None:
    before = CallType.objects.count(), Disposition.objects.count()
    row = "B-1,2025-03-01T10:00:00+00:00,ZZNEWTYPE,3,77 Nowhere Rd,95,-98.49,ZZNEWDISPO,\n"
    assert "valid WGS84 point" in _import_rows(tmp_path, row)[3]
    assert not CallType.objects.filter(code="ZZNEWTYPE").exists()
    assert not Disposition.objects.filter(code="ZZNEWDISPO").exists()
    assert not Location.objects.filter(address_key__contains="NOWHERE").exists()
    assert (CallType.objects.count(), Disposition.objects.count()) == before


def test_an_unknown_source_names_the_field(agency, tmp_path: Path) -> None:
    row = "B-1,2025-03-01T10:00:00+00:00,THEFT,3,1 Elm St,,,,=HYPERLINK(1)\n"
    assert "source: '=hyperlink(1)' is not one of" in _import_rows(tmp_path, row)[3]


def test_the_rejects_file_defuses_formulas_from_the_input(agency, tmp_path: Path) -> None:
    """The rejects file is opened in a spreadsheet; a hostile cell must not run there."""
    row = "B-1,not-a-date,\"=cmd|' /C calc'!A0\",3,1 Elm St,,,,\n"
    _import_rows(tmp_path, row)
    with (tmp_path / "rejects.csv").open(encoding="utf-8", newline="") as fh:
        cells = [cell for record in csv.reader(fh) for cell in record]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells
