"""The error summary of templates/partials/form_errors.html, worked out from the form.

``{% error_summary form as summary %}`` gives what the summary says: the refusals (a service
said no, kap_clinic.errors.add_refusal: "This can't be done yet: <reason>"), the problems to
correct (every field error and every other non-field error, each counted), and the password
fields that come back empty (a PasswordInput never shows what was typed), so the summary says
"Nothing you typed has been lost" only where it is true."""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms, template

from kap_clinic.errors import REFUSED

register = template.Library()


@dataclass(frozen=True)
class Problem:
    message: str
    label: str = ""  # the field's label; "" for an error about the whole form
    anchor: str = ""  # the field's id, for the link in the summary


@dataclass(frozen=True)
class ErrorSummary:
    refusals: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    emptied: list[str] = field(default_factory=list)  # labels of the emptied password fields

    @property
    def kept(self) -> str:
        """What became of what the person typed."""
        if not self.emptied and self.problems:
            return "Nothing you typed has been lost."
        if not self.emptied:
            return "What you typed is still in the form."
        names = _and(self.emptied)
        if len(self.emptied) == 1:
            cleared = f"{names} was emptied for your security: type it again."
        else:
            cleared = f"{names} were emptied for your security: type them again."
        return f"{cleared} Everything else you typed is still there."


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _emptied(form: forms.BaseForm) -> list[str]:
    # A password typed and posted comes back blank: PasswordInput(render_value=False).
    return [
        str(bound.label)
        for bound in form
        if isinstance(bound.field.widget, forms.PasswordInput)
        and not bound.field.widget.render_value
        and bound.data
    ]


@register.simple_tag
def error_summary(form) -> ErrorSummary | None:
    errors = getattr(form, "errors", None)
    if not errors:
        return None
    refusals, problems = [], []
    for error in form.non_field_errors().as_data():
        messages = [str(message) for message in error]
        if error.code == REFUSED:
            refusals.extend(messages)
        else:
            problems.extend(Problem(message) for message in messages)
    for bound in form:
        problems.extend(
            Problem(str(message), label=str(bound.label), anchor=bound.id_for_label)
            for message in bound.errors
        )
    return ErrorSummary(refusals=refusals, problems=problems, emptied=_emptied(form))
