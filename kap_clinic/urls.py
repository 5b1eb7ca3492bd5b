from django.urls import include, path

from accounts import views as account_views
from kap_clinic import views
from patients import portal_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("clients/", include("patients.urls")),
    path("portal/", include("patients.portal_urls")),
    path("welcome/<str:token>/", portal_views.invitation_accept, name="invitation_accept"),
    path("prescribers/", include("patients.prescriber_urls")),
    path("calendar/", include("sessions.calendar_urls")),
    path("reminders/", include("integration.urls")),
    path("audit/", include("audit.urls")),
    path("clinic/settings/", include("clinic.urls")),
    path("dashboard/", include("reports.urls")),
    path("healthz", views.healthz, name="healthz"),
]

# Django's admin site is deliberately not mounted: it would be a second way into client data that
# bypasses the access policy, the audit of views, and staff two-factor sign-in.
