"""kap_clinic.formats and its template filters: one way to write a time, in the clinic's zone."""

from datetime import UTC, datetime, time

import pytest
from django.template import Context, Template

from kap_clinic import formats


@pytest.mark.parametrize(
    ("moment", "expected"),
    [(time(9, 0), "9:00 AM"), (time(19, 36), "7:36 PM"), (time(0, 5), "12:05 AM")],
)
def test_clock_is_12_hour(moment, expected):
    assert formats.clock(moment) == expected


def test_the_day_and_time_helpers():
    moment = datetime(2026, 3, 5, 14, 5, 9)
    assert formats.day_time(moment) == "Mar 5, 2026, 2:05 PM"
    assert formats.day_short_time(moment) == "Mar 5, 2:05 PM"
    assert formats.day_time_seconds(moment) == "Mar 5, 2026, 2:05:09 PM"


def test_clinic_time_reads_a_naive_moment_as_utc():
    # Mar 5, 2026: New York on standard time, UTC-5.
    assert formats.clinic_time(datetime(2026, 3, 5, 23, 36)).hour == 18
    assert formats.clinic_time(datetime(2026, 3, 5, 23, 36, tzinfo=UTC)).hour == 18


def test_the_template_filters_write_clinic_time():
    template = Template(
        "{% load clinic_formats %}{{ at|clinic_clock }} | {{ at|clinic_day_time }} | "
        "{{ at|clinic_day_short_time }} | {{ at|clinic_day_time_seconds }} | "
        '{{ none|clinic_day_time|default:"Never" }}'
    )
    at = datetime(2026, 7, 1, 23, 36, 9, tzinfo=UTC)  # daylight time, UTC-4
    assert template.render(Context({"at": at, "none": None})) == (
        "7:36 PM | Jul 1, 2026, 7:36 PM | Jul 1, 7:36 PM | Jul 1, 2026, 7:36:09 PM | Never"
    )
