"""Client portal questionnaire pages, under /portal/questionnaires/."""

from django.urls import path

from patients.questionnaires import portal_views as views

app_name = "questionnaires"

urlpatterns = [
    path("", views.questionnaire_list, name="list"),
    path("result/<int:response_id>/", views.questionnaire_result, name="result"),
    path("<slug:instrument>/", views.questionnaire_fill, name="fill"),
]
