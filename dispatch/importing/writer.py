"""The batched write path of the historical import: many rows per query, one transaction per batch.

``call_create`` costs about a dozen queries per call (checks, location
get-or-create, number counter, insert, timeline event, realtime push), which
is hours for a 200k-row history. This path writes the *same* rows in bulk:

* per batch: one query for external ids already present (re-imports skip
  them), one or two for missing call types / dispositions / locations, one
  number allocation per local year, one ``bulk_create`` of the calls;
* locations are cached for the whole run (key -> id and point), so a place
  seen 700 times is looked up once; a new location keeps the first valid point
  seen for it, like ``location_resolve``;
* a call without a point takes its location's point, like ``call_create``;
* the batch is one transaction: a failure leaves nothing of that batch behind,
  and the in-memory caches are only updated once it has committed.

Imported calls are historical and terminal: status ``closed``, closed at the
source's close time or, when the source has none, at ``received_at``. No
``CallEvent`` "created" is written for them: the timeline of a closed
historical call would double the largest table for no reader (nobody replays a
call from 2015), and the call's own timestamps already say all the source knew.
Imported calls are not pushed to consoles either: they are not live work.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connections, router, transaction
from django.db.models import DateTimeField, Model
from django.utils import timezone

from dispatch.choices import CallStatus
from dispatch.geo import h3_cells
from dispatch.importing.profiles import ImportRow, Profile, Rejection
from dispatch.importing.reader import RawRow
from dispatch.models import Call, CallType, Disposition, Location
from dispatch.services import call_numbers_allocate
from governance import audit
from governance.choices import AuditAction
from governance.models import Agency

DEFAULT_BATCH_SIZE = 5_000
IMPORTED_DEFAULT_PRIORITY = 3

LocationKey = tuple[str, str]  # (address_key, locality)
# The Call fields the import sets; every other field gets its model default.
CALL_COLUMNS = (
    "agency_id",
    "number",
    "external_id",
    "call_type_id",
    "priority",
    "status",
    "source",
    "disposition_id",
    "location_id",
    "address_given",
    "received_at",
    "closed_at",
    "latitude",
    "longitude",
    "h3_r7",
    "h3_r9",
    "h3_r11",
)
LOCATION_COLUMNS = (
    "address_key",
    "locality",
    "display_address",
    "raw_address",
    "kind",
    "street_line",
    "unit_designator",
    "postal_code",
    "latitude",
    "longitude",
    "h3_r7",
    "h3_r9",
    "h3_r11",
)


@dataclass
class ImportStats:
    """Counts for one run; ``rows_per_second`` covers reading, parsing and writing."""

    read: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    locations_created: int = 0
    call_types_created: int = 0
    dispositions_created: int = 0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Place:
    id: int
    latitude: float | None
    longitude: float | None


@dataclass
class _BatchResult:
    imported: int = 0
    skipped: int = 0
    places: dict[LocationKey, _Place] = field(default_factory=dict)
    call_types: dict[str, tuple[int, int]] = field(default_factory=dict)
    dispositions: dict[str, int] = field(default_factory=dict)
    locations_created: int = 0
    call_types_created: int = 0
    dispositions_created: int = 0


class _Inserter:
    """Insert many rows of one model with one statement: ``executemany`` or PostgreSQL ``COPY``.

    ``bulk_create`` spends most of an import compiling SQL: on SQLite it may
    bind only 999 parameters per statement (28 calls), and it prepares every
    value of every field through the field API. Here the statement is built
    once from the model's own fields, values of fields the caller does not set
    come from the field's default (``auto_now`` fields: the batch's time), and
    aware datetimes go through the backend's own adapter, so the rows are the
    ones ``bulk_create`` would write.
    """

    def __init__(self, model: type[Model], explicit: Sequence[str]) -> None:
        self.connection = connections[router.db_for_write(model)]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        by_attname = {f.attname: f for f in fields}
        unknown = set(explicit) - set(by_attname)
        if unknown:
            raise ValueError(f"{model.__name__} has no field(s) {sorted(unknown)}")
        now = timezone.now()
        self.explicit = list(explicit)
        self.datetimes = [
            i for i, name in enumerate(self.explicit) if isinstance(by_attname[name], DateTimeField)
        ]
        fixed = []
        for f in fields:
            if f.attname in by_attname and f.attname not in self.explicit:
                auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                value = now if auto else f.get_default()
                fixed.append((f.column, f.get_db_prep_save(value, self.connection)))
        quote = self.connection.ops.quote_name
        columns = [by_attname[n].column for n in self.explicit] + [c for c, _ in fixed]
        self.fixed_values = tuple(v for _, v in fixed)
        self.table = quote(model._meta.db_table)
        self.column_sql = ", ".join(quote(c) for c in columns)

    def _params(self, rows: Iterable[Sequence[object]]) -> list[tuple[object, ...]]:
        adapt = self.connection.ops.adapt_datetimefield_value
        out = []
        for row in rows:
            values = list(row)
            for i in self.datetimes:
                values[i] = adapt(values[i])
            out.append((*values, *self.fixed_values))
        return out

    def insert(self, rows: Sequence[Sequence[object]], *, ignore_conflicts: bool = False) -> None:
        """Insert ``rows`` (values in the order of ``explicit``) in the current transaction."""
        if not rows:
            return
        params = self._params(rows)
        width = len(params[0])
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql" and not ignore_conflicts:
                # COPY is several times faster than even pipelined INSERTs.
                sql = f"COPY {self.table} ({self.column_sql}) FROM STDIN"
                with self.connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                    for values in params:
                        copy.write_row(values)
                return
            placeholders = ", ".join(["%s"] * width)
            conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
            # Table and column names come from the model, never from the file.
            cursor.executemany(
                f"INSERT INTO {self.table} ({self.column_sql}) VALUES ({placeholders}){conflict}",  # noqa: S608  # nosec B608
                params,
            )


class BatchWriter:
    """Writes :class:`ImportRow` batches for one agency, caching reference rows for the run."""

    def __init__(self, *, agency: Agency, time_zone: ZoneInfo) -> None:
        self.agency = agency
        self.time_zone = time_zone
        self.places: dict[LocationKey, _Place] = {}
        self.call_types: dict[str, tuple[int, int]] = {}  # code -> (id, default priority)
        self.dispositions: dict[str, int] = {}

    def write(self, rows: Sequence[ImportRow], stats: ImportStats) -> None:
        """Write one batch in one transaction (retried once if a concurrent import collided)."""
        if not rows:
            return
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    result = self._write(rows)
                break
            except IntegrityError:
                # Another import committed some of the same ids or places between
                # our checks and our insert. Everything of this batch rolled
                # back; the second pass sees their rows and skips or reuses them.
                if attempt == 2:
                    raise
        self.places.update(result.places)
        self.call_types.update(result.call_types)
        self.dispositions.update(result.dispositions)
        stats.imported += result.imported
        stats.skipped += result.skipped
        stats.locations_created += result.locations_created
        stats.call_types_created += result.call_types_created
        stats.dispositions_created += result.dispositions_created

    # --- one batch, inside its transaction ----------------------------------------------

    def _write(self, rows: Sequence[ImportRow]) -> _BatchResult:
        result = _BatchResult()
        present = set(
            Call.objects.filter(
                agency=self.agency, external_id__in=[r.external_id for r in rows]
            ).values_list("external_id", flat=True)
        )
        fresh = [r for r in rows if r.external_id not in present]
        result.skipped = len(rows) - len(fresh)
        if not fresh:
            return result
        types = self._call_types(fresh, result)
        dispositions = self._dispositions(fresh, result)
        places = self._places(fresh, result)
        numbers = self._numbers(fresh)

        calls = []
        for row, number in zip(fresh, numbers, strict=True):
            place = places.get((row.address_norm.key, row.locality)) if row.address_norm else None
            lat, lon = row.latitude, row.longitude
            if lat is None and place is not None:
                lat, lon = place.latitude, place.longitude
            type_id, type_priority = types[row.call_type_code]
            cells = h3_cells(lat, lon)
            calls.append(
                (
                    self.agency.pk,
                    number,
                    row.external_id,
                    type_id,
                    row.priority or type_priority,
                    CallStatus.CLOSED.value,
                    str(row.source),
                    dispositions.get(row.disposition_code),
                    place.id if place else None,
                    row.address[:500],
                    row.received_at,
                    row.closed_at or row.received_at,
                    lat,
                    lon,
                    cells["h3_r7"],
                    cells["h3_r9"],
                    cells["h3_r11"],
                )
            )
        _Inserter(Call, CALL_COLUMNS).insert(calls)
        result.imported = len(calls)
        return result

    def _call_types(
        self, rows: Iterable[ImportRow], result: _BatchResult
    ) -> dict[str, tuple[int, int]]:
        wanted: dict[str, ImportRow] = {}
        for row in rows:
            if row.call_type_code not in self.call_types:
                wanted.setdefault(row.call_type_code, row)
        if wanted:
            found = self._load_call_types(wanted)
            missing = [row for code, row in wanted.items() if code not in found]
            if missing:
                CallType.objects.bulk_create(
                    [
                        CallType(
                            code=row.call_type_code,
                            name=row.call_type_name,
                            category=row.call_type_category,
                            default_priority=row.priority or IMPORTED_DEFAULT_PRIORITY,
                        )
                        for row in missing
                    ],
                    ignore_conflicts=True,
                )
                result.call_types_created += len(missing)
                found = self._load_call_types(wanted)
            result.call_types = found
        return {**self.call_types, **result.call_types}

    @staticmethod
    def _load_call_types(codes: Iterable[str]) -> dict[str, tuple[int, int]]:
        return {
            code: (pk, prio)
            for pk, code, prio in CallType.objects.filter(code__in=list(codes)).values_list(
                "pk", "code", "default_priority"
            )
        }

    def _dispositions(self, rows: Iterable[ImportRow], result: _BatchResult) -> dict[str, int]:
        wanted = {r.disposition_code for r in rows if r.disposition_code} - set(self.dispositions)
        if wanted:
            found = dict(Disposition.objects.filter(code__in=wanted).values_list("code", "pk"))
            missing = sorted(wanted - set(found))
            if missing:
                Disposition.objects.bulk_create(
                    [Disposition(code=code, name=code) for code in missing], ignore_conflicts=True
                )
                result.dispositions_created += len(missing)
                found = dict(Disposition.objects.filter(code__in=wanted).values_list("code", "pk"))
            result.dispositions = found
        return {**self.dispositions, **result.dispositions}

    def _places(self, rows: Iterable[ImportRow], result: _BatchResult) -> dict[LocationKey, _Place]:
        # The first row of the batch for each new place, and the first valid point for it.
        first_row: dict[LocationKey, ImportRow] = {}
        first_point: dict[LocationKey, tuple[float, float]] = {}
        for row in rows:
            if row.address_norm is None:
                continue
            key = (row.address_norm.key, row.locality)
            first_row.setdefault(key, row)
            if row.latitude is not None and key not in first_point:
                first_point[key] = (row.latitude, row.longitude)  # type: ignore[assignment]
        places = {k: p for k, p in ((k, self.places.get(k)) for k in first_row) if p is not None}
        unknown = [k for k in first_row if k not in places]
        if unknown:
            loaded = self._load_places(unknown)
            missing = [k for k in unknown if k not in loaded]
            if missing:
                # ON CONFLICT DO NOTHING: a concurrent import may create the same place.
                _Inserter(Location, LOCATION_COLUMNS).insert(
                    [self._new_location(first_row[k], first_point.get(k)) for k in missing],
                    ignore_conflicts=True,
                )
                result.locations_created += len(missing)
                loaded.update(self._load_places(missing))
            places.update(loaded)
            result.places.update(loaded)
        # A place known without a point gets the first point seen for it (as
        # location_resolve does); the condition keeps a concurrent fill intact.
        for key, place in list(places.items()):
            if place.latitude is None and key in first_point:
                lat, lon = first_point[key]
                Location.objects.filter(pk=place.id, latitude__isnull=True).update(
                    latitude=lat, longitude=lon, **h3_cells(lat, lon)
                )
                places[key] = result.places[key] = _Place(place.id, lat, lon)
        return places

    @staticmethod
    def _load_places(keys: Sequence[LocationKey]) -> dict[LocationKey, _Place]:
        wanted = set(keys)
        found: dict[LocationKey, _Place] = {}
        rows = Location.objects.filter(address_key__in={k for k, _ in wanted}).values_list(
            "pk", "address_key", "locality", "latitude", "longitude"
        )
        for pk, address_key, locality, lat, lon in rows:
            if (address_key, locality) in wanted:
                found[(address_key, locality)] = _Place(pk, lat, lon)
        return found

    @staticmethod
    def _new_location(row: ImportRow, point: tuple[float, float] | None) -> tuple[object, ...]:
        norm = row.address_norm
        assert norm is not None  # noqa: S101 only rows with an address get here
        lat, lon = point if point else (None, None)
        cells = h3_cells(lat, lon)
        return (
            norm.key,
            row.locality,
            norm.display[:255],
            row.address[:500],
            norm.kind,
            norm.street_line[:255],
            norm.unit[:32],
            row.postal_code,
            lat,
            lon,
            cells["h3_r7"],
            cells["h3_r9"],
            cells["h3_r11"],
        )

    def _numbers(self, rows: Sequence[ImportRow]) -> list[str]:
        # Numbered by the local year the call was received in, like call_create.
        by_year: dict[int, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            by_year[row.received_at.astimezone(self.time_zone).year].append(i)
        numbers = [""] * len(rows)
        for year in sorted(by_year):
            indexes = by_year[year]
            for i, number in zip(
                indexes, call_numbers_allocate(year=year, count=len(indexes)), strict=True
            ):
                numbers[i] = number
        return numbers


RejectSink = Callable[[Rejection, RawRow], None]


def calls_import(
    *,
    agency: Agency,
    profile: Profile,
    rows: Iterable[RawRow],
    on_reject: RejectSink,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    source: str = "",
    actor: Any = None,
) -> ImportStats:
    """Import parsed CSV rows as closed historical calls of ``agency``; return the counts.

    Rows the profile rejects, rows that cannot be read, and second occurrences
    of an external id within the file go to ``on_reject`` with their line;
    rows whose external id the agency already has are skipped (re-import).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    with _bulk_session():
        stats = _import(
            agency=agency,
            profile=profile,
            rows=rows,
            on_reject=on_reject,
            batch_size=batch_size,
            progress=progress,
        )
    # One summary event per import, never one per row: the chain lock would serialise a
    # million-row import behind a million appends. Written after the last batch commits (batches
    # commit one by one), so an import that crashes part-way leaves its calls without this event;
    # they still carry ``external_id`` and no ``created_by``, which marks them as imported.
    audit.record(
        action=AuditAction.CREATE,
        actor=actor,
        actor_username="" if actor is not None else "system:import_calls",
        object_type="dispatch.call",
        object_label=f"CSV import {source}"[:200].strip(),
        agency_id=agency.pk,
        details={
            "import": True,
            "source": source,
            "profile": getattr(profile, "name", type(profile).__name__),
            "read": stats.read,
            "imported": stats.imported,
            "skipped": stats.skipped,
            "rejected": stats.rejected,
            "locations_created": stats.locations_created,
            "call_types_created": stats.call_types_created,
            "dispositions_created": stats.dispositions_created,
        },
    )
    return stats


