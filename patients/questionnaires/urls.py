"""Staff-side questionnaire pages, under /clients/<client_id>/questionnaires/."""

from django.urls import path

from patients.questionnaires import views

app_name = "questionnaires"

urlpatterns = [
    path("", views.history, name="history"),
    path("request/", views.request_create, name="request"),
    path("request/<int:request_id>/cancel/", views.request_cancel, name="request_cancel"),
    path("answers/<int:response_id>/", views.response_detail, name="response"),
    path("<slug:instrument>/enter/", views.enter, name="enter"),
]
