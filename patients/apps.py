from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Clients"

    def ready(self) -> None:
        # Registers clinical models with auditlog; hears the outbox about alert e-mails.
        from patients import audit, receivers  # noqa: F401
