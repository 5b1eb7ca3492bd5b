from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Clients"

    def ready(self) -> None:
        from patients import audit  # noqa: F401  (registers clinical models with auditlog)
