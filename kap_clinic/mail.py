"""One rule for every e-mail the app sends: which mail-server answers mean "try again later"
and which mean "this will never go" (the reminders, the safety alerts, and any message after).

Transient: a 4xx answer (greylisting, a full mailbox, a server busy for now), also at RCPT, and a
connection refused, dropped or timed out. Permanent: a 5xx answer, every recipient refused with a
5xx, or an address Django refuses to put in a header. Callers retry the first with a backoff and
fail the second at once, for staff to see."""

from __future__ import annotations

import smtplib


class TransientSendError(Exception):
    """The mail server may accept this later."""


class PermanentSendError(Exception):
    """The mail server (or the address) will not take this message."""


def send_or_raise(email) -> None:
    """Send ``email`` (an EmailMessage) or raise one of the two errors above, with a short
    reason that names no client (R25: it is shown to staff and may reach the logs)."""
    try:
        email.send(fail_silently=False)
    except ValueError as error:
        # Django refuses the address on file (a line break: header injection, or not an
        # address at all; BadHeaderError is a ValueError too): retrying cannot help.
        raise PermanentSendError("The e-mail address on file cannot be used.") from error
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if all(400 <= code < 500 for code in codes):
            # Greylisting and full mailboxes answer 4xx at RCPT: try again later.
            raise TransientSendError(f"The address was deferred: {_codes(error)}") from error
        raise PermanentSendError(f"The address was refused: {_codes(error)}") from error
    except smtplib.SMTPResponseException as error:
        text = f"{error.smtp_code} {error.smtp_error!r}"[:300]
        if 400 <= error.smtp_code < 500:
            raise TransientSendError(text) from error
        raise PermanentSendError(text) from error
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
        raise TransientSendError(f"{type(error).__name__}: {error}"[:300]) from error


def _codes(error: smtplib.SMTPRecipientsRefused) -> str:
    return ", ".join(f"{code}" for code, _ in error.recipients.values())