SQLITE_IMPORT_CACHE_KIB = 65_536


@contextmanager
def _bulk_session() -> Iterator[None]:
    """Give SQLite a bigger page cache while importing, and restore it afterwards.

    Every call updates a dozen indexes at random places (H3 cells, numbers,
    external ids); with SQLite's default 2 MB cache most of that is re-reading
    pages. PostgreSQL sizes its buffers server-side, so it is left alone.
    """
    connection = connections[router.db_for_write(Call)]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _import(
    *,
    agency: Agency,
    profile: Profile,
    rows: Iterable[RawRow],
    on_reject: RejectSink,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> ImportStats:
    writer = BatchWriter(agency=agency, time_zone=profile.time_zone)
    stats = ImportStats()
    first_line: dict[str, int] = {}
    batch: list[ImportRow] = []
    started = time.perf_counter()
    since_progress = 0

    def reject(rejection: Rejection, raw: RawRow) -> None:
        stats.rejected += 1
        on_reject(rejection, raw)

    for raw in rows:
        stats.read += 1
        since_progress += 1
        if raw.error:
            reject(Rejection(line=raw.line, reason=raw.error), raw)
            continue
        parsed = profile.parse(raw.values, line=raw.line)
        if isinstance(parsed, Rejection):
            reject(parsed, raw)
            continue
        seen = first_line.setdefault(parsed.external_id, raw.line)
        if seen != raw.line:
            reason = f"Duplicate external id {parsed.external_id!r}: first seen on line {seen}."
            reject(Rejection(line=raw.line, reason=reason, external_id=parsed.external_id), raw)
            continue
        batch.append(parsed)
        if len(batch) >= batch_size:
            writer.write(batch, stats)
            batch = []
            if progress:
                progress(since_progress)
                since_progress = 0
    writer.write(batch, stats)
    if progress and since_progress:
        progress(since_progress)
    stats.seconds = time.perf_counter() - started
    return stats
