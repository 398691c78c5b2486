"""The error answers every API operation can give, added to the OpenAPI schema in one place.

drf-spectacular documents the success answer of each operation and whatever a view declares with
``extend_schema``; the errors DRF and ``beacon_core.api.exceptions`` produce for every view (no or
a bad token, a role without the grant, a record that is not there or not yours, a body that does
not validate, a database outage) were missing, so a client generated from the schema, or a
schema-driven test, met them as surprises.
"""

from __future__ import annotations

from typing import Any

_DETAIL = {"$ref": "#/components/schemas/ErrorDetail"}
_FIELDS = {"$ref": "#/components/schemas/FieldErrors"}
SCHEMAS = {
    "ErrorDetail": {
        "type": "object",
        "description": "An error with one human-readable reason.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "FieldErrors": {
        "type": "object",
        "description": (
            "Field name (or `non_field_errors`, or `detail`) to what is wrong with it: a list of "
            "messages, or the same shape nested for nested fields. A conflict (409) adds "
            "`current`, the record as it is now."
        ),
        "additionalProperties": {},
    },
}
_WRITE_METHODS = {"post", "put", "patch"}


def _response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors_for(path: str, method: str, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    errors: dict[str, dict[str, Any]] = {}
    takes_input = method in _WRITE_METHODS or bool(operation.get("parameters"))
    if takes_input:
        errors["400"] = _response("A parameter or field is invalid; the body names it.", _FIELDS)
    if {} not in operation.get("security", [{}]):
        errors["401"] = _response("No credentials, or a token that is not valid.", _DETAIL)
        errors["403"] = _response("The role may not do this to this kind of record.", _DETAIL)
    if "{" in path:
        errors["404"] = _response(
            "No such record, or one the caller may not see (the two answer alike).", _DETAIL
        )
    elif any(p.get("name") == "page" for p in operation.get("parameters", [])):
        errors["404"] = _response("No such page of the list.", _DETAIL)
    if method in _WRITE_METHODS:
        errors["409"] = _response("The change conflicts with the record as it is now.", _FIELDS)
    if "requestBody" in operation:
        errors["415"] = _response("The body's content type is not accepted.", _DETAIL)
    errors["503"] = _response("The database is unavailable; retry after `Retry-After`.", _DETAIL)
    return errors


def add_error_responses(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: document the common error answers of every operation.

    An error a view documents itself keeps its description; it gains the body schema when it
    declared none.
    """
    result.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, answer in _errors_for(path, method, operation).items():
                declared = responses.get(status)
                if declared is None:
                    responses[status] = answer
                elif "content" not in declared:
                    declared["content"] = answer["content"]
    return result
