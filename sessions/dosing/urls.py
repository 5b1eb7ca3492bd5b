"""The dosing chart of a session, under clients/<client_id>/sessions/<session_id>/dosing/
(namespace patients:sessions): the page, and one POST endpoint per step of R10."""

from django.urls import path

from sessions.dosing import views

urlpatterns = [
    path("", views.dosing_chart, name="dosing_chart"),
    path("start/", views.dosing_start, name="dosing_start"),
    path("keep-alive/", views.dosing_keepalive, name="dosing_keepalive"),
    path("preparation/", views.dosing_prepare, name="dosing_prepare"),
    path("blood-pressure/", views.dosing_bp, name="dosing_bp"),
    path("defer/", views.dosing_defer, name="dosing_defer"),
    path("dose/", views.dosing_administer, name="dosing_administer"),
    path("hold-end/", views.dosing_hold_end, name="dosing_hold_end"),
    path("adverse-event/", views.dosing_adverse, name="dosing_adverse"),
    path("return/", views.dosing_return, name="dosing_return"),
    path("discharge/", views.dosing_discharge, name="dosing_discharge"),
    path("notices/<int:notice_id>/", views.dosing_notice_done, name="dosing_notice_done"),
]
