"""Integration reminders and alerts for staff, under /reminders/ (integration views)."""

from django.urls import path

from integration import views

app_name = "integration"

urlpatterns = [
    path("", views.reminder_list, name="reminder_list"),
]
