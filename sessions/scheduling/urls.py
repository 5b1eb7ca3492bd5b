"""A client's sessions: list, booking, the session page and its actions (namespace
patients:sessions)."""

from django.urls import path

from sessions.scheduling import views

urlpatterns = [
    path("", views.session_list, name="list"),
    path("new/", views.session_create, name="create"),
    path("<int:session_id>/", views.session_detail, name="detail"),
    path("<int:session_id>/reschedule/", views.session_reschedule, name="reschedule"),
    path("<int:session_id>/cancel/", views.session_cancel, name="cancel"),
    path("<int:session_id>/status/", views.session_status, name="status"),
]
