"""Referrals, prescriptions and the referral packet, under /clients/<client_id>/referrals/."""

from django.urls import path

from patients.referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="referral_list"),
    path("new/", views.referral_create, name="referral_create"),
    path("<int:referral_id>/", views.referral_detail, name="referral_detail"),
    path("<int:referral_id>/step/", views.referral_transition, name="referral_transition"),
    path("<int:referral_id>/approve/", views.referral_approve, name="referral_approve"),
    path("<int:referral_id>/packet/", views.referral_packet, name="referral_packet"),
    path(
        "prescriptions/<int:prescription_id>/",
        views.prescription_detail,
        name="prescription_detail",
    ),
    path(
        "prescriptions/<int:prescription_id>/renew/",
        views.prescription_supersede,
        name="prescription_supersede",
    ),
]
