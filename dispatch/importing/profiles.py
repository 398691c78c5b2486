"""Import profiles: how the columns of one kind of file become a call.

Each profile is a small class with the columns it needs and one
``parse(row, line=...)`` that returns an :class:`ImportRow` (clean, typed,
times in aware UTC, address already normalised) or a :class:`Rejection` saying
why the row cannot be imported. Pure functions of the row: no database, so
they are tested alone and cost nothing but CPU.

Point policy, by design:

* ``beacon`` is our own exchange format, so a coordinate that is not a number,
  out of WGS84 range, or given without its pair, rejects the row;
* ``sanantonio`` and ``montcopa`` are third-party extracts whose geocoders emit
  known junk (``1.0,-1.0``, points in another county). A point outside the
  profile's service-area box is dropped and the call kept on its address;
  nothing goes to the rejects file, because nothing is wrong with the *call*.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings

from dispatch.addressing import (
    AddressError,
    NormalizedAddress,
    normalize_address,
    normalize_locality,
)
from dispatch.choices import CallSource
from dispatch.geo import valid_point
from dispatch.reference_data import IMPORTED_CATEGORY

UTC = dt.UTC
CODE_MAX = 32
NAME_MAX = 120
CATEGORY_MAX = 64
EXTERNAL_ID_MAX = 64
ADDRESS_MAX = 500
# Imported history may be old, but not from before computer-aided dispatch,
# and not from the future (the same 5-minute tolerance as ``call_create``).
EARLIEST = dt.datetime(1970, 1, 2, tzinfo=UTC)
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One clean row, ready for the batch writer."""

    line: int
    external_id: str
    received_at: dt.datetime
    call_type_code: str
    call_type_name: str
    call_type_category: str
    priority: int | None
    address: str
    address_norm: NormalizedAddress | None
    locality: str
    latitude: float | None
    longitude: float | None
    disposition_code: str = ""
    source: str = CallSource.IMPORT
    closed_at: dt.datetime | None = None
    postal_code: str = ""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that cannot be imported, and why (shown to the operator as is)."""

    line: int
    reason: str
    external_id: str = ""


class RowError(ValueError):
    """Raised inside ``parse`` helpers; becomes a :class:`Rejection` with its message."""


# --- helpers shared by the profiles --------------------------------------------------

_SLUG_RE = re.compile(r"[^A-Z0-9]+")


def type_code(name: str) -> str:
    """A call-type code from a source's type name: upper-case slug, at most 32 characters.

    A name too long for the column keeps its first 27 characters plus a short
    hash of the whole name, so two long names that share a prefix stay two codes,
    and the same name always maps to the same code on every import.
    """
    slug = _SLUG_RE.sub("-", name.upper()).strip("-") or "UNKNOWN"
    if len(slug) <= CODE_MAX:
        return slug
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:4].upper()
    return f"{slug[: CODE_MAX - 5].rstrip('-')}-{digest}"


def _future_limit() -> dt.datetime:
    return dt.datetime.now(UTC) + FUTURE_TOLERANCE


def _check_time(value: dt.datetime, column: str) -> dt.datetime:
    value = value.astimezone(UTC)
    if value < EARLIEST:
        raise RowError(f"{column}: {value:%Y-%m-%d} is before 1970.")
    if value > _future_limit():
        raise RowError(f"{column}: {value.isoformat()} is in the future.")
    return value


def parse_iso_aware(text: str, column: str) -> dt.datetime:
    """An ISO 8601 time with a UTC offset; a time without one is refused, not guessed."""
    text = text.strip()
    if not text:
        raise RowError(f"{column} is empty.")
    try:
        value = dt.datetime.fromisoformat(
            text.replace("Z", "+00:00", 1) if text.endswith("Z") else text
        )
    except ValueError:
        raise RowError(f"{column}: {text[:40]!r} is not an ISO 8601 date-time.") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise RowError(f"{column}: {text[:40]!r} has no UTC offset (e.g. +00:00).")
    return _check_time(value, column)


def parse_float(text: str, column: str) -> float | None:
    """A finite decimal number, or None for an empty cell."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise RowError(f"{column}: {text[:40]!r} is not a number.") from None
    if not math.isfinite(value):
        raise RowError(f"{column}: {text[:40]!r} is not a finite number.")
    return value


