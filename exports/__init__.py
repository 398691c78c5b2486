"""Exports: calls, locations, findings and assignment areas as GeoJSON and CSV, as disseminations."""
