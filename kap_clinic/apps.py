from django.apps import AppConfig


class KapClinicConfig(AppConfig):
    """The project package is an app too: it holds seed_demo, healthz and shared templates tags."""

    name = "kap_clinic"
    verbose_name = "KAP Clinic"
