"""The CAP 1.2 parser on every shared sample, the hostile and broken ones, and edge cases.

Pure: no database. The samples live in ../shared (tests/paths.py); tests skip without them.
"""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from dispatch.alerts import parser
from dispatch.alerts.parser import CapError, parse_alert, pick_info
from tests.dispatch.cap_support import (
    EXPECTED,
    NEGATIVE_EXPECTED,
    SCHEMA,
    all_samples,
    needs_cap,
    negative,
    sample,
)

pytestmark = needs_cap


def test_the_samples_on_disk_are_the_ones_described() -> None:
    assert all_samples() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_valid_sample_parses_with_its_infos_areas_and_shapes(name: str) -> None:
    msg_type, infos, areas, polygons, circles, signed, refs, languages = EXPECTED[name]
    alert = parse_alert(sample(name), schema_path=str(SCHEMA))
    assert alert.msg_type == msg_type
    assert alert.status == "Actual"
    assert len(alert.infos) == infos
    assert [len(i.areas) for i in alert.infos] == areas
    assert sum(len(a.polygons) for i in alert.infos for a in i.areas) == polygons
    assert sum(len(a.circles) for i in alert.infos for a in i.areas) == circles
    assert alert.signed is signed
    assert len(alert.references) == refs
    assert [i.language for i in alert.infos] == languages
    assert alert.sent.tzinfo is not None and alert.sent.utcoffset() == dt.timedelta(0)
    assert alert.identifier in alert.raw  # the document is kept whole


def test_a_polygon_is_lat_lon_pairs_closed() -> None:
    alert = parse_alert(
        sample("oasis-spec-A2_severe-thunderstorm-warning.xml"), schema_path=str(SCHEMA)
    )
    ring = alert.infos[0].areas[0].polygons[0]
    assert ring[0] == ring[-1] and len(ring) >= 4
    assert ring[0] == [38.47, -120.14]


def test_a_circle_is_lat_lon_radius_km() -> None:
    alert = parse_alert(sample("oasis-spec-A3_earthquake.xml"), schema_path=str(SCHEMA))
    assert alert.infos[0].areas[0].circles == [[32.9525, -115.5527, 0.0]]
    assert alert.references == [
        {
            "sender": "trinet@caltech.edu",
            "identifier": "TRI13970876.1",
            "sent": "2003-06-11T20:30:00-07:00",
        }
    ]


def test_iso_8859_1_text_is_decoded() -> None:
    alert = parse_alert(
        sample("usgs_2012-10-14_earthquake_iso8859-1_signed.xml"), schema_path=str(SCHEMA)
    )
    assert "Usulután" in alert.infos[0].headline
    assert "Usulután" in alert.raw  # the stored text is the decoded document


def test_a_prefixed_namespace_reads_like_the_default_one() -> None:
    alert = parse_alert(
        sample("nsw-rfs_2011-10-05_bushfire_cap-prefixed.xml"), schema_path=str(SCHEMA)
    )
    assert alert.identifier == "tag:www.rfs.nsw.gov.au2011-10-06:40184"
    assert alert.infos[0].event == "Fire"


def test_a_signed_alert_validates_and_keeps_its_signature() -> None:
    alert = parse_alert(
        sample("env-canada_2013-01-24_snowfall_signed.xml"), schema_path=str(SCHEMA)
    )
    assert alert.signed
    assert "Signature" in alert.raw


def test_bilingual_infos_and_the_display_language() -> None:
    alert = parse_alert(sample("env-canada_2012-05-02_thunderstorm.xml"), schema_path=str(SCHEMA))
    assert pick_info(alert.infos, "fr").language == "fr-CA"
    assert pick_info(alert.infos, "en").language == "en-CA"
    assert (
        pick_info(alert.infos, "de").language == "en-CA"
    )  # English when the wanted one is missing
    amber = parse_alert(sample("oasis-spec-A4_amber-alert.xml"), schema_path=str(SCHEMA))
    assert pick_info(amber.infos, "es").language == "es-US"


def test_the_large_alert_with_embedded_audio_passes_the_size_cap() -> None:
    data = sample("ipaws_2020-04-24_michigan-state-police_civil-emergency.xml")
    assert 400_000 < len(data) < parser.MAX_BYTES
    assert parse_alert(data, schema_path=str(SCHEMA)).infos[0].event == "Civil Emergency Message"


@pytest.mark.parametrize("name", sorted(NEGATIVE_EXPECTED))
def test_every_negative_sample_is_refused_naming_what_is_wrong(name: str) -> None:
    field, words = NEGATIVE_EXPECTED[name]
    with pytest.raises(CapError) as caught:
        parse_alert(negative(name), schema_path=str(SCHEMA))
    assert caught.value.field == field
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


