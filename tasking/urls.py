"""Pages of the tasking domain."""

from django.urls import path

from tasking import views

urlpatterns = [
    path("tasking/", views.board_page, name="tasking-board"),
    path("tasking/board.json", views.board_json, name="tasking-board-json"),
    path("tasking/new/", views.new_page, name="tasking-new"),
    path("tasking/briefing/", views.briefing_page, name="tasking-briefing"),
    path("tasking/<int:assignment_id>/", views.detail_page, name="tasking-detail"),
]
