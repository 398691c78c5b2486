"""Address normalisation: two spellings of one place must produce one key.

Pure functions, no Django. The street line goes through usaddress-scourgify
(USPS Publication 28 abbreviations); on top of it Beacon normalises what
scourgify leaves apart:

* unit designators: "APT 4", "#4", "UNIT 4", "STE 4" all become "#4";
* intersections: "A / B", "B & A", "A AND B", "A @ B" become "A & B" with the
  two streets sorted, so the order the caller said them in does not matter;
* blocks: "1XX BLOCK OF MAIN", "100 BLK MAIN ST", "100 BLOCK MAIN" become
  "100 BLOCK MAIN ST" and are kept as blocks, never merged with a premise;
* ranges ("4500-4898 E SOUTHCROSS BLVD") and named places stay themselves;
* freeway carriageways: a trailing "NB", "SB", "EB" or "WB" is part of the
  street, never a unit, in every form ("9000 IH 37 S NB", "9000 BLOCK IH 37
  S NB", "9000-9100 IH 37 S NB"), so the two sides of a road stay two places;
* numbered highways ("LOOP 1604", "IH 10", "US 281", "FM 78", "SH 151",
  "SPUR 53"): the number is part of the name, never a unit ("6300 N LOOP 1604 E");
* no word is dropped: where scourgify would read trailing words as a city or
  state ("100 SALADO CREEK GREENWAY NORTH") the street line is normalised by
  Beacon's word rules instead ("100 SALADO CREEK GREENWAY N": only a leading
  or trailing direction and a trailing street type are abbreviated).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from scourgify import normalize_address_record
from scourgify.exceptions import AddressNormalizationError

KIND_PREMISE = "premise"
KIND_BLOCK = "block"
KIND_RANGE = "range"
KIND_INTERSECTION = "intersection"
KIND_STREET = "street"
KIND_PLACE = "place"

MAX_ADDRESS_LENGTH = 255


class AddressError(ValueError):
    """The text cannot be read as an address (empty, too long, or nonsense)."""


@dataclass(frozen=True, slots=True)
class NormalizedAddress:
    """The result of normalising one raw address."""

    key: str
    kind: str
    street_line: str
    unit: str = ""
    display: str = ""


# Street-name words scourgify does not see when there is no house number
# (intersections, named streets): USPS Publication 28 suffixes and directionals.
_SUFFIXES = {
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
    "PIKE": "PIKE",
    "ALLEY": "ALY",
    "CROSSING": "XING",
    "PLAZA": "PLZ",
    "POINT": "PT",
    "RIDGE": "RDG",
    "CREEK": "CRK",
    "HEIGHTS": "HTS",
    "TURNPIKE": "TPKE",
    "LOOP": "LOOP",
    "WAY": "WAY",
}
_DIRECTIONS = {
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
}
# Designators that all name "a sub-unit of this building": merged into "#".
_DIRECTION_SET = set(_DIRECTIONS) | set(_DIRECTIONS.values())
_UNIT_WORDS = "APARTMENT|APT|UNIT|SUITE|STE|ROOM|RM|SPACE|SPC|LOT|TRAILER|TRLR|NUMBER|NO|NUM|#"
# A designator word needs a space, a "#" or a digit after it: "VISTA DEL NORTE"
# is a street, not unit "RTE" of "VISTA DEL" ("NO" is a designator). Repeated
# designators ("APT NO 4", "APT APT 4") are one: split once, the key would still
# hold a designator that the display's own split takes off.
_UNIT_RE = re.compile(
    rf"(?:^|\s)(?:(?:{_UNIT_WORDS})\.?(?:\s*#\s*|\s+|(?=\d))|#\s*)+([A-Z0-9][A-Z0-9-]*)$"
)
_INTERSECTION_RE = re.compile(r"\s*(?:/|&|@|\bAND\b|\bAT\b)\s*")
# Names with "AND"/"&" inside that are one place, not two streets.
_PHRASES = (
    (re.compile(r"\bAT ?(?:&|AND) ?T\b"), "ATT"),
    (re.compile(r"\bPARK ?(?:&|AND) ?RIDE\b"), "PARK N RIDE"),
)
_BLOCK_RE = re.compile(r"^(\d+)(?:XX)?\s+(?:BLOCK|BLK)\s+(?:OF\s+)?(.+)$")
_XX_BLOCK_RE = re.compile(r"^(\d+)XX\s+(.+)$")
_RANGE_RE = re.compile(r"^(\d+)\s*-\s*(\d+)\s+(.+)$")
_HOUSE_RE = re.compile(r"^\d+[A-Z]?\s+\S")
_JUNK_RE = re.compile(r"[^A-Z0-9#&/@\-\s]")
_SPACES_RE = re.compile(r"\s+")
_TRAILING_PUNCTUATION_RE = re.compile(r"(?:\s+[^A-Z0-9\s]+)+$")
_LEFTOVER_DESIGNATOR_RE = re.compile(r"#|\bUNIT\b")
_DIRECTION_WORDS = (
    "N|S|E|W|NE|NW|SE|SW|NORTH|SOUTH|EAST|WEST|NORTHEAST|NORTHWEST|SOUTHEAST|SOUTHWEST"
)
# "Avenue B" is a street *named* with a leading type word. scourgify reads
# "1000 AVENUE B" right but takes the B of "1000 AVE B" (its own output) for a
# unit, so the abbreviation is spelled out again before it is parsed.
_AVENUE_PREFIX_RE = re.compile(
    rf"^(\d+[A-Z]?\s+(?:(?:{_DIRECTION_WORDS})\s+)?)(?:AVE|AV|AVEN)\s+(?=\S)"
)
_AVENUE_WORDS = {"AVENUE", "AVE", "AV", "AVEN"}
# A trailing carriageway ("IH 37 S NB"). scourgify reads it as a unit ("UNIT NB") in
# some contexts and as part of the street in others ("NW LOOP 410 EB"), so it is
# taken off before parsing and put back after: one spelling, and never a unit
# that a block would drop (merging the two sides of a freeway).
_CARRIAGEWAY_RE = re.compile(r"^(\d+[A-Z]?\s+\S.*?)\s+(NB|SB|EB|WB)$")
# Words that name a numbered highway ("LOOP 1604", "US HWY 281", "FM 78").
# scourgify sometimes takes the number for a unit ("6300 N LOOP" + "UNIT 1604 E").
_HIGHWAY_WORDS = "LOOP|LP|IH|I|INTERSTATE|US|HWY|HIGHWAY|FM|RM|SH|SR|STHY|SPUR|RT|RTE|ROUTE|CR|PR"
_HIGHWAY_END_RE = re.compile(rf"\s(?:{_HIGHWAY_WORDS})$")
_SCOURGIFY_UNIT_RE = re.compile(rf"^(?:(?:{_UNIT_WORDS})\s*)+(\d+[A-Z]?)(?=\s|$)")
_TOKEN_RE = re.compile(r"[A-Z0-9]+")
_LONE_DASH_RE = re.compile(r"(?<!\S)-+(?!\S)")


def _clean(text: str) -> str:
    text = text.upper().replace(",", " ").replace(".", " ")
    text = _JUNK_RE.sub(" ", text)
    return _SPACES_RE.sub(" ", text).strip()


def normalize_street_name(text: str) -> str:
    """Normalise a street name with no house number ("North Main Street" -> "N MAIN ST")."""
    words = _clean(text).split()
    out: list[str] = []
    for i, word in enumerate(words):
        is_last = i == len(words) - 1
        leading = i == 0 or (i == 1 and words[0] in _DIRECTION_SET)
        if word in _AVENUE_WORDS and leading and not is_last:
            # "Avenue B": the type word leads; scourgify abbreviates it too.
            out.append("AVE")
        elif word in _DIRECTIONS and (i == 0 or is_last) and len(words) > 1:
            out.append(_DIRECTIONS[word])
        elif is_last and word in _SUFFIXES and len(words) > 1:
            out.append(_SUFFIXES[word])
        else:
            out.append(word)
    return " ".join(out)


def _split_unit(text: str) -> tuple[str, str]:
    match = _UNIT_RE.search(text)
    if not match:
        return text, ""
    street = text[: match.start()].strip()
    if not street:
        return text, ""
    return street, f"#{match.group(1)}"


def _word_rules_line(line: str) -> str:
    """Beacon's own word rules for "<number> <street>" (the number left alone)."""
    # A lone "-" is no word (scourgify drops it too: kept, the display would read otherwise).
    line = _SPACES_RE.sub(" ", _LONE_DASH_RE.sub(" ", line)).strip()
    match = _NUMBERED_RE.match(line)
    if not match:
        return normalize_street_name(line)
    return f"{match.group(1)} {normalize_street_name(match.group(2))}"


