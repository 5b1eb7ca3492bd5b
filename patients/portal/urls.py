from django.urls import include, path

from patients.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("reminders/", views.reminders_set, name="reminders_set"),
    path("intake/", include("patients.intake.portal_urls")),
    path("questionnaires/", include("patients.questionnaires.portal_urls")),
    # R15: the dosing day's checklist and chaperone (sessions.dosing.portal_views).
    path("prepare/", include("sessions.dosing.portal_urls")),
]
