from django.urls import include, path

from patients import portal_views

app_name = "portal"

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("intake/", include("patients.intake_portal_urls")),
    path("questionnaires/", include("patients.questionnaire_portal_urls")),
]
