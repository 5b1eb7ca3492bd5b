"""The error summary at the top of every form (templates/partials/form_errors.html): it counts
every problem listed, says what was cleared, and tells a refusal (a rule said no: editing the
fields will not help) from a typing problem."""

from __future__ import annotations

import html
import re

from django import forms
from django.template.loader import render_to_string

from kap_clinic.errors import DomainError, add_refusal


class BookingForm(forms.Form):
    location = forms.CharField(label="Location")
    minutes = forms.IntegerField(label="Length (minutes)")


class AccountForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput)


def summary(form) -> str:
    """The summary as a person reads it: inline tags dropped, the others a space."""
    page = render_to_string("partials/form_errors.html", {"form": form})
    page = re.sub(r"</?(?:a|strong|span|i|em)\b[^>]*>", "", page)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def test_every_problem_listed_is_counted():
    # A field with two errors and a non-field error: three problems, though only two "keys".
    form = BookingForm({"location": "Room 3", "minutes": "x"})
    form.is_valid()
    form.add_error("minutes", "Sessions are 50 or 90 minutes.")
    form.add_error(None, "The room is closed that day.")
    text = summary(form)
    assert "Please correct 3 problems below." in text
    assert text.count("Length (minutes):") == 2
    assert "The room is closed that day." in text


def test_one_problem_is_one():
    form = BookingForm({"location": "", "minutes": "50"})
    form.is_valid()
    assert "Please correct 1 problem below." in summary(form)


def test_nothing_lost_is_said_only_where_it_is_true():
    form = BookingForm({"location": "", "minutes": "50"})
    form.is_valid()
    assert "Nothing you typed has been lost." in summary(form)
    # The password fields come back empty (PasswordInput does not render what was typed).
    form = AccountForm({"email": "not an address", "password1": "s3cret!", "password2": "s3cret"})
    form.is_valid()
    text = summary(form)
    assert "Nothing you typed has been lost" not in text
    assert "Password and Password again were emptied for your security: type them again." in text
    assert "Everything else you typed is still there." in text


def test_a_refusal_reads_as_a_refusal_with_its_reason():
    form = BookingForm({"location": "Room 3", "minutes": "50"})
    assert form.is_valid()
    add_refusal(form, DomainError("Dosing needs at least 3 completed preparation sessions."))
    text = summary(form)
    assert "This can't be done yet: Dosing needs at least 3 completed preparation sessions." in text
    assert "Please correct" not in text
    assert "problem" not in text
    assert "What you typed is still in the form." in text


def test_a_refusal_and_problems_each_say_their_own():
    form = AccountForm({"email": "a@example.org", "password1": "", "password2": ""})
    form.is_valid()
    add_refusal(form, DomainError("This invitation has expired."))
    text = summary(form)
    assert "This can't be done yet: This invitation has expired." in text
    assert "Please correct 2 problems below." in text  # the refusal is not one of them
