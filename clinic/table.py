"""The clinic's settings, one row each: the only place their defaults and allowed ranges are
written (DOMAIN.md: every number is a default the clinic may change within its range).

Built from this table:
- kap_clinic/settings.py reads each from the environment and refuses to start outside its range;
- clinic.models.ClinicSettings, the admin's saved overrides, gets a range constraint per row;
- the settings page's form (staff.clinic.forms) gets each field's range, message and help;
- clinic.settings_reader falls back from an empty saved field to the server value.

Importable before Django is set up (settings.py imports it): nothing from Django's models here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

INTEGER, DAYS, TEXT, YES_NO = "integer", "days", "text", "yes_no"


@dataclass(frozen=True)
class ClinicSetting:
    field: str  # the ClinicSettings field and the attribute of settings_reader.Effective
    env: str  # the environment variable
    group: str  # the fieldset on the settings page
    rule: str  # the DOMAIN.md rule it serves
    default: Any
    low: int | None = None
    high: int | None = None
    kind: str = INTEGER
    # The django.conf.settings name, when it is not the environment variable's.
    setting: str = ""
    # The environment and the page say minutes; the server keeps seconds (the idle logoff).
    seconds: bool = False
    # What the page says may be typed, where the kind's own words do not fit.
    help: str = ""
    # A list of days: counted from what.
    days_of: str = "after the dose"
    # A text typed on several lines (one item a line), not one.
    lines: bool = False

    @property
    def bounds(self) -> tuple[int, int]:
        """(low, high) of a setting with a range."""
        if self.low is None or self.high is None:
            raise ValueError(f"{self.field} has no range")
        return self.low, self.high

    @property
    def setting_name(self) -> str:
        return self.setting or self.env

    @property
    def allowed(self) -> str:
        """What the page says may be typed."""
        if self.help:
            return self.help
        if self.kind == DAYS:
            return (
                f"Allowed: days {self.low} to {self.high} {self.days_of}, separated by commas "
                f"(e.g. 1,2,3) ({self.rule})."
            )
        if self.kind == TEXT:
            return f"Allowed: up to {self.high} characters; no clinical detail ({self.rule})."
        if self.kind == YES_NO:
            return f"Yes or no ({self.rule})."
        return f"Allowed: {self.low} to {self.high} ({self.rule})."

    @property
    def out_of_range(self) -> str:
        return f"Enter a whole number from {self.low} to {self.high} ({self.rule})."


SAFETY, DOSING_DAY, SCHEDULING, REMINDERS, CONTACT, SECURITY = (
    "Dosing session safety",
    "The dosing day, for the client",
    "Scheduling",
    "Reminders and calendar feeds",
    "How clients reach the clinic",
    "Security",
)

# The portal's dosing-day checklist unless the clinic writes its own (one item a line).
DOSING_DAY_CHECKLIST = "\n".join(
    (
        "Bring the tablets your prescriber prescribed for this session.",
        "Eat and drink as your prescriber instructed before the session.",
        "Wear comfortable clothes.",
        "An eye mask and headphones are provided.",
        "Someone you trust takes you home afterwards: please confirm who below.",
        "Do not drive until the next day.",
    )
)

CLINIC_SETTINGS: tuple[ClinicSetting, ...] = (
    ClinicSetting("bp_defer_systolic", "BP_DEFER_SYSTOLIC", SAFETY, "R12", 140, 130, 160),
    ClinicSetting("bp_defer_diastolic", "BP_DEFER_DIASTOLIC", SAFETY, "R12", 90, 80, 100),
    ClinicSetting("bp_hard_stop_systolic", "BP_HARD_STOP_SYSTOLIC", SAFETY, "R13", 180, 161, 220),
    ClinicSetting("bp_hard_stop_diastolic", "BP_HARD_STOP_DIASTOLIC", SAFETY, "R13", 100, 91, 130),
    ClinicSetting("bp_recheck_wait_minutes", "BP_RECHECK_WAIT_MINUTES", SAFETY, "R12", 5, 5, 15),
    ClinicSetting("bp_rechecks", "BP_RECHECKS", SAFETY, "R12", 2, 1, 3),
    ClinicSetting(
        "post_dose_vitals_minutes", "POST_DOSE_VITALS_MINUTES", SAFETY, "R14", 40, 30, 60
    ),
    ClinicSetting(
        "min_observation_minutes", "MIN_OBSERVATION_MINUTES", SAFETY, "R15", 120, 60, 240
    ),
    ClinicSetting("dose_hold_minutes", "DOSE_HOLD_MINUTES", SAFETY, "R10", 15, 5, 20),
    ClinicSetting("prep_sessions_required", "PREP_SESSIONS_REQUIRED", SCHEDULING, "R2", 3, 1, 6),
    ClinicSetting(
        "session_minutes", "SESSION_MINUTES", SCHEDULING, "default session length", 50, 15, 180
    ),
    ClinicSetting(
        "dosing_session_minutes", "DOSING_SESSION_MINUTES", SCHEDULING, "R9", 180, 120, 300
    ),
    ClinicSetting("reminder_days", "REMINDER_DAYS", REMINDERS, "R8", (1, 2, 3), 1, 7, kind=DAYS),
    ClinicSetting("reminder_send_hour", "REMINDER_SEND_HOUR", REMINDERS, "R8", 10, 0, 23),
    ClinicSetting("quiet_hours_start", "QUIET_HOURS_START", REMINDERS, "R8", 21, 0, 23),
    ClinicSetting("quiet_hours_end", "QUIET_HOURS_END", REMINDERS, "R8", 8, 0, 23),
    # R25: a calendar feed's events say "Session · M.P." unless the clinic chooses to show the
    # session kind ("Dosing session · M.P.") in its therapists' calendars.
    ClinicSetting(
        "calendar_feed_shows_kind", "CALENDAR_FEED_SHOWS_KIND", REMINDERS, "R25", False, kind=YES_NO
    ),
    # Appointment reminders (R25: first name, day, time, place; no session kind): before every
    # booked session, on each of these days before it, at the send hour in the client's time
    # zone and outside the quiet hours (sessions.scheduling.reminders).
    ClinicSetting(
        "appointment_reminders", "APPOINTMENT_REMINDERS", REMINDERS, "R25", True, kind=YES_NO
    ),
    ClinicSetting(
        "appointment_reminder_days",
        "APPOINTMENT_REMINDER_DAYS",
        REMINDERS,
        "R25",
        (1,),
        1,
        7,
        kind=DAYS,
        days_of="before the session",
    ),
    # The default names the clinic (CLINIC_NAME): see environment_values.
    ClinicSetting(
        "reminder_signature", "REMINDER_SIGNATURE", REMINDERS, "R25", None, high=200, kind=TEXT
    ),
    # What client e-mails offer for an answer (R25: nothing clinical): a phone to call, a booking
    # page, and the address replies go to (Reply-To). Empty: the e-mails do not offer it.
    ClinicSetting("clinic_phone", "CLINIC_PHONE", CONTACT, "R25", "", high=40, kind=TEXT),
    ClinicSetting("reply_to_email", "REPLY_TO_EMAIL", CONTACT, "R25", "", high=254, kind=TEXT),
    ClinicSetting("self_booking_url", "SELF_BOOKING_URL", CONTACT, "R25", "", high=500, kind=TEXT),
    # What the portal asks a client to read before a dosing session (R15: a chaperone home, no
    # driving until the next day), one item a line. The environment separates items with "|".
    ClinicSetting(
        "dosing_day_checklist",
        "DOSING_DAY_CHECKLIST",
        DOSING_DAY,
        "R15",
        DOSING_DAY_CHECKLIST,
        high=2000,
        kind=TEXT,
        lines=True,
        help=(
            "One item a line, up to 2,000 characters: what the client reads in the portal "
            "before each dosing session (R15)."
        ),
    ),
    ClinicSetting(
        "idle_timeout_minutes",
        "IDLE_TIMEOUT_MINUTES",
        SECURITY,
        "R22",
        15,
        5,
        60,
        setting="IDLE_TIMEOUT_SECONDS",
        seconds=True,
    ),
)
BY_FIELD: dict[str, ClinicSetting] = {row.field: row for row in CLINIC_SETTINGS}
RANGED: tuple[ClinicSetting, ...] = tuple(row for row in CLINIC_SETTINGS if row.kind == INTEGER)
GROUPS: tuple[str, ...] = (SAFETY, DOSING_DAY, SCHEDULING, REMINDERS, CONTACT, SECURITY)
DAY_LISTS: tuple[ClinicSetting, ...] = tuple(row for row in CLINIC_SETTINGS if row.kind == DAYS)
REMINDER_DAYS_PATTERN = r"^[1-7](,[1-7])*$"


def lines(text: str) -> tuple[str, ...]:
    """A text of one item a line -> its items, without the empty lines."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def parse_days(text: str) -> tuple[int, ...]:
    """ "3, 1,2" -> (1, 2, 3)."""
    return tuple(sorted({int(part) for part in text.split(",") if part.strip()}))