def _normalize_street_line(line: str) -> str:
    """Normalise "123 North Main Street" with scourgify, falling back to word rules."""
    carriageway = _CARRIAGEWAY_RE.match(line)
    if carriageway:
        return f"{_normalize_street_line(carriageway.group(1))} {carriageway.group(2)}"
    line = _AVENUE_PREFIX_RE.sub(r"\1AVENUE ", line)
    try:
        record = normalize_address_record(line)
    except (AddressNormalizationError, ValueError, TypeError, KeyError, IndexError):
        return _word_rules_line(line)
    if record.get("city") or record.get("state") or record.get("postal_code"):
        # scourgify took trailing words for a city or state ("100 SALADO CREEK GREENWAY
        # NORTH" -> "100 SALADO CRK", city "GREENWAY", state "NORTH"); dropping them merges
        # different places. Folding them back would keep the rest of its guess, which
        # is wrong in the same breath ("VIA LA CANTERA" -> "VIA LN" + "CANTERA",
        # "SALADO CRK GREENWAY NORTH"), and the key would then depend on how the words
        # after the split were spelled. Beacon's word rules keep every word and
        # abbreviate only where they are sure (a leading or trailing direction, a
        # trailing street type), and give the same line back when the key is parsed again.
        return _word_rules_line(line)
    street = (record.get("address_line_1") or "").strip()
    extra = (record.get("address_line_2") or "").strip()
    if extra:
        number = _SCOURGIFY_UNIT_RE.match(extra)
        if (
            number
            and _HIGHWAY_END_RE.search(street)
            and re.search(rf"\b(?:{_HIGHWAY_WORDS})\s+{number.group(1)}\b", line)
        ):
            # "6300 N LOOP" + "UNIT 1604 E": the "unit" is the highway's number.
            extra = extra[number.start(1) :]
        # scourgify found a unit we did not: fold it into the street line for
        # the caller to split again with Beacon's own designator rules.
        street = f"{street} {extra}"
    street = _SPACES_RE.sub(" ", street)
    if len(_TOKEN_RE.findall(street)) < len(_TOKEN_RE.findall(line)):
        # Some other word went missing: better unabbreviated than lost.
        return _word_rules_line(line)
    return street or _word_rules_line(line)


