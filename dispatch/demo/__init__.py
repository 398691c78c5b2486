"""Demo data for Harbor City, a fictional town: a pure generator (``generator``) and a DB writer (``writer``).

The generator plants known patterns (problem premises, hot areas, time windows,
burglary chains, recurring persons and vehicles) and returns them with the rows
as a :class:`~dispatch.demo.generator.DemoPlan`, so tests can check that the
analyses find what was planted.
"""
