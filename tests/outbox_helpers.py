"""The outbox in tests: every e-mail is a row until the dispatcher sends it, as the beat would
within a minute. ``send_outbox()`` runs the real dispatcher (outbox.dispatch) in-process, over
the test's e-mail backend (locmem: django.core.mail.outbox) or a real SMTP server."""

from __future__ import annotations

from outbox import dispatch
from outbox.dispatch import DispatchResult


def send_outbox(**kwargs) -> DispatchResult:
    return dispatch.dispatch_all_due(**kwargs)
