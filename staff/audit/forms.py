"""The audit trail's filters. Whom to filter by is typed, not picked from a list of everyone: at a
group practice "everyone" is 25,000 people and 50,000 clients, and rendering them as two
dropdowns took the page 40 seconds.

Each of the two is a text field (what is typed) and a hidden id (what was picked):

- with JavaScript, the text field asks audit:suggest for a few matches as the admin types, and
  picking one fills in the hidden id (static/js/audit-search.js);
- without it, the typed text is looked up on submit: one match is taken, several are listed to
  pick from (links), none is said so.

A picked id counts while the text still reads its name; once the text is changed, the text
decides. A link that names only the id (``?client=12``, the page's own links carry both) counts
as picked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.urls import reverse

from kap_clinic.fields import ClinicDateField
from staff.audit import selectors

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.db.models import Model

    from accounts.models import User

# How many matches the page lists when a typed name fits more than one.
CHOICES_SHOWN = 20


@dataclass
class Choices:
    """The matches a typed name found, listed under its field to pick one from."""

    rows: list[Any]
    more: bool  # more than these matched


def person_label(user: User) -> str:
    return user.get_full_name() or user.email


def client_label(client) -> str:
    return client.full_name


def client_id_of(user: User) -> int | None:
    """The client record of a client's portal sign-in (loaded with it by the selectors), else
    None: naming such a user names a client (R22)."""
    profile = getattr(user, "client_profile", None)
    return profile.pk if profile is not None else None


class AuditFilterForm(forms.Form):
    who = forms.CharField(
        required=False,
        max_length=200,
        label="Who",
        help_text="Type a name or e-mail address of staff or a client.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    user = forms.CharField(required=False, widget=forms.HiddenInput)
    client_name = forms.CharField(
        required=False,
        max_length=200,
        label="Client",
        help_text="Type a client's name or e-mail address.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    client = forms.CharField(required=False, widget=forms.HiddenInput)
    date_from = ClinicDateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = ClinicDateField(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data=None, *, viewer: User, **kwargs):
        # A copy that can be written: a resolved pick is written back (the name beside its id),
        # so the page shows it and its links carry it.
        super().__init__(data.copy() if data is not None else None, **kwargs)
        self.viewer = viewer
        self.choices: dict[str, Choices] = {}
        for field in self.fields.values():
            if not field.widget.is_hidden:
                field.widget.attrs.setdefault("class", "form-control")
        for text_field, kind in (("who", "people"), ("client_name", "clients")):
            box = f"id_{text_field}-suggestions"
            self.fields[text_field].widget.attrs.update(
                {
                    # htmx: a few matches as the admin types (the field's own value is sent).
                    "hx-get": reverse("audit:suggest", kwargs={"kind": kind}),
                    "hx-trigger": "input changed delay:250ms",
                    "hx-target": f"#{box}",
                    "hx-sync": "this:replace",
                    "aria-controls": box,
                    "aria-autocomplete": "list",
                    "data-suggest-input": "",
                }
            )

    def full_clean(self):
        super().full_clean()
        # Bootstrap's look of a field with a problem (templates/audit/_field.html; Django adds
        # aria-invalid and points aria-describedby at the message).
        for name in self.errors:
            if name in self.fields and not self.fields[name].widget.is_hidden:
                self.fields[name].widget.attrs["class"] = "form-control is-invalid"

    def clean(self):
        data = super().clean()
        data["user"] = self._pick(
            text_field="who",
            id_field="user",
            by_id=selectors.person_by_id,
            matching=selectors.people_matching,
            label=person_label,
            nobody="No one's name or e-mail address matches “{text}”.",
            several="{count} people match “{text}”: pick one below.",
            too_many="More than {count} people match “{text}”: type more of the name, or pick "
            "one below.",
        )
        data["client"] = self._pick(
            text_field="client_name",
            id_field="client",
            by_id=lambda value: selectors.client_by_id(self.viewer, value),
            matching=lambda text, limit: selectors.clients_matching(self.viewer, text, limit=limit),
            label=client_label,
            nobody="No client's name or e-mail address matches “{text}”.",
            several="{count} clients match “{text}”: pick one below.",
            too_many="More than {count} clients match “{text}”: type more of the name, or pick "
            "one below.",
        )
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return data

    def _pick(
        self,
        *,
        text_field: str,
        id_field: str,
        by_id: Callable[[str], Model | None],
        matching: Callable[..., list],
        label: Callable[[Any], str],
        nobody: str,
        several: str,
        too_many: str,
    ) -> Model | None:
        """Whom the pair (typed text, picked id) names, or None for "anyone"; a form error (and
        the matches to pick from) when the text fits no one or more than one."""
        text = " ".join((self.cleaned_data.get(text_field) or "").split())
        picked = by_id(str(self.data.get(id_field) or "").strip())
        if picked is not None and (text_field not in self.data or text == label(picked)):
            return self._chosen(text_field, id_field, picked, label)
        if not text:
            self.data[id_field] = ""
            return None
        self.data[id_field] = ""
        if not selectors.searchable(text):
            self.add_error(
                text_field,
                f"Type at least {selectors.SEARCH_MIN_LENGTH} letters of a name or e-mail address.",
            )
            return None
        found = matching(text, limit=CHOICES_SHOWN + 1)
        if len(found) == 1:
            return self._chosen(text_field, id_field, found[0], label)
        if not found:
            self.add_error(text_field, nobody.format(text=text))
            return None
        more = len(found) > CHOICES_SHOWN
        self.choices[text_field] = Choices(rows=found[:CHOICES_SHOWN], more=more)
        message = too_many if more else several
        self.add_error(
            text_field, message.format(count=CHOICES_SHOWN if more else len(found), text=text)
        )
        return None

    def _chosen(self, text_field: str, id_field: str, obj, label) -> Any:
        self.data[text_field] = label(obj)
        self.data[id_field] = str(obj.pk)
        return obj

    def listed_client_ids(self) -> list[int]:
        """The clients whose names the page lists to pick from (R22: a list of clients is a view
        of each): those matching the typed client, and the clients among the people matching
        the typed "who"."""
        clients = self.choices.get("client_name", Choices([], False)).rows
        people = self.choices.get("who", Choices([], False)).rows
        named = (client_id_of(person) for person in people)
        return [client.pk for client in clients] + [pk for pk in named if pk is not None]
