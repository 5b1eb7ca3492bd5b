from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = "Integration and reminders"

    def ready(self) -> None:
        # Audit registration, and the receivers of the dose and session events (R8).
        from integration import audit, receivers  # noqa: F401
