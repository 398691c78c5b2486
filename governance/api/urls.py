from django.urls import path

from governance.api import views

urlpatterns = [
    path("me/", views.MeApi.as_view(), name="api-me"),
    path("auth/token/", views.DeviceTokenApi.as_view(), name="api-device-token"),
]
