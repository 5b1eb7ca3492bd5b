from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Outbox"

    def ready(self) -> None:
        # Who queued or sent again which message is in the audit trail (R22).
        from outbox import audit  # noqa: F401