def environment_values(env, *, clinic_name: str) -> dict[str, Any]:
    """Every clinic setting read from the environment (``env``: a django-environ Env), by its
    django.conf.settings name. A value outside its range stops the server at start-up."""
    values: dict[str, Any] = {}
    for row in CLINIC_SETTINGS:
        if row.kind == DAYS:
            days = tuple(sorted(set(env.list(row.env, cast=int, default=list(row.default)))))
            if not days or not all(row.low <= day <= row.high for day in days):
                raise ImproperlyConfigured(
                    f"{row.env} must list days {row.low} to {row.high} {row.days_of} ({row.rule})."
                )
            values[row.setting_name] = list(days)
        elif row.kind == TEXT:
            # A default of None is derived (the signature names the clinic).
            default = f"The team at {clinic_name}" if row.default is None else row.default
            value = env.str(row.env, default=default)
            values[row.setting_name] = "\n".join(value.split("|")) if row.lines else value
        elif row.kind == YES_NO:
            values[row.setting_name] = env.bool(row.env, default=row.default)
        else:
            value = env.int(row.env, default=row.default)
            if not row.low <= value <= row.high:
                raise ImproperlyConfigured(
                    f"{row.env} must be between {row.low} and {row.high} ({row.rule})."
                )
            values[row.setting_name] = value * 60 if row.seconds else value
    for axis in ("SYSTOLIC", "DIASTOLIC"):
        if values[f"BP_HARD_STOP_{axis}"] <= values[f"BP_DEFER_{axis}"]:
            raise ImproperlyConfigured(
                "The BP hard stop must be above the defer threshold (R12, R13)."
            )
    return values