_NUMBERED_RE = re.compile(r"^(\d+[A-Z]?) (.+)$")
_PROBE_NUMBER = "12345"


@lru_cache(maxsize=100_000)
def _street_after_number(rest: str) -> str:
    """The normalised street of "<number> <rest>", or "" when it depends on the number.

    scourgify (a CRF parser, ~0.1 ms a call) costs most of an import, and the
    same street comes with many house numbers ("5600 CULEBRA RD", "5700 ...").
    The street is parsed once behind a fixed probe number and reused; when the
    parser does not hand the probe number back unchanged, the caller parses
    the real line instead.
    """
    line = _normalize_street_line(f"{_PROBE_NUMBER} {rest}")
    prefix = f"{_PROBE_NUMBER} "
    return line[len(prefix) :] if line.startswith(prefix) else ""


def _numbered_line(line: str) -> str:
    """``_normalize_street_line`` for "<number> <street>", sharing the street's parse."""
    match = _NUMBERED_RE.match(line)
    if match:
        street = _street_after_number(match.group(2))
        if street:
            return f"{match.group(1)} {street}"
    return _normalize_street_line(line)


@lru_cache(maxsize=200_000)
def normalize_address(raw: str) -> NormalizedAddress:
    """Normalise one raw address into a key; raise :class:`AddressError` when it is unusable."""
    if raw is None:
        raise AddressError("Address is required.")
    if len(raw) > MAX_ADDRESS_LENGTH * 2:
        raise AddressError(f"Address is longer than {MAX_ADDRESS_LENGTH * 2} characters.")
    text = _clean(raw)
    if not text or not re.search(r"[A-Z0-9]", text):
        raise AddressError("Address is empty.")
    result = _normalize_clean(text)
    if not re.search(r"[A-Z0-9]", result.key):
        raise AddressError("Address names no street or place.")
    if len(result.key) > MAX_ADDRESS_LENGTH:
        # Truncating would merge two long (and surely wrong) addresses into one place.
        raise AddressError(f"Address is longer than {MAX_ADDRESS_LENGTH} characters.")
    return result


