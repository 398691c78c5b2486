"""Recurring entities per involvement role, and link groups over the incident-entity graph.

Roles are never combined: a person seen as victim three times and as suspect once is counted
separately for each role, so nothing here produces a single per-person score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["LinkGroup", "RecurringEntity", "link_groups", "recurring_entities"]


@dataclass(frozen=True, slots=True)
class RecurringEntity:
    """One (entity, role) pair and the distinct incidents it appears in."""

    entity_id: int
    role: str
    incident_ids: tuple[int, ...]
    flagged: bool

    @property
    def n_incidents(self) -> int:
        return len(self.incident_ids)


@dataclass(frozen=True, slots=True)
class LinkGroup:
    """A connected component: incident indices and entity indices (both sorted)."""

    incidents: tuple[int, ...]
    entities: tuple[int, ...]


def recurring_entities(
    entity_ids: npt.ArrayLike,
    roles: npt.ArrayLike,
    incident_ids: npt.ArrayLike,
    min_incidents: int = 3,
) -> list[RecurringEntity]:
    """Per (entity, role), the distinct incidents; ``flagged`` when there are ≥ min_incidents."""
    ents = np.asarray(entity_ids)
    rls = np.asarray(roles)
    incs = np.asarray(incident_ids)
    if not (len(ents) == len(rls) == len(incs)):
        raise ValueError("entity_ids, roles and incident_ids must have the same length")
    seen: dict[tuple[int, str], set[int]] = {}
    for e, r, i in zip(ents.tolist(), rls.tolist(), incs.tolist(), strict=True):
        seen.setdefault((int(e), str(r)), set()).add(int(i))
    return [
        RecurringEntity(e, r, tuple(sorted(s)), len(s) >= min_incidents)
        for (e, r), s in sorted(seen.items())
    ]


def link_groups(
    edge_incidents: npt.ArrayLike,
    edge_entities: npt.ArrayLike,
    n_incidents: int,
    n_entities: int,
    min_incidents: int = 3,
) -> list[LinkGroup]:
    """Connected components of the bipartite incident-entity graph (indices are 0-based).

    Only components with ≥ ``min_incidents`` incidents and ≥ 2 entities are returned, largest
    first.
    """
    inc = np.asarray(edge_incidents, dtype=np.int64)
    ent = np.asarray(edge_entities, dtype=np.int64)
    if inc.shape != ent.shape:
        raise ValueError("edge arrays must have the same length")
    n = n_incidents + n_entities
    if n == 0 or inc.size == 0:
        return []
    # Nodes 0..n_incidents-1 are incidents, the rest entities.
    graph = coo_matrix((np.ones(inc.size), (inc, ent + n_incidents)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    touched = np.zeros(n, dtype=bool)
    touched[inc] = True
    touched[ent + n_incidents] = True
    groups: list[LinkGroup] = []
    for label in np.unique(labels[touched]):
        nodes = np.flatnonzero((labels == label) & touched)
        incidents = nodes[nodes < n_incidents]
        entities = nodes[nodes >= n_incidents] - n_incidents
        if incidents.size >= min_incidents and entities.size >= 2:
            groups.append(LinkGroup(tuple(incidents.tolist()), tuple(entities.tolist())))
    groups.sort(key=lambda g: (-len(g.incidents), g.incidents))
    return groups
