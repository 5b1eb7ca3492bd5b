"""Referrals, prescriptions and the referral packet, under /clients/<client_id>/referrals/."""

from django.urls import path  # noqa: F401

app_name = "referrals"

urlpatterns: list = []
