"""Client portal intake pages, under /portal/intake/ (R17)."""

from django.urls import path

from patients.intake import portal_views as views

app_name = "intake"

urlpatterns = [
    path("", views.intake_start, name="start"),
    path("review/", views.intake_review, name="review"),
    path("submit/", views.intake_submit, name="submit"),
    path("amend/", views.intake_amend, name="amend"),
    path("<slug:step>/", views.intake_step, name="step"),
    path("<slug:step>/autosave/", views.intake_autosave, name="autosave"),
]
