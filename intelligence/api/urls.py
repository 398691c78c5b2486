"""REST routes of the intelligence domain (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from intelligence.api import views

router = SimpleRouter()
router.register("findings", views.FindingViewSet, basename="finding")
router.register("analysis-runs", views.AnalysisRunViewSet, basename="analysis-run")

urlpatterns = router.urls
