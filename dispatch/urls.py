from django.urls import path

from dispatch import views

urlpatterns = [
    path("calls/", views.call_list_page, name="call-list"),
    path("calls/<int:call_id>/", views.call_detail_page, name="call-detail"),
]
