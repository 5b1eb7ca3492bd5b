"""A session's notes, under clients/<client_id>/sessions/<session_id>/note/ (namespace
patients:sessions)."""

from django.urls import path

from sessions.notes import views

urlpatterns = [
    path("", views.note_save, name="note_save"),
    path("sign/", views.note_sign, name="note_sign"),
    path("addendum/", views.note_addendum, name="note_addendum"),
    path("private/", views.private_note_save, name="private_note_save"),
]
