"""Beacon's own CAP 1.2 rules against the OASIS schema, mutant by mutant.

Several hundred deterministic mutants of the 17 shared samples (tests/dispatch/cap_mutants.py):
for each, ``parse_alert`` without the schema (Beacon's rules only) and the OASIS XSD
(libxml2) must agree on accept or reject. Pure: no database. Skips without the shared data.
"""

from __future__ import annotations

import functools
from collections import Counter

import pytest
from lxml import etree

from dispatch.alerts.parser import CapError, parse_alert
from tests.dispatch.cap_mutants import Mutant, mutants
from tests.dispatch.cap_support import CAP_DIR, EXPECTED, SCHEMA, needs_cap

pytestmark = needs_cap

# Mutants where Beacon refuses what the schema accepts, on purpose (label -> field Beacon names).
STRICTER = {
    # CAP 1.2 section 3.2.1: an Update (Cancel, Ack, Error) names the messages it acts on; the
    # schema cannot tie references to msgType. This mutant drops references from an Update.
    "drop alert/references": "references",
    # The schema's sequence puts the XML-DSig wildcard after the last info, and so does Beacon;
    # libxml2 lets a signature and info blocks interleave (its content automaton is lax there).
    "Signature before the last info": "info",
}


@functools.cache
def corpus() -> tuple[Mutant, ...]:
    """The mutants of every sample, smallest sample first, each place mutated once."""
    seen: set[str] = set()
    names = sorted(EXPECTED, key=lambda name: ((CAP_DIR / name).stat().st_size, name))
    return tuple(m for name in names for m in mutants((CAP_DIR / name).read_bytes(), seen))


@functools.cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def schema_accepts(m: Mutant) -> bool:
    return schema().validate(etree.fromstring(m.data).getroottree())


def beacon_verdict(m: Mutant) -> CapError | None:
    try:
        parse_alert(m.data)
    except CapError as exc:
        return exc
    return None


def test_the_corpus_is_large_varied_and_deterministic() -> None:
    kinds = Counter(m.kind for m in corpus())
    assert len(corpus()) >= 400
    wanted = ("drop", "duplicate", "swap", "unknown", "foreign", "attribute", "enum",
              "datetime", "datetime-valid", "number", "number-valid", "uri", "language")  # fmt: skip
    assert [kind for kind in wanted if not kinds[kind]] == []
    first = [(m.label, m.data) for m in corpus()]
    corpus.cache_clear()
    assert [(m.label, m.data) for m in corpus()] == first
    assert len({m.label for m in corpus()}) == len(corpus())


def test_beacon_and_the_oasis_schema_agree_on_every_mutant() -> None:
    disagreements = []
    verdicts: Counter[bool] = Counter()
    for m in corpus():
        if m.label in STRICTER:
            continue
        schema_ok = schema_accepts(m)
        error = beacon_verdict(m)
        verdicts[schema_ok] += 1
        if schema_ok != (error is None):
            reason = str(error) if error else schema().error_log[0].message
            disagreements.append(f"{m.label}: schema {schema_ok}, Beacon {error is None}: {reason}")
    assert disagreements == []
    # Both verdicts occur often, so agreement is not a matter of refusing (or taking) everything.
    assert verdicts[True] >= 50 and verdicts[False] >= 300


def test_every_refusal_names_an_element_and_its_line() -> None:
    for m in corpus():
        error = beacon_verdict(m)
        if error is None:
            continue
        assert error.field not in ("", "xml", "schema"), (m.label, str(error))
        assert error.line is not None, (m.label, str(error))
        assert str(error).startswith(f"line {error.line}: ")


@pytest.mark.parametrize("label", sorted(STRICTER))
def test_where_beacon_is_stricter_it_refuses_naming_why(label: str) -> None:
    (m,) = [m for m in corpus() if m.label == label]
    error = beacon_verdict(m)
    assert error is not None and error.field == STRICTER[label]
    assert schema_accepts(m)  # if libxml2 or the schema ever refuses it, drop the exclusion


@pytest.mark.parametrize(
    ("label", "field", "words"),
    [
        ("swap alert/identifier and sender", "identifier", ["must come before sender"]),
        ("duplicate alert/sent", "sent", ["only once"]),
        ("drop alert/info/category", "category", ["required"]),
        ("unknown CAP element before alert/info", "bogusElement", ["not a CAP 1.2 element"]),
        ("foreign element after alert/info/event", "extra", ["XML-DSig", "end of alert"]),
        ("alert/status bogus", "status", ["'Bogus' is not one of Actual, Exercise"]),
        ("alert/sent = '2026-11-25T10:00:00Z'", "sent", ["YYYY-MM-DDThh:mm:ss+hh:mm"]),
        ("alert/sent = '2026-02-29T10:00:00-05:00'", "sent", ["not a calendar date"]),
        ("alert/info/resource + size '12.5'", "size", ["not a whole number"]),
        ("alert/info/area + altitude '1e3'", "altitude", ["not a decimal number"]),
        ("attribute on alert/sender", "sender", ["attribute", "not allowed"]),
        ("element inside alert/identifier", "identifier", ["text only"]),
        ("text inside alert/info", "info", ["elements only"]),
    ],
)
def test_refusals_read_clearly(label: str, field: str, words: list[str]) -> None:
    (m,) = [m for m in corpus() if m.label == label]
    error = beacon_verdict(m)
    assert error is not None and error.field == field, (label, str(error))
    for word in words:
        assert word in str(error), (word, str(error))