def _normalize_clean(text: str, *, again: bool = False) -> NormalizedAddress:
    """Classify and normalise already-cleaned text (upper case, no stray punctuation)."""
    for phrase, replacement in _PHRASES:
        text = phrase.sub(replacement, text)
    # A part with no letter or digit ("#", "&") names no street: it cannot make a corner.
    parts = [p for p in _INTERSECTION_RE.split(text) if re.search(r"[A-Z0-9]", p)]
    # Two or more streets, at least one without a house number: a corner. The
    # test must not depend on the order of the parts, or "A & B" (how the key
    # is shown) could classify differently from the "B / A" it came from.
    if len(parts) >= 2 and not all(_HOUSE_RE.match(p) for p in parts):
        streets = sorted({normalize_street_name(p) for p in parts})
        if len(streets) == 1:
            streets = streets * 2
        key = " & ".join(streets)
        return NormalizedAddress(key=key, kind=KIND_INTERSECTION, street_line=key, display=key)

    block = _BLOCK_RE.match(text) or _XX_BLOCK_RE.match(text)
    if block:
        hundred = (
            (int(block.group(1)) // 100) * 100
            if "XX" not in block.group(0).split()[0]
            else int(block.group(1)) * 100
        )
        street = _numbered_line(f"{hundred or 1} {block.group(2)}").split(" ", 1)[-1]
        street, _ = _split_unit(street)
        key = f"{hundred} BLOCK {street}"
        return NormalizedAddress(key=key, kind=KIND_BLOCK, street_line=key, display=key)

    rng = _RANGE_RE.match(text)
    if rng:
        street = _numbered_line(f"{rng.group(1)} {rng.group(3)}").split(" ", 1)[-1]
        key = f"{int(rng.group(1))}-{int(rng.group(2))} {street}"
        return NormalizedAddress(key=key, kind=KIND_RANGE, street_line=key, display=key)

    base, unit = _split_unit(text)
    if _HOUSE_RE.match(base):
        # Punctuation scourgify moved to the end ("0 IH A#" -> "0 IH" + "UNIT A #") would hide
        # the unit from the split here but not from the one the display goes through.
        street_line = _TRAILING_PUNCTUATION_RE.sub("", _numbered_line(base))
        if not unit:
            street_line, unit = _split_unit(street_line)
        # else: a second "unit" scourgify sees ("0 00 0" + "#0": it reads the last "0" as
        # "UNIT 0") is a word of the street; dropped, "0 00 0 #0" would not read back.
        # A "#" left inside the street ("0 #AA 1": the unit was the trailing "1") is noise;
        # kept, the display would parse back to another key. So is scourgify's "UNIT" where
        # no single value follows it ("0 AA A A" -> "0 AA" + "UNIT A A"): it is the same
        # "#" once the display is parsed again.
        cleaned = _SPACES_RE.sub(" ", _LEFTOVER_DESIGNATOR_RE.sub(" ", street_line)).strip()
        if cleaned != street_line and not again:
            # Without the noise scourgify may read the rest otherwise ("0 #AA A" -> "0 AA A",
            # then "0 AA" + "UNIT A"): read it once more, as its display will be read.
            return _normalize_clean(f"{cleaned} {unit}".strip(), again=True)
        street_line = cleaned
        key = f"{street_line} {unit}".strip()
        # Nothing but the number left ("0 #"): the display reads back as a named place.
        kind = KIND_PREMISE if _HOUSE_RE.match(street_line) else KIND_PLACE
        return NormalizedAddress(
            key=key, kind=kind, street_line=street_line, unit=unit, display=key
        )

    name = normalize_street_name(base)
    key = f"{name} {unit}".strip()
    kind = KIND_STREET if name.split()[-1] in _SUFFIXES.values() else KIND_PLACE
    return NormalizedAddress(key=key, kind=kind, street_line=name, unit=unit, display=key)


_PREMISE_LINE_RE = re.compile(r"^(\d+)[A-Z]? (.+)$")


def block_key(kind: str, street_line: str) -> str | None:
    """The hundred block a location lies on ("412 FRONT ST" -> "400 BLOCK FRONT ST").

    Same form as a block address given as such ("4XX FRONT ST", "400 BLK FRONT"), so a premise
    and a block-level call on the same block count together. Intersections, ranges, streets and
    named places have no single block: None.
    """
    if kind == KIND_BLOCK:
        return street_line
    if kind != KIND_PREMISE:
        return None
    match = _PREMISE_LINE_RE.match(street_line)
    if not match:
        return None
    return f"{(int(match.group(1)) // 100) * 100} BLOCK {match.group(2)}"


def normalize_locality(raw: str | None) -> str:
    """Normalise a town/city name for the location key ("Hatfield Township" stays itself, upper-cased)."""
    return _clean(raw or "")[:100]


def normalize_plate(plate: str | None) -> str:
    """Normalise a licence plate: upper case, letters and digits only ("abc-123" -> "ABC123")."""
    return re.sub(r"[^A-Z0-9]", "", (plate or "").upper())[:16]


def normalize_state(state: str | None) -> str:
    """Normalise a two-letter state/province code; anything else becomes empty."""
    code = re.sub(r"[^A-Z]", "", (state or "").upper())
    return code if len(code) == 2 else ""


def name_key(last_name: str, first_name: str = "") -> str:
    """A matching key for a person's name: "LAST|FIRST", upper case, letters only."""

    def _norm(text: str) -> str:
        return re.sub(r"[^A-Z]", "", (text or "").upper())

    return f"{_norm(last_name)}|{_norm(first_name)}"
