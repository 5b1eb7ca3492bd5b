from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.client_list, name="client_list"),
    path("<int:client_id>/", views.client_detail, name="client_detail"),
]
