"""Staff-side questionnaire pages, under /clients/<client_id>/questionnaires/."""

from django.urls import path  # noqa: F401

app_name = "questionnaires"

urlpatterns: list = []
