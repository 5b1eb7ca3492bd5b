from django.apps import AppConfig


class ClinicSessionsConfig(AppConfig):
    name = "sessions"
    # The plain label "sessions" belongs to django.contrib.sessions.
    label = "clinic_sessions"
    verbose_name = "Sessions (scheduling and charting)"

    def ready(self) -> None:
        from outbox import kinds
        from outbox.models import MessageKind
        from sessions import (
            audit,  # noqa: F401  (registers clinical models with auditlog)
            receivers,  # noqa: F401  (the client record's changes)
        )
        from sessions.scheduling import reminders

        # The outbox asks before an appointment reminder goes whether it is still wanted.
        kinds.register_check(MessageKind.APPOINTMENT_REMINDER, reminders.still_wanted)
