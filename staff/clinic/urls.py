from django.urls import path

from staff.clinic import views

app_name = "clinic"

urlpatterns = [
    path("", views.clinic_settings, name="settings"),
]
