from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic settings"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from clinic.models import ClinicSettings

        # R22: every change of a clinical setting is in the audit trail.
        auditlog.register(ClinicSettings, exclude_fields=["updated_at"])
