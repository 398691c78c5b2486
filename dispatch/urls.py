from django.urls import path

from dispatch import eido_views, views
from dispatch.alerts import views as alert_views

urlpatterns = [
    path("console/", views.console_page, name="console"),
    path("console/snapshot.json", views.console_snapshot, name="console-snapshot"),
    path("console/context.json", views.console_context, name="console-context"),
    path("console/suggest.json", views.console_suggest, name="console-suggest"),
    path("console/calls/<int:call_id>.json", views.console_call, name="console-call"),
    path("field/", views.field_page, name="field"),
    path("field/snapshot.json", views.field_snapshot, name="field-snapshot"),
    path("field/observe/", views.field_observe, name="field-observe"),
    path("calls/", views.call_list_page, name="calls-page"),
    path("calls/<int:call_id>/", views.call_detail_page, name="call-page"),
    path("calls/transfer-in/", eido_views.eido_import_page, name="eido-import-page"),
    path("alerts/", alert_views.alerts_page, name="alerts-page"),
    path("alerts/<int:alert_id>/", alert_views.alert_page, name="alert-page"),
]
