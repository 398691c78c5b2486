"""Entities runner: persons and vehicles recurring per involvement role, and link groups of
incidents through shared persons and vehicles.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from dispatch.models import Involvement, Person, Vehicle
from intelligence.analysis.entities import link_groups, recurring_entities
from intelligence.runners.base import FindingDraft, RunnerOutput, input_hash, merge_parameters

ENTITY_DEFAULTS: dict[str, Any] = {"window_days": 180, "min_incidents": 3, "max_evidence": 500}

# Everything the repeat-person and linking jobs read about an involvement besides where and when
# it was recorded: who (as an id) and in which role. LED Art. 11 forbids profiling on special
# categories of data, so persons and vehicles enter as ids only; their descriptive fields (sex,
# date of birth, description, views or associations) are never features.
ENTITY_FEATURES: tuple[str, ...] = ("person_id", "vehicle_id", "role")
# Read only for flagged entities, to word the explanation ("SMITH, JOHN appears as ...").
PERSON_LABEL_FIELDS: tuple[str, ...] = ("last_name", "first_name")
VEHICLE_LABEL_FIELDS: tuple[str, ...] = ("plate_state", "plate")


def entities(
    *, as_of: dt.datetime, agency_id: int | None, parameters: Mapping[str, Any] | None = None
) -> RunnerOutput:
    """Persons and vehicles recurring per involvement role, and linked incidents, per agency.

    Roles stay separate (a victim finding and a suspect finding, never one score per person).
    Link groups connect incidents through shared persons and vehicles only: location nodes
    would chain every incident at a busy address into one group, so places are left out.
    """
    params = merge_parameters(ENTITY_DEFAULTS, parameters)
    days = int(params["window_days"])
    min_n = int(params["min_incidents"])
    cap = int(params["max_evidence"])
    start = as_of - dt.timedelta(days=days)
    on_calls = Involvement.objects.filter(call__received_at__gte=start, call__received_at__lt=as_of)
    on_obs = Involvement.objects.filter(
        observation__observed_at__gte=start, observation__observed_at__lt=as_of
    )
    if agency_id is not None:
        on_calls = on_calls.filter(call__agency_id=agency_id)
        on_obs = on_obs.filter(observation__agency_id=agency_id)
    # (involvement, agency, incident key, entity key, role); keys are ("c"|"o", id), ("p"|"v", id)
    rows: list[tuple[int, int, str, str, str]] = []
    for pk, agency, call, person, vehicle, role in on_calls.values_list(
        "pk", "call__agency_id", "call_id", *ENTITY_FEATURES
    ):
        ent = f"p{person}" if person is not None else f"v{vehicle}"
        rows.append((pk, agency, f"c{call}", ent, role))
    for pk, agency, obs, person, vehicle, role in on_obs.values_list(
        "pk", "observation__agency_id", "observation_id", *ENTITY_FEATURES
    ):
        ent = f"p{person}" if person is not None else f"v{vehicle}"
        rows.append((pk, agency, f"o{obs}", ent, role))
    rows.sort()
    out = RunnerOutput(
        method="recurring_entities_link_components",
        method_version="2",
        parameters={**params, "link_nodes": "persons+vehicles"},
        window_start=start,
        window_end=as_of,
        input_hash=input_hash(rows),
    )
    by_agency: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for _, agency, inc, ent, role in rows:
        by_agency[agency].append((inc, ent, role))
    recurring: dict[int, tuple[list[str], list[str], dict[str, int], dict[str, int], Any]] = {}
    for agency, items in sorted(by_agency.items()):
        inc_keys = sorted({i for i, _, _ in items})
        ent_keys = sorted({e for _, e, _ in items})
        inc_ix = {k: n for n, k in enumerate(inc_keys)}
        ent_ix = {k: n for n, k in enumerate(ent_keys)}
        found = recurring_entities(
            [ent_ix[e] for _, e, _ in items],
            [r for _, _, r in items],
            [inc_ix[i] for i, _, _ in items],
            min_n,
        )
        recurring[agency] = (inc_keys, ent_keys, inc_ix, ent_ix, found)
    # Only the flagged entities are named in a finding: read just their labels.
    flagged = {
        ent_keys[rec.entity_id]
        for _, ent_keys, _, _, found in recurring.values()
        for rec in found
        if rec.flagged
    }
    persons = Person.objects.only(*PERSON_LABEL_FIELDS).in_bulk(
        {int(e[1:]) for e in flagged if e[0] == "p"}
    )
    vehicles = Vehicle.objects.only(*VEHICLE_LABEL_FIELDS).in_bulk(
        {int(e[1:]) for e in flagged if e[0] == "v"}
    )

    def evidence(incs: Iterable[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        ordered = sorted(incs)
        calls = tuple(sorted(int(i[1:]) for i in ordered if i[0] == "c"))[:cap]
        obs = tuple(sorted(int(i[1:]) for i in ordered if i[0] == "o"))[:cap]
        return calls, obs

    for agency, items in sorted(by_agency.items()):
        inc_keys, ent_keys, inc_ix, ent_ix, found = recurring[agency]
        for rec in found:
            if not rec.flagged:
                continue
            ent = ent_keys[rec.entity_id]
            kind = "person" if ent[0] == "p" else "vehicle"
            label = str(persons[int(ent[1:])] if kind == "person" else vehicles[int(ent[1:])])
            calls, obs = evidence(inc_keys[i] for i in rec.incident_ids)
            out.drafts.append(
                FindingDraft(
                    agency_id=agency,
                    subject_key=f"entity:{kind}:{ent[1:]}:{rec.role}",
                    window_start=start,
                    window_end=as_of,
                    statistics={
                        "entity": kind,
                        "entity_id": int(ent[1:]),
                        "role": rec.role,
                        "incidents": rec.n_incidents,
                        "calls": len(calls),
                        "observations": len(obs),
                        "window_days": days,
                    },
                    explanation=(
                        f"{label} appears as {rec.role} in {rec.n_incidents} reports "
                        f"in the last {days} days."
                    ),
                    call_ids=calls,
                    observation_ids=obs,
                )
            )
        pairs = sorted({(inc_ix[i], ent_ix[e]) for i, e, _ in items})
        groups = link_groups(
            np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.int64),
            len(inc_keys),
            len(ent_keys),
            min_incidents=min_n,
        )
        for group in groups:
            members = sorted(inc_keys[i] for i in group.incidents)
            digest = hashlib.sha1("\n".join(members).encode(), usedforsecurity=False)
            n_p = sum(1 for e in group.entities if ent_keys[e][0] == "p")
            n_v = len(group.entities) - n_p
            calls, obs = evidence(members)
            out.drafts.append(
                FindingDraft(
                    agency_id=agency,
                    subject_key=f"links:{digest.hexdigest()}",
                    window_start=start,
                    window_end=as_of,
                    statistics={
                        "incidents": len(members),
                        "persons": n_p,
                        "vehicles": n_v,
                        "person_ids": sorted(
                            int(ent_keys[e][1:]) for e in group.entities if ent_keys[e][0] == "p"
                        ),
                        "vehicle_ids": sorted(
                            int(ent_keys[e][1:]) for e in group.entities if ent_keys[e][0] == "v"
                        ),
                        "window_days": days,
                    },
                    explanation=(
                        f"{len(members)} reports linked through {n_p} persons "
                        f"and {n_v} vehicles in the last {days} days."
                    ),
                    call_ids=calls,
                    observation_ids=obs,
                )
            )
    return out
