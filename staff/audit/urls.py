from django.urls import path

from staff.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_log, name="audit_log"),
    # kind: "people" (the Who field) or "clients" (the Client field).
    path("suggest/<slug:kind>/", views.suggest, name="suggest"),
]
