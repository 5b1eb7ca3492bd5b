from django.urls import include, path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.client_list, name="client_list"),
    path("alerts/", include("patients.alert_urls")),
    path("<int:client_id>/", views.client_detail, name="client_detail"),
    path("<int:client_id>/intake/", include("patients.intake_urls")),
    path("<int:client_id>/questionnaires/", include("patients.questionnaire_urls")),
]
