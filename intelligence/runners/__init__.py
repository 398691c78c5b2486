"""The glue between the database and the pure analyses: one runner per analysis kind.

A runner reads the rows an analysis needs into plain arrays, calls the pure function in
``intelligence.analysis``, and turns what it found into ``FindingDraft``s. It writes nothing:
``services.analysis_execute`` owns the run row, the transaction and the upserts. One module per
kind; ``base`` holds what they share.
"""

from __future__ import annotations

from intelligence.choices import FindingKind
from intelligence.runners import (
    entities,
    hotspots,
    near_repeat,
    repeat_locations,
    time_windows,
    trends,
)
from intelligence.runners.base import (
    FindingDraft,
    Runner,
    RunnerOutput,
    input_hash,
    shared_results,
)

# The submodules, not their functions, are the package's attributes: ``runners.hotspots`` is the
# module and ``runners.hotspots.hotspots`` the runner, so patching a module's name works.
__all__ = [
    "RUNNERS",
    "FindingDraft",
    "Runner",
    "RunnerOutput",
    "entities",
    "hotspots",
    "input_hash",
    "near_repeat",
    "repeat_locations",
    "shared_results",
    "time_windows",
    "trends",
]

# The kinds ``analyze`` and the schedule can run.
RUNNERS: dict[str, Runner] = {
    FindingKind.REPEAT_LOCATION: repeat_locations.repeat_locations,
    FindingKind.HOTSPOT: hotspots.hotspots,
    FindingKind.TIME_WINDOW: time_windows.time_windows,
    FindingKind.TREND: trends.trends,
    FindingKind.NEAR_REPEAT: near_repeat.near_repeat,
    FindingKind.ENTITY: entities.entities,
}
