"""The batch's one SMTP connection (outbox.dispatch), over which a message is sent in two steps, so
that the dispatcher can record one message's outcome while the next is on its way without ever
having two messages accepted and not yet marked.

``prepare``: the envelope (MAIL FROM, RCPT TO), DATA and the whole text, but not the line with a
single dot that ends it. Until that line the server has accepted nothing: a connection dropped
now discards the message (RFC 5321, 4.1.1.4). ``finish``: that line and the server's answer,
which is the acceptance. The dispatcher prepares message n+1 on a helper thread while it marks
message n sent (a durable COMMIT: the disk's flush is the larger part of a message's time) and
finishes n+1 only once n is marked, so the one window for a second copy stays what it was: a
crash between one message's acceptance and its mark.

Every answer is classified by kap_clinic.mail's one rule (transient or permanent). After any
error the connection is dropped, and the next message starts on a new one. Backends that are not
SMTP (the tests' locmem, the console) send the whole message in ``finish``."""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address

from kap_clinic.mail import PermanentSendError, TransientSendError, send_or_raise

if TYPE_CHECKING:
    from collections.abc import Callable

    from outbox.models import OutboxMessage

CRLF = b"\r\n"
# A line of the text that starts with a dot gets a second one (RFC 5321, 4.5.2), as smtplib does.
LEADING_DOT = re.compile(rb"(?m)^\.")


def email_for(message: OutboxMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        to=[message.to],
        headers={**message.headers, "Message-ID": message.message_id},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email


def close(mail) -> None:
    """The end of a batch: QUIT, and the connection closed."""
    try:
        mail.close()
    except Exception:  # a broken connection may fail to say goodbye; it is dropped either way
        mail.connection = None


def drop(mail) -> None:
    """Close the connection without a word: in the middle of a message's text a QUIT would be
    read as more text. The server discards a message it has not seen the end of."""
    connection = getattr(mail, "connection", None)
    if connection is None:
        return
    with contextlib.suppress(Exception):  # closing a broken socket: nothing is left to do
        connection.close()
    mail.connection = None


class _Step:
    """One step of the conversation in the shape kap_clinic.mail.send_or_raise sends (its
    ``send``), so that every answer is classified by the one rule for every e-mail."""

    def __init__(self, run: Callable[[], None]) -> None:
        self.run = run

    def send(self, fail_silently: bool = False) -> None:
        self.run()


class Sender:
    """A batch's messages over ``mail`` (Django's e-mail backend: one connection, opened at the
    first message), each prepared then finished. Not thread-safe: one step at a time."""

    def __init__(self, mail) -> None:
        self.mail = mail
        self.smtp = isinstance(mail, SmtpBackend)
        self._email: EmailMultiAlternatives | None = None

    def prepare(self, message: OutboxMessage) -> None:
        """Everything but the end of the message. Raises TransientSendError or
        PermanentSendError (after which the connection is dropped)."""
        if not message.to:
            raise PermanentSendError("No e-mail address on file.")
        email = email_for(message)
        email.connection = self.mail
        self._email = email
        if self.smtp:
            self._guarded(lambda: self._send_all_but_the_end(email))

    def finish(self) -> None:
        """The end of the prepared message: the server's answer is its acceptance or refusal."""
        email, self._email = self._email, None
        assert email is not None, "finish() without prepare()"
        if self.smtp:
            self._guarded(self._send_the_end)
        else:
            self._guarded(lambda: email.send(fail_silently=False))

    def drop(self) -> None:
        """Give up the prepared message (if any) and the connection."""
        self._email = None
        drop(self.mail)

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            send_or_raise(_Step(step))
        except (TransientSendError, PermanentSendError):
            self.drop()
            raise

    def _open(self) -> None:
        # Opened here, not by send_messages(): Django's SMTP backend closes a connection it
        # opened itself after each call, which is one connect and one QUIT per message.
        try:
            self.mail.open()
        except Exception as error:
            # The same rule as for a send: refused, timed out, dropped (kap_clinic.mail).
            raise TransientSendError(f"{type(error).__name__}: {error}"[:300]) from error
        # A message goes in two writes (its text, then the line that ends it). With Nagle's
        # algorithm on, the second small write waits for the server's ACK of the first, which
        # the server delays (40 ms on Linux): 55 ms a message, 1,070 reminders a minute in the
        # benchmark. Each write is a whole command or text, so sending at once costs nothing.
        sock = getattr(self.mail.connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):  # not a TCP socket (a test's stand-in)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send_all_but_the_end(self, email: EmailMultiAlternatives) -> None:
        """smtplib's sendmail() up to the end of DATA (the same commands and checks)."""
        encoding = email.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(email.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in email.recipients()]
        data = email.message().as_bytes(linesep="\r\n")
        if self.mail.connection is None:
            self._open()
        server = self.mail.connection
        server.ehlo_or_helo_if_needed()
        options = [f"size={len(data)}"] if server.does_esmtp and server.has_extn("size") else []
        code, answer = server.mail(sender, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, answer, sender)
        refused = {}
        for recipient in recipients:
            code, answer = server.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, answer)
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)
        server.putcmd("data")
        code, answer = server.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, answer)
        text = LEADING_DOT.sub(b"..", data)
        server.send(text if text.endswith(CRLF) else text + CRLF)

    def _send_the_end(self) -> None:
        server = self.mail.connection
        server.send(b"." + CRLF)
        code, answer = server.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, answer)