def test_the_xxe_sample_is_refused_without_touching_network_or_files(monkeypatch) -> None:
    opened: list[object] = []

    def no_connect(self, address):
        opened.append(address)
        raise AssertionError(f"network use: {address}")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: opened.append(a))
    with pytest.raises(CapError) as caught:
        parse_alert(negative("xxe-attack_DO-NOT-RESOLVE-ENTITIES.xml"), schema_path=str(SCHEMA))
    assert opened == []
    assert "root:" not in str(caught.value)


def test_the_parser_itself_never_expands_entities() -> None:
    """Defence in depth: even past the DOCTYPE refusal, lxml is set not to resolve anything."""
    from lxml import etree

    doc = (
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">'
        b'<!ENTITY y "expanded-entity-text">]><a>&x;&y;</a>'
    )
    root = etree.fromstring(doc, parser.xml_parser())
    text = etree.tostring(root, encoding="unicode")
    assert "root:" not in text and "expanded-entity-text" not in "".join(root.itertext())


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (b"", "xml", ["empty"]),
        (b"<alert", "xml", ["well-formed", "line 1"]),
        (b"<not-cap/>", "xml", ["not a CAP 1.2 alert"]),
        (b"<?xml version='1.0'?>\n<!DOCTYPE x>\n<x/>", "xml", ["DOCTYPE"]),
        (b"<a>" + b" " * parser.MAX_BYTES + b"</a>", "xml", ["byte cap"]),
    ],
)
def test_broken_input_is_refused_with_a_reason(data: bytes, field: str, words: list[str]) -> None:
    with pytest.raises(CapError) as caught:
        parse_alert(data, schema_path=str(SCHEMA))
    assert caught.value.field == field
    for word in words:
        assert word in str(caught.value)


def test_without_a_schema_the_structural_rules_still_hold() -> None:
    with pytest.raises(CapError, match="scope is required"):
        parse_alert(negative("invalid_INVALID.xml"))
    with pytest.raises(CapError, match="references is present but empty"):
        parse_alert(negative("env-canada_errors_INVALID.xml"))
    for name in EXPECTED:
        parse_alert(sample(name))


def test_an_update_without_references_is_refused() -> None:
    text = sample("oasis-spec-A3_earthquake.xml").decode()
    start, end = text.index("<references>"), text.index("</references>") + len("</references>")
    with pytest.raises(CapError, match="msgType Update needs references"):
        parse_alert(text[:start] + text[end:], schema_path=str(SCHEMA))


def _replace(name: str, old: str, new: str) -> bytes:
    text = sample(name).decode()
    assert old in text
    return text.replace(old, new, 1).encode()


def test_beacon_rules_need_no_schema_and_name_element_and_line() -> None:
    data = _replace("oasis-spec-A1_homeland-security-advisory.xml", "<urgency>", "<urgency>Now")
    with pytest.raises(CapError) as caught:
        parse_alert(data)
    assert caught.value.field == "urgency" and caught.value.line == 12
    assert "'NowImmediate' is not one of Immediate, Expected, Future, Past, Unknown" in str(
        caught.value
    )


@pytest.mark.parametrize("name", ["identifier", "sender"])
def test_identifier_and_sender_may_not_hold_separators(name: str) -> None:
    """Spec 3.2.1; references are "sender,identifier,sent" triples split on them."""
    text = sample("oasis-spec-A1_homeland-security-advisory.xml").decode()
    start = text.index(f"<{name}>") + len(name) + 2
    with pytest.raises(CapError, match=f"{name} may not contain spaces, commas") as caught:
        parse_alert(text[:start] + "a,b " + text[start:])
    assert caught.value.field == name and caught.value.line is not None


def test_end_of_day_midnight_is_the_next_day() -> None:
    sent = parser.parse_datetime("2026-11-25T24:00:00-05:00", field_name="sent")
    assert sent == dt.datetime(2026, 11, 26, 5, 0, tzinfo=dt.UTC)


def test_a_signature_may_hold_anything_of_its_own_namespace_but_only_at_the_end() -> None:
    name = "env-canada_2013-01-24_snowfall_signed.xml"
    extra = '<ds:Extra xmlns:ds="http://www.w3.org/2000/09/xmldsig#" any="thing"><x/>t</ds:Extra>'
    assert parse_alert(_replace(name, "</alert>", extra + "</alert>")).signed
    with pytest.raises(CapError, match="XML-DSig Extra is only allowed at the end of alert"):
        parse_alert(_replace(name, "</info>", extra + "</info>"))
