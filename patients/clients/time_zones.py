"""The time zones offered for a client (R8: reminders at the client's own local hour).

Read from the tz database the server ships (the tzdata package, which zoneinfo also falls back
on; no network). ``available_timezones()`` has some 600 names, a third of them aliases kept for
old software (Asia/Calcutta for Asia/Kolkata, US/Eastern, GB, EST5EDT...): a list to choose from
offers the names of tzdata's zone.tab instead, one or more per country, each the name the tz
project documents for it. zone.tab rather than zone1970.tab: the latter merges countries that have
kept the same clocks since 1970 (Europe/Stockholm into Europe/Berlin), so a client in Stockholm
would not find their city. A name on file that is not offered (saved before, or an alias) still
validates (validators.validate_time_zone) and is shown by its canonical name (``canonical``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from zoneinfo import available_timezones

from django.conf import settings

# The zones most of the clinic's clients live in, in words. The clinic's own zone goes first.
US_CANADA = [
    ("America/New_York", "US Eastern (New York)"),
    ("America/Chicago", "US Central (Chicago)"),
    ("America/Denver", "US Mountain (Denver)"),
    ("America/Phoenix", "Arizona, no daylight saving (Phoenix)"),
    ("America/Los_Angeles", "US Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
    ("America/St_Johns", "Canada Newfoundland (St. John's)"),
    ("America/Halifax", "Canada Atlantic (Halifax)"),
    ("America/Toronto", "Canada Eastern (Toronto)"),
    ("America/Winnipeg", "Canada Central (Winnipeg)"),
    ("America/Regina", "Saskatchewan, no daylight saving (Regina)"),
    ("America/Edmonton", "Canada Mountain (Edmonton)"),
    ("America/Vancouver", "Canada Pacific (Vancouver)"),
]


def _tzdata_text(name: str) -> str:
    return resources.files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")


@cache
def offered() -> frozenset[str]:
    """The canonical zone names: zone.tab's, that this server's zoneinfo can load."""
    names = {
        line.split("\t")[2]
        for line in _tzdata_text("zone.tab").splitlines()
        if line and not line.startswith("#")
    }
    return frozenset(names & available_timezones())


@cache
def _links() -> dict[str, str]:
    """Alias -> target, from the link lines ("L Asia/Kolkata Asia/Calcutta") of tzdata.zi."""
    links = {}
    for line in _tzdata_text("tzdata.zi").splitlines():
        if line.startswith("L "):
            _tag, target, alias = line.split()
            links[alias] = target
    return links


def canonical(name: str) -> str:
    """The offered name of ``name``'s zone (Asia/Calcutta -> Asia/Kolkata); ``name`` itself when
    it is offered, or has no offered equivalent (UTC, Etc/GMT+5)."""
    current, seen = name, set()
    while current not in offered() and current in _links() and current not in seen:
        seen.add(current)
        current = _links()[current]
    return current if current in offered() else name


def label(name: str) -> str:
    return name.replace("_", " ")


def choices(*, keep: str = "") -> list:
    """For a select: blank (the clinic's zone), the common zones (the clinic's first, then the US
    and Canada), then every other offered zone A to Z. ``keep``: a name on file that is not
    offered, listed too so that editing the record neither hides nor drops it."""
    clinic = canonical(settings.TIME_ZONE)
    words = dict(US_CANADA)
    common = [(clinic, words.get(clinic, label(clinic)))] if clinic in offered() else []
    common += [(name, text) for name, text in US_CANADA if name != clinic and name in offered()]
    listed = {name for name, _text in common}
    others = sorted(offered() - listed)
    if keep and keep not in offered():
        others = sorted([*others, keep])
    return [
        ("", f"Same as the clinic ({label(settings.TIME_ZONE)})"),
        ("Common time zones", common),
        ("Other time zones", [(name, label(name)) for name in others]),
    ]