def normalize_or_reject(address: str) -> NormalizedAddress | None:
    """The normalised address, None for a blank one; unusable text rejects the row."""
    if not address.strip():
        return None
    if len(address) > ADDRESS_MAX:
        raise RowError(f"address is longer than {ADDRESS_MAX} characters.")
    try:
        return normalize_address(address)
    except AddressError as exc:
        raise RowError(f"address: {exc}") from None


@dataclass(frozen=True, slots=True)
class Box:
    """A service-area bounding box; points outside are geocoder junk for that source."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


class Profile:
    """Base class: the columns a file must have and how a row becomes an :class:`ImportRow`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    required_columns: ClassVar[tuple[str, ...]] = ()
    time_zone_name: ClassVar[str] = "UTC"

    @property
    def time_zone(self) -> ZoneInfo:
        """The zone whose local year numbers the calls (``2026-000123``)."""
        return ZoneInfo(self.time_zone_name)

    def missing_columns(self, header: list[str]) -> list[str]:
        """Required columns absent from ``header`` (empty when the file fits this profile)."""
        present = set(header)
        return [c for c in self.required_columns if c not in present]

    def parse(self, row: Mapping[str, str], *, line: int) -> ImportRow | Rejection:
        """Turn one CSV row into an :class:`ImportRow`, or say why not."""
        try:
            return self._parse(row, line)
        except RowError as exc:
            return Rejection(line=line, reason=str(exc), external_id=self._id_for_report(row))

    def _parse(self, row: Mapping[str, str], line: int) -> ImportRow:
        raise NotImplementedError

    def _id_for_report(self, row: Mapping[str, str]) -> str:
        return ""


class BeaconProfile(Profile):
    """Beacon's generic exchange format (what ``export`` writes and other CADs can produce)."""

    name = "beacon"
    description = (
        "external_id, received_at (ISO 8601 with offset), call_type, priority, address, latitude, "
        "longitude; optional: disposition, source, locality, closed_at"
    )
    required_columns = (
        "external_id",
        "received_at",
        "call_type",
        "priority",
        "address",
        "latitude",
        "longitude",
    )

    @property
    def time_zone(self) -> ZoneInfo:
        return ZoneInfo(settings.BEACON_TIME_ZONE)

    def _id_for_report(self, row: Mapping[str, str]) -> str:
        return (row.get("external_id") or "").strip()[:EXTERNAL_ID_MAX]

    def _parse(self, row: Mapping[str, str], line: int) -> ImportRow:
        external_id = row["external_id"].strip()
        if not external_id:
            raise RowError("external_id is empty.")
        if len(external_id) > EXTERNAL_ID_MAX:
            raise RowError(f"external_id is longer than {EXTERNAL_ID_MAX} characters.")
        received_at = parse_iso_aware(row["received_at"], "received_at")
        closed_text = (row.get("closed_at") or "").strip()
        closed_at = parse_iso_aware(closed_text, "closed_at") if closed_text else None
        if closed_at is not None and closed_at < received_at:
            raise RowError("closed_at is before received_at.")

        code = row["call_type"].strip().upper()
        if not code:
            raise RowError("call_type is empty.")
        if len(code) > CODE_MAX:
            raise RowError(f"call_type is longer than {CODE_MAX} characters.")

        priority_text = row["priority"].strip()
        priority = None
        if priority_text:
            if not priority_text.isdigit() or not 1 <= int(priority_text) <= 5:
                raise RowError(
                    f"priority: {priority_text[:20]!r} is not a whole number from 1 to 5."
                )
            priority = int(priority_text)

        lat = parse_float(row["latitude"], "latitude")
        lon = parse_float(row["longitude"], "longitude")
        if (lat is None) != (lon is None):
            raise RowError("Give both latitude and longitude, or neither.")
        if lat is not None and not valid_point(lat, lon):
            raise RowError(f"latitude/longitude {lat},{lon} is not a valid WGS84 point.")
        address = row["address"].strip()
        norm = normalize_or_reject(address)
        if norm is None and lat is None:
            raise RowError("No address and no point: the call cannot be placed.")

        disposition = (row.get("disposition") or "").strip().upper()
        if len(disposition) > CODE_MAX:
            raise RowError(f"disposition is longer than {CODE_MAX} characters.")
        source = (row.get("source") or "").strip().lower() or CallSource.IMPORT
        if source not in CallSource.values:
            raise RowError(f"source: {source[:20]!r} is not one of {', '.join(CallSource.values)}.")
        return ImportRow(
            line=line,
            external_id=external_id,
            received_at=received_at,
            call_type_code=code,
            call_type_name=code,
            call_type_category=IMPORTED_CATEGORY,
            priority=priority,
            address=address,
            address_norm=norm,
            locality=normalize_locality(row.get("locality")),
            latitude=lat,
            longitude=lon,
            disposition_code=disposition,
            source=source,
            closed_at=closed_at,
        )


