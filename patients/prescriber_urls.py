"""The prescribers directory, under /prescribers/."""

from django.urls import path  # noqa: F401

app_name = "prescribers"

urlpatterns: list = []
