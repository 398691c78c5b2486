"""Top-level URL map: pages, the REST API under /api/v1/, schema and docs."""

from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from beacon_core.admin_site import admin_site
from beacon_core.csp import csp_relax
from beacon_core.views import healthz

# A database outage seen by the middleware or a page: 503 with a reason (beacon_core.views).
handler500 = "beacon_core.views.server_error"
# JSON for unmatched /api/ paths, Django's page elsewhere.
handler404 = "beacon_core.views.not_found"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("governance.urls")),
    path("", include("dispatch.urls")),
    path("", include("intelligence.urls")),
    path("", include("tasking.urls")),
    path("admin/", admin_site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up code as a script file (no inline script). The
    # two vendor UIs style themselves with <style> elements, and Redoc searches in a blob: worker:
    # that is allowed on these two pages only (docs/security.md).
    path(
        "api/docs/",
        csp_relax(style_src=["'unsafe-inline'"])(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        csp_relax(style_src=["'unsafe-inline'"], worker_src=["blob:"])(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
]
