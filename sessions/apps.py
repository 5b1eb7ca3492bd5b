from django.apps import AppConfig


class ClinicSessionsConfig(AppConfig):
    name = "sessions"
    # The plain label "sessions" belongs to django.contrib.sessions.
    label = "clinic_sessions"
    verbose_name = "Sessions (scheduling and charting)"

    def ready(self) -> None:
        from sessions import audit  # noqa: F401  (registers clinical models with auditlog)
