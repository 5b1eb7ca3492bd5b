"""The base of every error a rule raises for a person to read.

A service refuses a change by raising a subclass of DomainError with a message a clinician (or a
client, in the portal) understands: which rule, what is missing, what to do. Views catch
DomainError once, around the service call, and show the message as a page error, or on the form
with ``add_refusal`` (a refusal, not a problem to correct); any other exception is a bug and
reaches the error page and the logs."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


class DomainError(Exception):
    """A rule refused the change; ``str(error)`` is the message to show."""


# The code of a form error that carries a refusal (add_refusal), not a typing problem.
REFUSED = "refused"


def add_refusal(form: forms.BaseForm, error: DomainError) -> None:
    """Show a service's refusal on ``form`` (a view's ``except DomainError``). The error summary
    (templates/partials/form_errors.html) shows it as a refusal with its reason, apart from the
    problems to correct: the fields are filled in correctly, a rule said no."""
    form.add_error(None, ValidationError(str(error), code=REFUSED))
