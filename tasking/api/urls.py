"""REST routes of the tasking domain (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from tasking.api import views

router = SimpleRouter()
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("shifts", views.ShiftViewSet, basename="shift")

urlpatterns = router.urls
