"""Staff safety alerts (R20), under /clients/alerts/."""

from django.urls import path

from patients.questionnaires import alert_views as views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="alert_list"),
    path("<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
]
