from django.urls import path

from exports.api import views

urlpatterns = [
    path("exports/calls.geojson", views.CallGeoJsonExport.as_view(), name="export-calls-geojson"),
    path("exports/calls.csv", views.CallCsvExport.as_view(), name="export-calls-csv"),
    path(
        "exports/locations.geojson",
        views.LocationGeoJsonExport.as_view(),
        name="export-locations-geojson",
    ),
    path(
        "exports/hotspots.geojson",
        views.HotspotGeoJsonExport.as_view(),
        name="export-hotspots-geojson",
    ),
    path(
        "exports/findings.geojson",
        views.FindingGeoJsonExport.as_view(),
        name="export-findings-geojson",
    ),
    path("exports/findings.csv", views.FindingCsvExport.as_view(), name="export-findings-csv"),
    path(
        "exports/assignment-areas.geojson",
        views.AssignmentAreaGeoJsonExport.as_view(),
        name="export-assignment-areas-geojson",
    ),
]
