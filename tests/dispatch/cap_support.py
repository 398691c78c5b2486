"""The shared CAP 1.2 samples (../shared/data/cap) and what each one holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.paths import CAP_DIR

SCHEMA = CAP_DIR / "schema" / "CAP-v1.2.xsd"
NEGATIVE = CAP_DIR / "negative"

# file -> (msgType, infos, areas per info, polygons, circles, signed, references, languages)
EXPECTED: dict[str, tuple[str, int, list[int], int, int, bool, int, list[str]]] = {
    "env-canada_2012-05-02_thunderstorm.xml": ("Update", 2, [2, 2], 4, 0, False, 2, ["en-CA", "fr-CA"]),
    "env-canada_2013-01-24_snowfall_signed.xml": ("Update", 2, [2, 2], 4, 0, True, 9, ["en-CA", "fr-CA"]),
    "google-validator-example_homeland-security.xml": ("Alert", 1, [1], 0, 0, False, 0, ["en-US"]),
    "google-validator-example_thunderstorm.xml": ("Alert", 1, [1], 1, 0, False, 0, ["en-US"]),
    "ipaws_2019-01-04_cresa-admin-message_with-audio.xml": ("Alert", 1, [1], 0, 0, True, 0, ["en-US"]),
    "ipaws_2019-04-19_nevada-dps_cancel.xml": ("Cancel", 0, [], 0, 0, True, 1, []),
    "ipaws_2019-05-30_puerto-rico_required-monthly-test.xml": ("Alert", 1, [1], 0, 0, True, 0, ["en-US"]),
    "ipaws_2019-12-13_montgomery-county-md_police-search.xml": ("Alert", 1, [1], 1, 0, True, 0, ["en-US"]),
    "ipaws_2020-04-24_michigan-state-police_civil-emergency.xml": ("Alert", 1, [1], 0, 0, True, 0, ["en-US"]),
    "noaa-wcatwc_2011-09-02_tsunami-warning.xml": ("Update", 1, [1], 0, 0, False, 1, ["en-US"]),
    "noaa-wcatwc_2013-01-05_tsunami-cancellation_signed.xml": ("Update", 1, [1], 0, 1, True, 3, ["en-US"]),
    "nsw-rfs_2011-10-05_bushfire_cap-prefixed.xml": ("Alert", 2, [1, 1], 0, 2, False, 0, ["en-AU", "en-AU"]),
    "oasis-spec-A1_homeland-security-advisory.xml": ("Alert", 1, [1], 0, 0, False, 0, ["en-US"]),
    "oasis-spec-A2_severe-thunderstorm-warning.xml": ("Alert", 1, [1], 1, 0, False, 0, ["en-US"]),
    "oasis-spec-A3_earthquake.xml": ("Update", 1, [1], 0, 1, False, 1, ["en-US"]),
    "oasis-spec-A4_amber-alert.xml": ("Alert", 2, [1, 1], 0, 0, False, 0, ["en-US", "es-US"]),
    "usgs_2012-10-14_earthquake_iso8859-1_signed.xml": ("Alert", 1, [1], 0, 1, True, 0, ["en-US"]),
}  # fmt: skip

# file -> (field named, words the reason must contain)
NEGATIVE_EXPECTED: dict[str, tuple[str, list[str]]] = {
    "env-canada_errors_INVALID.xml": ("references", ["references", "empty", "line 12"]),
    "invalid_INVALID.xml": ("scope", ["line 9", "alert: scope is required (missing before info)"]),
    "xxe-attack_DO-NOT-RESOLVE-ENTITIES.xml": ("xml", ["DOCTYPE", "entity"]),
}

needs_cap = pytest.mark.skipif(
    not SCHEMA.is_file(), reason=f"shared CAP samples not found at {CAP_DIR}"
)


def sample(name: str) -> bytes:
    return (CAP_DIR / name).read_bytes()


def negative(name: str) -> bytes:
    return (NEGATIVE / name).read_bytes()


def all_samples() -> list[str]:
    """Every top-level sample on disk (the test checks they are exactly the expected ones)."""
    if not CAP_DIR.is_dir():
        return []
    return sorted(p.name for p in Path(CAP_DIR).glob("*.xml"))
