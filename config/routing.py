"""Websocket URL routes for every app."""

from django.urls import path

from dispatch.consumers import DispatchConsumer

websocket_urlpatterns = [
    path("ws/dispatch/", DispatchConsumer.as_asgi()),
]
