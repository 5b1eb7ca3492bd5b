"""The prescribers directory, under /prescribers/."""

from django.urls import path

from patients.prescribers import views

app_name = "prescribers"

urlpatterns = [
    path("", views.prescriber_list, name="prescriber_list"),
    path("new/", views.prescriber_create, name="prescriber_create"),
    path("<int:prescriber_id>/edit/", views.prescriber_edit, name="prescriber_edit"),
    path("<int:prescriber_id>/active/", views.prescriber_set_active, name="prescriber_set_active"),
]
