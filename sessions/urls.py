"""A client's sessions, under /clients/<client_id>/sessions/: scheduling, notes and the dosing
chart. Every view goes through the access policy (client_for_view) first."""

from django.urls import include, path

app_name = "sessions"

urlpatterns = [
    path("", include("sessions.scheduling.urls")),
    path("<int:session_id>/note/", include("sessions.notes.urls")),
    path("<int:session_id>/dosing/", include("sessions.dosing.urls")),
]
