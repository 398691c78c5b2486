from django.urls import path
from rest_framework.routers import SimpleRouter

from governance.api import views

router = SimpleRouter()
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("legal-holds", views.LegalHoldViewSet, basename="legal-hold")

urlpatterns = [
    path("me/", views.MeApi.as_view(), name="api-me"),
    path("auth/token/", views.DeviceTokenApi.as_view(), name="api-device-token"),
    *router.urls,
]
