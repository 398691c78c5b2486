"""Repeat-location counts on the real San Antonio file against an independent pandas group-by.

Beacon side: the whole file goes through ``import_calls --profile sanantonio`` into the test
database, then the repeat-locations runner (``intelligence.runners.repeat_locations``, the code
path that feeds the analysis) runs with windows of 7, 28 and 90 days; a spy on the pure analysis
it calls records, per subject, ``count`` (the window), ``previous_count`` (the window before)
and ``baseline_count`` (the 365 days before the window). Levels: "premise" (one ``Location``
per normalised address key - premises, blocks, ranges, intersections and named places alike)
and, where the runner has it (``REPEAT_LEVELS``), "block" (the hundred block of a premise or
block address; ranges, intersections and places have none). Per-category tests are switched
off (``by_category=[]``): they count subsets of the same calls.

pandas side: ``read_csv`` of the raw file and string operations only. It reimplements, without
calling ``dispatch.addressing`` or the profile:

* the ``sanantonio`` profile's row rules: blank ``IncidentNumber``, non-integer
  ``ResponseDate`` or one before 1970-01-02 or in the future, blank ``ProblemType``,
  ``Address`` over 500 characters, an address with no letter or digit, and no address and no
  in-area point reject the row; a repeated incident number keeps its first accepted row;
  time = ``ResponseDate`` epoch milliseconds (UTC). (Not reimplemented: keys over 255
  characters; the file has none.)
* the address rules documented in ``dispatch/addressing.py`` (module docstring and comments):
  upper case; "," and "." to spaces, other characters outside ``A-Z 0-9 # & / @ -`` to
  spaces; whitespace collapsed; "AT&T" -> "ATT", "PARK AND RIDE" -> "PARK N RIDE";
  intersections = two or more parts split on "/", "&", "@", "AND", "AT", not all starting
  with a house number, each part's leading/trailing spelled-out direction and trailing
  spelled-out street type abbreviated, parts de-duplicated, sorted, joined with " & ";
  blocks "<n> BLK|BLOCK [OF] <street>" and "<n>XX <street>" -> "<hundred> BLOCK <street>";
  ranges "<a> - <b> <street>" -> "<a>-<b> <street>"; a trailing unit designator (APT, UNIT,
  STE, NO, #, ...) -> "#<value>"; "<n> AVENUE X" -> "<n> AVE X"; spelled-out directions and
  street types (USPS Publication 28, the subset Beacon lists) abbreviated; every other word
  kept - a freeway carriageway ("IH 37 S NB") and a numbered highway's number ("N LOOP 1604
  E") are part of the street, not a unit, and trailing words are never dropped (scourgify
  would take "GREENWAY NORTH" of "SALADO CREEK GREENWAY NORTH" for a city and state);
* the block of a house-number address: "<n>[A-Z] <street> [#unit]" ->
  "<n // 100 * 100> BLOCK <street>"; a block address is its own block.

It does *not* reimplement scourgify's full USPS suffix table ("CAPE" -> "CPE", "FOREST" ->
"FRST", ...). That only changes the spelling of a key, not which raw addresses share one
(asserted: no pandas group is split over two Beacon subjects), so the comparison is by partition:
every Beacon location and every pandas place are matched through the incident numbers of
their calls, and each must correspond to exactly one of the other, with the same calls, the
same kind (intersection / block / range / other) and equal counts in every window.

No known differences: ``test_counts_equal_pandas`` requires that no Beacon subject holds two
pandas places, at either level, and exact equality of every count;
``test_no_location_merges_what_the_rules_keep_apart`` is the plain partition check over every
distinct address. (Until the normaliser was fixed, Beacon merged the two carriageways of 49
freeway blocks - 224 at block level - and four premises that lost words scourgify read as a
city/state; both were pinned here.)
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command

from dispatch.models import Call, Location
from intelligence import runners
from intelligence.runners import repeat_locations as repeat_runner
from tests.paths import CFS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.validation]

SANANTONIO = CFS_DIR / "sanantonio_2025-2026.csv.gz"
# Local midnight (CDT) after the file's last day, 2026-08-06: the 28-day window holds August,
# the previous window July, the baseline September to June.
AS_OF = dt.datetime(2026, 8, 7, 5, 0, tzinfo=dt.UTC)
WINDOWS = (7, 28, 90)
BASELINE_DAYS = 365
DAY_MS = 86_400_000
AREA = (28.6, -99.4, 30.2, -97.6)  # the profile's service-area box: south, west, north, east


def need_inputs() -> Any:
    if not SANANTONIO.exists():
        pytest.skip(f"real data not present: {SANANTONIO}")
    return pytest.importorskip("pandas")


# --- the pandas side ---------------------------------------------------------------------

SUFFIXES = {
    "STREET": "ST",
    "STR": "ST",
    "AVENUE": "AVE",
    "AV": "AVE",
    "AVEN": "AVE",
    "ROAD": "RD",
    "DRIVE": "DR",
    "DRV": "DR",
    "BOULEVARD": "BLVD",
    "BOUL": "BLVD",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "PARKWAY": "PKWY",
    "PKY": "PKWY",
    "HIGHWAY": "HWY",
    "HIWAY": "HWY",
    "TERRACE": "TER",
    "TERR": "TER",
    "CIRCLE": "CIR",
    "CIRC": "CIR",
    "TRAIL": "TRL",
    "SQUARE": "SQ",
    "EXPRESSWAY": "EXPY",
    "EXPRESS": "EXPY",
    "FREEWAY": "FWY",
    "ALLEY": "ALY",
    "CROSSING": "XING",
    "PLAZA": "PLZ",
    "POINT": "PT",
    "RIDGE": "RDG",
    "CREEK": "CRK",
    "HEIGHTS": "HTS",
    "TURNPIKE": "TPKE",
}
DIRECTIONS = {
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
}
_DIR_ALT = "|".join(sorted(DIRECTIONS, key=len, reverse=True))
_SUF_ALT = "|".join(sorted(SUFFIXES, key=len, reverse=True))
UNIT_WORDS = "APARTMENT|APT|UNIT|SUITE|STE|ROOM|RM|SPACE|SPC|LOT|TRAILER|TRLR|NUMBER|NO|NUM"


def _abbreviate(s: Any, *, leading_direction: str = "^") -> Any:
    """Trailing spelled-out direction or street type, and a leading direction, abbreviated."""
    s = s.str.replace(rf"(?<=\S )({_DIR_ALT})$", lambda m: DIRECTIONS[m.group(1)], regex=True)
    s = s.str.replace(rf"(?<=\S )({_SUF_ALT})$", lambda m: SUFFIXES[m.group(1)], regex=True)
    return s.str.replace(
        rf"({leading_direction})({_DIR_ALT})(?= \S)",
        lambda m: m.group(1) + DIRECTIONS[m.group(2)],
        regex=True,
    )


def pandas_places(address: Any) -> tuple[Any, Any, Any]:
    """(place, kind, block) per raw address; kind is intersection / block / range / other;
    block is the hundred block of a block or house-number address (None for the rest)."""
    import pandas as pd

    s = address.str.upper().str.replace(r"[,.]", " ", regex=True)
    s = s.str.replace(r"[^A-Z0-9#&/@\-\s]", " ", regex=True)
    s = s.str.replace(r"\s+", " ", regex=True).str.strip()
    s = s.str.replace(r"\bAT ?(?:&|AND) ?T\b", "ATT", regex=True)
    s = s.str.replace(r"\bPARK ?(?:&|AND) ?RIDE\b", "PARK N RIDE", regex=True)
    place = pd.Series("", index=s.index, dtype=object)
    kind = pd.Series("other", index=s.index, dtype=object)

    parts = s.str.split(r"\s*(?:/|&|@|\bAND\b|\bAT\b)\s*", regex=True)
    parts = parts.map(lambda ps: [p for p in ps if re.search(r"[A-Z0-9]", p)])
    inter = parts.map(
        lambda ps: len(ps) >= 2 and not all(re.match(r"^\d+[A-Z]? \S", p) for p in ps)
    )
    streets = _abbreviate(parts[inter].explode())
    joined = streets.groupby(level=0).agg(lambda ps: " & ".join(sorted(set(ps))))
    single = ~joined.str.contains(" & ", regex=False)
    joined[single] = joined[single] + " & " + joined[single]  # "A / A": one street twice
    place[inter] = joined
    kind[inter] = "intersection"

    rest = s[~inter]
    blk = rest.str.extract(r"^(\d+)(XX)? (?:BLOCK|BLK) (?:OF )?(.+)$")
    xx = rest.str.extract(r"^(\d+)XX (.+)$")
    is_blk = blk[0].notna() | xx[0].notna()
    plain_number = (blk[0].notna() & blk[1].isna())[is_blk]
    number = blk[0].fillna(xx[0])[is_blk].astype(np.int64)
    # "1850 BLK" is the 1800 block; "18XX" is the 1800 block too.
    hundred = (number // 100 * 100).where(plain_number, number * 100)
    street = blk[2].fillna(xx[1])[is_blk]
    place[is_blk[is_blk].index] = hundred.astype(str) + " BLOCK " + _abbreviate(street)
    kind[is_blk[is_blk].index] = "block"

    rest = rest[~is_blk]
    rng = rest.str.extract(r"^(\d+) ?- ?(\d+) (.+)$").dropna()
    lo, hi = rng[0].astype(np.int64).astype(str), rng[1].astype(np.int64).astype(str)
    place[rng.index] = lo + "-" + hi + " " + _abbreviate(rng[2], leading_direction="^")
    kind[rng.index] = "range"

    other = rest.drop(rng.index)
    other = other.str.replace(
        rf"(?:^|\s)(?:(?:{UNIT_WORDS})\s+|#\s*)([A-Z0-9][A-Z0-9-]*)$", r" #\1", regex=True
    ).str.strip()
    other = other.str.replace(
        rf"^(\d+[A-Z]? (?:(?:{_DIR_ALT}|N|S|E|W|NE|NW|SE|SW) )?)(?:AVENUE|AVEN|AV)(?= \S)",
        r"\1AVE",
        regex=True,
    )
    other = _abbreviate(other, leading_direction=r"^(?:\d+[A-Z]? )?")
    place[other.index] = other

    block = pd.Series(None, index=s.index, dtype=object)
    block[kind == "block"] = place[kind == "block"]
    house = other.str.replace(r" #[A-Z0-9][A-Z0-9-]*$", "", regex=True).str.extract(
        r"^(\d+)[A-Z]? (.+)$"
    )
    house = house.dropna()
    block[house.index] = (house[0].astype(np.int64) // 100 * 100).astype(str) + " BLOCK " + house[1]
    return place, kind, block


def pandas_calls(path: Path) -> Any:
    """The rows the importer should accept: incident, epoch ms, place, kind."""
    import pandas as pd

    columns = ["IncidentNumber", "ResponseDate", "ProblemType", "Address", "LAT", "LON"]
    df = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=columns)
    incident = df["IncidentNumber"].str.strip()
    millis = df["ResponseDate"].str.strip()
    address = df["Address"].str.strip()
    lat = pd.to_numeric(df["LAT"].str.strip(), errors="coerce")
    lon = pd.to_numeric(df["LON"].str.strip(), errors="coerce")
    south, west, north, east = AREA
    has_point = lat.between(south, north) & lon.between(west, east)
    has_address = address != ""
    has_text = address.str.upper().str.contains(r"[A-Z0-9]", regex=True)
    epoch_ms = pd.to_numeric(millis.where(millis.str.fullmatch(r"-?\d+")), errors="coerce")
    latest = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).timestamp() * 1000
    ok = (
        (incident != "")
        & epoch_ms.between(DAY_MS, latest)
        & (df["ProblemType"].str.strip() != "")
        & (df["Address"].str.len() <= 500)
        & ~(has_address & ~has_text)
        & (has_address | has_point)
    )
    kept = pd.DataFrame({"incident": incident, "ms": epoch_ms, "address": address})[ok]
    kept = kept[~kept["incident"].duplicated(keep="first")].copy()
    kept["ms"] = kept["ms"].astype(np.int64)
    located = kept["address"] != ""
    place, kind, block = pandas_places(kept.loc[located, "address"])
    kept["place"] = place
    kept["kind"] = kind
    kept["block"] = block
    return kept


COUNT_COLUMNS = ("count", "previous_count", "baseline_count")


def pandas_window_counts(calls: Any, column: str, window_days: int) -> Any:
    """Per group: calls in the window, the window before, and the baseline before the window."""
    as_of = int(AS_OF.timestamp() * 1000)
    w, b = window_days * DAY_MS, BASELINE_DAYS * DAY_MS
    ms = calls["ms"]
    located = calls[calls[column].notna() & (ms < as_of)]
    ms = located["ms"]
    flags = located.assign(
        count=((ms >= as_of - w) & (ms < as_of)).astype(np.int64),
        previous_count=((ms >= as_of - 2 * w) & (ms < as_of - w)).astype(np.int64),
        baseline_count=((ms >= as_of - w - b) & (ms < as_of - w)).astype(np.int64),
    )
    return flags.groupby(column)[list(COUNT_COLUMNS)].sum()


# --- the Beacon side ---------------------------------------------------------------------


def beacon_import(tmp_path: Path) -> str:
    out = io.StringIO()
    call_command(
        "import_calls",
        str(SANANTONIO),
        profile="sanantonio",
        rejects=str(tmp_path / "rejects.csv"),
        no_progress=True,
        stdout=out,
        stderr=out,
    )
    return out.getvalue()


def runner_levels() -> tuple[str, ...]:
    return tuple(getattr(runners, "REPEAT_LEVELS", ("premise",)))


def runner_parameters() -> list[dict[str, Any]]:
    """All windows in one run (and no per-category tests) where the runner takes a list."""
    defaults = runners.repeat_locations.REPEAT_DEFAULTS
    if "windows_days" not in defaults:
        return [{"window_days": w} for w in WINDOWS]
    params: dict[str, Any] = {"windows_days": list(WINDOWS)}
    if "levels" in defaults:
        params["levels"] = list(runner_levels())
    if "by_category" in defaults:
        params["by_category"] = []
    return [params]


def _subject(key: Any) -> tuple[str, Any]:
    """(level, id) of an analysis key: a location id, "location:<id>" or "block:<loc>|<key>"."""
    if isinstance(key, (int, np.integer)):
        return "premise", int(key)
    text = str(key)
    if text.startswith("location:"):
        return "premise", int(text.split(":", 1)[1])
    if text.startswith("block:"):
        return "block", text.split("|", 1)[1]
    raise AssertionError(f"unexpected analysis key {key!r}")


def beacon_window_counts(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, int], dict]:
    """(level, window) -> {subject: (count, previous_count, baseline_count)}, as the runner fed
    the analysis (a spy on the runner module's ``analyse_repeats`` records what it returned)."""
    seen: list[Any] = []
    real = repeat_runner.analyse_repeats

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        seen.append(result)
        return result

    monkeypatch.setattr(repeat_runner, "analyse_repeats", spy)
    for params in runner_parameters():
        runners.repeat_locations.repeat_locations(as_of=AS_OF, agency_id=None, parameters=params)
    out: dict[tuple[str, int], dict] = {}
    for results in seen:
        for window, r in results.items():
            rows = {}
            level = None
            for key, c, p, b in zip(
                r.keys.tolist(), r.count, r.previous_count, r.baseline_count, strict=True
            ):
                level, subject = _subject(key)
                rows[subject] = (int(c), int(p), int(b))
            assert level is not None
            assert (level, int(window)) not in out  # one analysis per level and window
            out[(level, int(window))] = rows
    assert set(out) == {(lv, w) for lv in runner_levels() for w in WINDOWS}
    return out


def beacon_groups() -> dict[str, dict[str, Any]]:
    """level -> {incident number: the Beacon subject its call counts for (None: none)}."""
    calls = list(Call.objects.values_list("external_id", "location_id"))
    groups: dict[str, dict[str, Any]] = {"premise": dict(calls)}
    if "block" in runner_levels():
        places = Location.objects.in_bulk()
        ids = np.array([loc or 0 for _, loc in calls if loc is not None], dtype=np.int64)
        keys = repeat_runner._place_keys("block", ids, places)
        block_of = dict(zip(ids.tolist(), keys.tolist(), strict=True))
        groups["block"] = {
            ext: (_subject(block_of[loc])[1] if loc is not None and block_of[loc] else None)
            for ext, loc in calls
        }
    return groups


def match(
    beacon: dict[str, Any], pandas_of: dict[str, Any]
) -> tuple[dict[Any, set[str]], dict[str, set[Any]]]:
    """Beacon subject -> pandas groups of its calls, and pandas group -> Beacon subjects."""
    groups_of: dict[Any, set[str]] = defaultdict(set)
    subjects_of: dict[str, set[Any]] = defaultdict(set)
    assert set(beacon) == set(pandas_of)  # the same calls were imported
    for incident, subject in beacon.items():
        group = pandas_of[incident]
        assert (subject is None) == (group is None), (incident, subject, group)
        if subject is not None:
            groups_of[subject].add(group)
            subjects_of[group].add(subject)
    return groups_of, subjects_of


def beacon_kind(kind: str) -> str:
    return kind if kind in ("intersection", "block", "range") else "other"


# --- the tests ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_counts_equal_pandas(agency, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need_inputs()
    calls = pandas_calls(SANANTONIO)
    out = beacon_import(tmp_path)
    assert f"imported {len(calls)}," in out
    assert Call.objects.count() == len(calls)
    assert Call.objects.filter(location__isnull=False).count() == calls["place"].notna().sum()

    counts = beacon_window_counts(monkeypatch)
    kinds = dict(Location.objects.values_list("pk", "kind"))
    for level, beacon in beacon_groups().items():
        column = "place" if level == "premise" else "block"
        pandas_of = {
            i: (None if isinstance(g, float) else g)
            for i, g in zip(calls["incident"], calls[column], strict=True)
        }
        groups_of, subjects_of = match(beacon, pandas_of)
        # No pandas group is split over two Beacon subjects.
        assert {g: s for g, s in subjects_of.items() if len(s) > 1} == {}
        # No Beacon subject holds several pandas groups (merges what the rules keep apart).
        merged = {s: sorted(gs) for s, gs in groups_of.items() if len(gs) > 1}
        assert merged == {}, f"{level}: {len(merged)} subjects merge pandas places"
        if level == "premise":
            pandas_kind = dict(zip(calls["place"], calls["kind"], strict=False))
            wrong_kind = {
                s: (kinds[s], pandas_kind[next(iter(gs))])
                for s, gs in groups_of.items()
                if len(gs) == 1 and beacon_kind(kinds[s]) != pandas_kind[next(iter(gs))]
            }
            assert wrong_kind == {}

        for window in WINDOWS:
            expected = pandas_window_counts(calls, column, window)
            got = counts[(level, window)]
            assert set(got) == set(groups_of)  # the runner reads the whole file
            diff = {}
            for subject, groups in groups_of.items():
                part = expected.loc[next(iter(groups))]
                want = tuple(int(part[c]) for c in COUNT_COLUMNS)
                if got[subject] != want:
                    diff[subject] = (got[subject], want)
            assert diff == {}, f"{level}, {window} d: {len(diff)} subjects differ"
            # The comparison has substance: August in every window, the year before it, and
            # July as the previous 28 days (the file holds the first days of each month only).
            count, previous, baseline = np.array(list(got.values())).sum(axis=0)
            assert count > 1_000 and baseline > 100_000, (level, window, count, baseline)
            assert previous > 1_000 or window != 28, (level, window, previous)


def test_no_location_merges_what_the_rules_keep_apart() -> None:
    """Every raw address: Beacon's location key groups exactly as the documented rules do."""
    need_inputs()
    from dispatch.importing.profiles import SanAntonioProfile

    calls = pandas_calls(SANANTONIO)
    located = calls[calls["place"].notna()].drop_duplicates("address")
    profile = SanAntonioProfile()
    key_of = {}
    for address in located["address"]:
        row = {
            "IncidentNumber": "x",
            "ResponseDate": "1767225600000",
            "ProblemType": "x",
            "Category": "",
            "Address": address,
            "LAT": "",
            "LON": "",
        }
        key_of[address] = profile.parse(row, line=1).address_norm.key
    places_by_key: dict[str, set[str]] = defaultdict(set)
    keys_by_place: dict[str, set[str]] = defaultdict(set)
    for address, place in zip(located["address"], located["place"], strict=True):
        places_by_key[key_of[address]].add(place)
        keys_by_place[place].add(key_of[address])
    assert {k: v for k, v in keys_by_place.items() if len(v) > 1} == {}
    merged = {k: sorted(v) for k, v in places_by_key.items() if len(v) > 1}
    assert merged == {}
    # The check has substance: the file holds what the normaliser used to merge - freeway
    # blocks called in on both carriageways, and trails scourgify reads as a city/state.
    sides = located["place"].str.extract(r"^(\d+ BLOCK .+) (NB|SB|EB|WB)$").dropna()
    assert (sides.groupby(0)[1].nunique() > 1).sum() >= 40
    places = set(located["place"])
    assert {"100 SALADO CREEK GREENWAY N", "100 SALADO CREEK GREENWAY S"} <= places
    assert {"5700 BANDERA RD", "5700 BANDERA RD ROW"} <= places
