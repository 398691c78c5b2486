"""The versioned REST API: each app contributes its own routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("governance.api.urls")),
    path("", include("dispatch.api.urls")),
    path("", include("intelligence.api.urls")),
    path("", include("tasking.api.urls")),
    path("", include("exports.api.urls")),
]
