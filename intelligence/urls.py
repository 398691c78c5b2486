"""Pages of the intelligence domain: the patterns dashboard and finding review."""

from django.urls import path

from intelligence import views

urlpatterns = [
    path("patterns/", views.patterns_page, name="patterns"),
    path("patterns/data.json", views.patterns_data, name="patterns-data"),
    path("patterns/run/", views.patterns_run, name="patterns-run"),
    path("patterns/findings/<int:finding_id>/", views.finding_page, name="finding-page"),
    path(
        "patterns/findings/<int:finding_id>/need-to-know/",
        views.finding_need_to_know,
        name="finding-page-need-to-know",
    ),
    path(
        "patterns/findings/<int:finding_id>/outcome/",
        views.finding_outcome,
        name="finding-outcome",
    ),
    path(
        "patterns/from-alert/<int:alert_id>/",
        views.finding_from_alert,
        name="finding-from-alert",
    ),
]
