from django.conf import settings

from clinic import settings_reader


def clinic(request):
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "IDLE_TIMEOUT_SECONDS": settings_reader.current().idle_timeout_seconds,
    }
