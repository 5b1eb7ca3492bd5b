"""The intake's radio options are written by intake_tags.radio_input instead of Django's widget
templates (a step's thirty options were most of its render time, issue 13): the markup must be
Django's own, option for option, whatever the state of the field."""

from __future__ import annotations

import pytest

from patients.intake.forms import form_for, form_sections
from patients.intake.schema import get_step
from patients.templatetags.intake_tags import radio_input
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "data",
    [None, {}, {"high_bp": "yes", "bp_controlled": "no"}, {"high_bp": 'x" onfocus="alert(1)'}],
    ids=["unbound", "empty", "answered", "hostile"],
)
def test_each_radio_option_is_written_as_django_writes_it(data):
    client = ClientFactory()
    form = (
        form_for("medical", data, client=client)
        if data is not None
        else form_for("medical", client=client)
    )
    if data is not None:
        form.is_valid()
    form_sections(form)  # marks invalid fields and their descriptions, as the page does
    step = get_step("medical")
    radios = [q.key for section in step.sections for q in section.questions if q.radio]
    assert radios
    for key in radios:
        for option in form[key]:
            assert radio_input(option) == option.tag()
