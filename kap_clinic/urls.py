from django.urls import include, path

from kap_clinic import views
from patients.portal import views as portal_views
from sessions.scheduling import reply_views

urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_page, name="help"),
    path("accounts/", include("accounts.urls")),
    path("accounts/staff/", include("staff.team.urls")),
    path("clients/", include("patients.urls")),
    path("portal/", include("patients.portal.urls")),
    path("welcome/<str:token>/", portal_views.invitation_accept, name="invitation_accept"),
    path("email/stop/<str:token>/", portal_views.reminders_stop, name="reminders_stop"),
    path("appointment/<str:token>/", reply_views.session_reply, name="session_reply"),
    path("prescribers/", include("patients.prescribers.urls")),
    path("calendar/", include("sessions.calendar.urls")),
    path("reminders/", include("integration.urls")),
    path("audit/", include("staff.audit.urls")),
    path("outbox/", include("staff.outbox.urls")),
    path("clinic/settings/", include("staff.clinic.urls")),
    path("dashboard/", include("reports.urls")),
    path("healthz", views.healthz, name="healthz"),
]

# Django's admin site is deliberately not mounted: it would be a second way into client data that
# bypasses the access policy, the audit of views, and staff two-factor sign-in.
