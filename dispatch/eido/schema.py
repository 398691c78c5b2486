"""Validate a document against NENA's EIDO schema, read from a folder outside the project.

NENA publishes the EIDO as OpenAPI 3.0 component schemas (``Schema/openapi.yaml`` and the
``NIEMComponents/*.yaml`` it refers to). NENA grants no licence for them, so Beacon does not ship
them: tests read them from ``../shared/data/eido/`` and a deployment may point
``BEACON_EIDO_SCHEMA_DIR`` at its own copy. The components are turned into JSON Schema (Draft 4,
which OpenAPI 3.0's schema object is based on): ``nullable: true`` becomes a ``null`` type, and the
one known typo of the published file (``minItems: 1,`` loads as the string ``"1,"``) is read as the
number it means. Cross-file ``$ref``s resolve through a ``referencing`` registry, so recursive NIEM
types need no inlining.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT_SCHEMA = "EmergencyIncidentDataObjectType"
_NUMERIC_KEYWORDS = frozenset(
    {"minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum", "minProperties"}
)


def _to_json_schema(node: Any, *, in_properties: bool = False) -> Any:
    """OpenAPI 3.0 schema object -> Draft 4 JSON Schema, recursively."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if in_properties:
            # Keys of ``properties`` are member names (EIDO has members called "$ref" and "$id").
            out[key] = _to_json_schema(value)
        elif key in _NUMERIC_KEYWORDS and isinstance(value, str):
            out[key] = int(value.strip().rstrip(","))
        elif key == "properties" and isinstance(value, dict):
            out[key] = _to_json_schema(value, in_properties=True)
        elif key in {"example", "examples", "xml", "discriminator", "externalDocs"}:
            continue
        else:
            out[key] = _to_json_schema(value)
    if not in_properties and out.pop("nullable", False) is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return _to_json_schema(yaml.safe_load(handle))


@functools.lru_cache(maxsize=4)
def _validator(schema_dir: str) -> Draft4Validator:
    # Cached per folder: the files are read-only reference data, parsed once per process.
    folder = Path(schema_dir)
    main = folder / "openapi.yaml"
    if not main.is_file():
        raise FileNotFoundError(f"No EIDO schema at {main}.")
    registry: Registry = Registry()
    for path in [main, *sorted((folder / "NIEMComponents").glob("*.yaml"))]:
        resource = Resource(contents=_load(path), specification=DRAFT4)
        registry = registry.with_resource(path.resolve().as_uri(), resource)
    root = {"$ref": f"{main.resolve().as_uri()}#/components/schemas/{ROOT_SCHEMA}"}
    return Draft4Validator(root, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def schema_folder(data_dir: str | Path) -> Path:
    """The folder holding ``openapi.yaml``: ``data_dir`` itself or its ``Schema`` subfolder."""
    folder = Path(data_dir)
    return folder / "Schema" if (folder / "Schema" / "openapi.yaml").is_file() else folder


def json_path(parts: Any) -> str:
    """``["callComponent", 0, "direction"]`` -> ``$.callComponent[0].direction``."""
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def validate_eido(doc: Any, schema_dir: str | Path) -> list[tuple[str, str]]:
    """The schema errors of ``doc`` as (JSON path, message), most relevant first; [] when valid."""
    validator = _validator(str(schema_folder(schema_dir)))
    errors = list(validator.iter_errors(doc))
    ranked: list[ValidationError] = []
    for error in errors:
        ranked.append(best_match([error]) if error.context else error)
    return [(json_path(e.absolute_path), e.message) for e in ranked]
