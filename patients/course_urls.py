"""Treatment courses and the prescriber hand-off summary, under /clients/<client_id>/courses/."""

from django.urls import path  # noqa: F401

app_name = "courses"

urlpatterns: list = []
