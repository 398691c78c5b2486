"""Turns the issue form's fields into ``assignment_create`` arguments (shapes only; the service
checks the rules and names the field it refuses)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

AREA_TYPES = ("circle", "cells", "polygon")
ASSIGNEE_TYPES = ("unit", "user", "shift")


class FormError(Exception):
    """Field-named errors of the form itself, before the service is asked."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(str(errors))


def _float(post: Mapping[str, str], name: str, errors: dict[str, list[str]]) -> float | None:
    try:
        return float(post.get(name, ""))
    except ValueError:
        errors.setdefault("area", []).append(f"{name.replace('area_', '')}: give a number.")
        return None


def _int(value: str, field: str, errors: dict[str, list[str]]) -> int | None:
    try:
        return int(value)
    except ValueError:
        errors.setdefault(field, []).append("Give a whole number.")
        return None


def area_from_post(post: Mapping[str, str], errors: dict[str, list[str]]) -> dict[str, Any] | None:
    kind = post.get("area_type", "")
    if kind == "circle":
        lat, lon = _float(post, "area_latitude", errors), _float(post, "area_longitude", errors)
        radius = _float(post, "area_radius_m", errors)
        return {"type": "circle", "latitude": lat, "longitude": lon, "radius_m": radius}
    if kind == "cells":
        return {"type": "cells", "cells": post.get("area_cells", "").split()}
    if kind == "polygon":
        points = []
        for line in post.get("area_points", "").splitlines():
            if not line.strip():
                continue
            parts = line.replace(",", " ").split()
            try:
                points.append([float(parts[0]), float(parts[1])])
            except (ValueError, IndexError):
                errors.setdefault("area", []).append(
                    f"Not a 'latitude, longitude' line: {line[:40]}"
                )
                return None
        return {"type": "polygon", "points": points}
    errors.setdefault("area", []).append("Choose circle, cells or polygon.")
    return None


def create_kwargs(post: Mapping[str, str]) -> dict[str, Any]:
    """``assignment_create`` keyword arguments from the form; raises ``FormError``."""
    errors: dict[str, list[str]] = {}
    kwargs: dict[str, Any] = {
        "kind": post.get("kind", ""),
        "objective": post.get("objective", ""),
        "issue": post.get("issue") == "on",
    }
    if post.get("finding"):
        kwargs["finding_id"] = _int(post["finding"], "finding", errors)
    kwargs["area"] = area_from_post(post, errors)
    try:
        kwargs["windows"] = json.loads(post.get("windows", "") or "null")
    except json.JSONDecodeError as exc:
        errors.setdefault("windows", []).append(f"Not valid JSON: {exc.msg}.")
    minutes, visits = post.get("minutes_per_visit", ""), post.get("visits_per_window", "")
    if minutes or visits:
        kwargs["dosage"] = {
            "minutes_per_visit": _int(minutes, "dosage", errors),
            "visits_per_window": _int(visits, "dosage", errors),
        }
    kwargs["priority"] = _int(post.get("priority", "3"), "priority", errors)
    assignee = post.get("assignee_type", "")
    if assignee == "unit":
        kwargs["assignee_unit_id"] = _int(post.get("assignee_unit", ""), "assignee_unit", errors)
    elif assignee == "user":
        kwargs["assignee_user_id"] = _int(post.get("assignee_user", ""), "assignee_user", errors)
    elif assignee == "shift":
        kwargs["assignee_shift_id"] = _int(post.get("assignee_shift", ""), "assignee_shift", errors)
    else:
        errors.setdefault("assignee", []).append("Choose a unit, a user or a shift.")
    if errors:
        raise FormError(errors)
    return kwargs