class SanAntonioProfile(Profile):
    """SAPD calls for service (``sa-sapd-calls-mirror``): see /work/shared/data/cfs/README.md."""

    name = "sanantonio"
    description = "SAPD CFS: IncidentNumber, ResponseDate (epoch ms UTC), ProblemType, Category, Address, LAT, LON"
    required_columns = (
        "IncidentNumber",
        "ResponseDate",
        "ProblemType",
        "Category",
        "Address",
        "LAT",
        "LON",
    )
    time_zone_name = "America/Chicago"
    # Bexar County and its neighbours, generously: SAPD's area plus the edges.
    area = Box(south=28.6, west=-99.4, north=30.2, east=-97.6)

    def _id_for_report(self, row: Mapping[str, str]) -> str:
        return (row.get("IncidentNumber") or "").strip()[:EXTERNAL_ID_MAX]

    def _parse(self, row: Mapping[str, str], line: int) -> ImportRow:
        external_id = row["IncidentNumber"].strip()
        if not external_id:
            raise RowError("IncidentNumber is empty: the row cannot be told apart on re-import.")
        if len(external_id) > EXTERNAL_ID_MAX:
            raise RowError(f"IncidentNumber is longer than {EXTERNAL_ID_MAX} characters.")
        # ResponseDate (epoch ms, UTC) is authoritative; the Time column loses AM/PM.
        millis = row["ResponseDate"].strip()
        if not millis.lstrip("-").isdigit():
            raise RowError(f"ResponseDate: {millis[:40]!r} is not epoch milliseconds.")
        try:
            received_at = dt.datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise RowError(f"ResponseDate: {millis[:40]!r} is out of range.") from None
        received_at = _check_time(received_at, "ResponseDate")

        problem = row["ProblemType"].strip()
        if not problem:
            raise RowError("ProblemType is empty.")
        lat, lon = self._point(row)
        address = row["Address"].strip()
        norm = normalize_or_reject(address)
        if norm is None and lat is None:
            raise RowError("No address and no point: the call cannot be placed.")
        return ImportRow(
            line=line,
            external_id=external_id,
            received_at=received_at,
            call_type_code=type_code(problem),
            call_type_name=problem[:NAME_MAX],
            call_type_category=(row["Category"].strip() or IMPORTED_CATEGORY)[:CATEGORY_MAX],
            priority=None,
            address=address,
            address_norm=norm,
            locality="",
            latitude=lat,
            longitude=lon,
            postal_code=(row.get("Zipcode") or "").strip()[:10],
        )

    def _point(self, row: Mapping[str, str]) -> tuple[float | None, float | None]:
        try:
            lat, lon = parse_float(row["LAT"], "LAT"), parse_float(row["LON"], "LON")
        except RowError:
            return None, None
        if (
            lat is None
            or lon is None
            or not valid_point(lat, lon)
            or not self.area.contains(lat, lon)
        ):
            return None, None
        return lat, lon


