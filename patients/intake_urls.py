"""Staff-side intake pages (review), under /clients/<client_id>/intake/."""

from django.urls import path  # noqa: F401

app_name = "intake"

urlpatterns: list = []
