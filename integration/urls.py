"""Integration reminders and alerts for staff, under /reminders/ (integration views)."""

from django.urls import path

from integration import views

app_name = "integration"

urlpatterns = [
    path("", views.reminder_list, name="reminder_list"),
    path("<int:reminder_id>/resend/", views.reminder_resend, name="reminder_resend"),
    path("<int:reminder_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
]
