from django.urls import include, path

from patients.clients import views

app_name = "patients"

urlpatterns = [
    path("", views.client_list, name="client_list"),
    path("new/", views.client_create, name="client_create"),
    path("alerts/", include("patients.questionnaires.alert_urls")),
    path("<int:client_id>/", views.client_detail, name="client_detail"),
    path("<int:client_id>/edit/", views.client_edit, name="client_edit"),
    path("<int:client_id>/archive/", views.client_archive, name="client_archive"),
    path("<int:client_id>/restore/", views.client_restore, name="client_restore"),
    path("<int:client_id>/invitation/", views.invitation_send, name="invitation_send"),
    path(
        "<int:client_id>/invitation/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("<int:client_id>/reminders/", views.reminders_set, name="reminders_set"),
    path("<int:client_id>/shares/", views.share_add, name="share_add"),
    path(
        "<int:client_id>/shares/<int:share_id>/revoke/",
        views.share_revoke,
        name="share_revoke",
    ),
    path("<int:client_id>/intake/", include("patients.intake.urls")),
    path("<int:client_id>/questionnaires/", include("patients.questionnaires.urls")),
    path("<int:client_id>/referrals/", include("patients.referrals.urls")),
    path("<int:client_id>/courses/", include("patients.courses.urls")),
    path("<int:client_id>/sessions/", include("sessions.urls")),
]