_DESC_TIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2}) @ (\d{2}:\d{2}:\d{2})")


class MontgomeryCountyProfile(SanAntonioProfile):
    """Montgomery County PA 911 alerts (Kaggle ``montcoalert``): see /work/shared/data/cfs/README.md."""

    name = "montcopa"
    description = "Montgomery County PA 911: lat, lng, desc, title, timeStamp, twp, addr"
    required_columns = ("lat", "lng", "desc", "title", "timeStamp", "twp", "addr")
    time_zone_name = "America/New_York"
    # The county and its border townships; rows geocoded to central PA are dropped.
    area = Box(south=39.7, west=-76.1, north=40.7, east=-74.7)

    @staticmethod
    def external_id(row: Mapping[str, str]) -> str:
        """A stable id: the file has none. Exact duplicate rows get the same one, on purpose."""
        raw = "\x1f".join(row[c] for c in ("lat", "lng", "desc", "title", "timeStamp"))
        return "montcopa-" + hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()

    def _id_for_report(self, row: Mapping[str, str]) -> str:
        try:
            return self.external_id(row)
        except KeyError:
            return ""

    def _received_at(self, row: Mapping[str, str]) -> dt.datetime:
        # The time inside desc is the dispatch time; timeStamp is when the alert
        # went out (a median 3.5 minutes later), so it is only the fallback.
        match = _DESC_TIME_RE.search(row["desc"])
        text = f"{match.group(1)} {match.group(2)}" if match else row["timeStamp"].strip()
        column = "desc" if match else "timeStamp"
        try:
            local = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 zone set below
        except ValueError:
            raise RowError(f"{column}: {text[:40]!r} has no YYYY-MM-DD HH:MM:SS time.") from None
        return _check_time(local.replace(tzinfo=self.time_zone), column)

    def _parse(self, row: Mapping[str, str], line: int) -> ImportRow:
        title = row["title"].strip()
        if not title:
            raise RowError("title is empty.")
        category, _, _ = title.partition(":")
        received_at = self._received_at(row)
        lat, lon = self._point(row)
        address = row["addr"].strip()
        norm = normalize_or_reject(address)
        if norm is None and lat is None:
            raise RowError("No address and no point: the call cannot be placed.")
        return ImportRow(
            line=line,
            external_id=self.external_id(row),
            received_at=received_at,
            call_type_code=type_code(title),
            call_type_name=title[:NAME_MAX],
            call_type_category=(category.strip() if ":" in title else IMPORTED_CATEGORY)[
                :CATEGORY_MAX
            ],
            priority=None,
            address=address,
            address_norm=norm,
            locality=normalize_locality(row["twp"]),
            latitude=lat,
            longitude=lon,
            postal_code=(row.get("zip") or "").strip()[:10],
        )

    def _point(self, row: Mapping[str, str]) -> tuple[float | None, float | None]:
        return super()._point({"LAT": row["lat"], "LON": row["lng"]})


PROFILES: dict[str, type[Profile]] = {
    p.name: p for p in (BeaconProfile, SanAntonioProfile, MontgomeryCountyProfile)
}


def profile_get(name: str) -> Profile:
    """The profile called ``name``; ``KeyError`` lists the known ones."""
    try:
        return PROFILES[name]()
    except KeyError:
        raise KeyError(f"Unknown profile {name!r}; use one of {', '.join(PROFILES)}.") from None
