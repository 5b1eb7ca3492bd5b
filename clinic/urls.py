from django.urls import path

from clinic import views

app_name = "clinic"

urlpatterns = [
    path("", views.clinic_settings, name="settings"),
]
