"""Template helpers for intake pages and the intake partials other pages include."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from patients.intake.schema import step_title

register = template.Library()


@register.filter
def intake_step_title(slug: str) -> str:
    """The title of an intake step from its slug ("medical" -> "Medical history")."""
    return step_title(slug or "")


@register.simple_tag
def radio_input(radio) -> SafeString:
    """One option's <input> of a radio field (a BoundWidget), as Django's input.html and
    attrs.html write it, without rendering those templates for each option: a step of the intake
    has about thirty options, and their nested templates were most of the page's time (issue
    13)."""
    data = radio.data
    parts = [format_html(' type="{}" name="{}"', data["type"], data["name"])]
    if data["value"] is not None:
        parts.append(format_html(' value="{}"', data["value"]))
    for name, value in data["attrs"].items():
        if value is True:
            parts.append(format_html(" {}", name))
        elif value is not False:
            parts.append(format_html(' {}="{}"', name, value))
    return mark_safe("<input" + "".join(parts) + ">")  # each part is escaped above
