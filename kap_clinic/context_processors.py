from django.conf import settings


def clinic(request):
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "IDLE_TIMEOUT_SECONDS": settings.IDLE_TIMEOUT_SECONDS,
    }
