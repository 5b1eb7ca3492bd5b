from django.apps import AppConfig


class KapClinicConfig(AppConfig):
    """The project package is an app too: it holds seed_demo, healthz and shared templates tags."""

    name = "kap_clinic"
    verbose_name = "KAP Clinic"

    def ready(self) -> None:
        # Receivers of a higher floor that hear a lower one, where no app of their own floor
        # has an AppConfig to connect them: the course follows its referral (R1).
        from patients.courses import receivers  # noqa: F401
