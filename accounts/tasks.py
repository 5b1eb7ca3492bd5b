from celery import shared_task
from django.core.management import call_command


@shared_task(name="accounts.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """R22: remove ended sessions (idle logoff, closed browsers) from the session table."""
    call_command("clearsessions")
