from django.conf import settings

from clinic import settings_reader
from integration.selectors import open_alert_rows as open_reminder_alerts
from kap_clinic.listing import capped_counts
from patients.questionnaires.selectors import open_alert_rows as open_safety_alerts


def clinic(request):
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "IDLE_TIMEOUT_SECONDS": settings_reader.current().idle_timeout_seconds,
    }


def staff_badges(request) -> dict:
    """The navbar's two badges on every staff page, in one query: the open safety alerts (R20)
    and the open reminder alerts (R8: doses without an integration session booked), each
    counted up to kap_clinic.listing.COUNT_CAP on its partial index. For staff who have passed
    two-factor only; nothing for anyone else."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_clinic_staff:
        return {}
    if not getattr(user, "is_verified", lambda: False)():
        return {}
    return capped_counts(
        {
            "open_alert_count": open_safety_alerts(user=user),
            "reminder_alert_count": open_reminder_alerts(user),
        }
    )
