"""Client portal questionnaire pages, under /portal/questionnaires/."""

from django.urls import path  # noqa: F401

app_name = "questionnaires"

urlpatterns: list = []
