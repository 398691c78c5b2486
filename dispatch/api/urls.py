"""REST routes of the dispatch domain (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from dispatch.alerts.api import AlertViewSet
from dispatch.api import views

router = SimpleRouter()
router.register("calls", views.CallViewSet, basename="call")
router.register("units", views.UnitViewSet, basename="unit")
router.register("locations", views.LocationViewSet, basename="location")
router.register("observations", views.ObservationViewSet, basename="observation")
router.register("persons", views.PersonViewSet, basename="person")
router.register("vehicles", views.VehicleViewSet, basename="vehicle")
router.register("involvements", views.InvolvementViewSet, basename="involvement")
router.register("call-types", views.CallTypeViewSet, basename="call-type")
router.register("dispositions", views.DispositionViewSet, basename="disposition")
router.register("alerts", AlertViewSet, basename="alert")

urlpatterns = router.urls
