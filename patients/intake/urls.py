"""Staff-side intake pages (review), under /clients/<client_id>/intake/."""

from django.urls import path

from patients.intake import views

app_name = "intake"

urlpatterns = [
    path("", views.intake_review, name="review"),
    path("<int:intake_id>/", views.intake_review, name="version"),
    path("<int:intake_id>/reviewed/", views.intake_mark_reviewed, name="mark_reviewed"),
]
