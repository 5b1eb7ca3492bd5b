"""What a session's status reads as, wherever the session is listed (the client's sessions, the
session page, the calendar): one vocabulary, as a pure function of the row, its dosing chart and
the moment. A dosing session takes its chart's state while the chart is open (the session row
stays "scheduled" until discharge or deferral, R10, R15)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sessions.models import DosingChart, SessionStatus


@dataclass(frozen=True)
class ShownStatus:
    key: str  # the badge's CSS class: status-<key>
    label: str


UPCOMING = SessionStatus.SCHEDULED.value
IN_PROGRESS = "in_progress"
UNMARKED = "unmarked"
DEFERRED = "deferred"


def shown_status(
    *, status: str, ends_at: datetime, chart_outcome: str | None, now: datetime
) -> ShownStatus:
    """Upcoming: scheduled and not yet ended. A scheduled session whose time has passed needs
    marking ("Not marked yet"), unless its dosing chart is open: then it is "In progress", the
    chart's own word, whatever the clock says. A completed dosing session whose dose was deferred
    says so (R12, R13) rather than a bare "Completed"."""
    if status == SessionStatus.SCHEDULED:
        if chart_outcome == DosingChart.Outcome.OPEN:
            return ShownStatus(IN_PROGRESS, DosingChart.Outcome.OPEN.label)
        if ends_at < now:
            return ShownStatus(UNMARKED, "Not marked yet")
        return ShownStatus(UPCOMING, SessionStatus.SCHEDULED.label)
    if status == SessionStatus.COMPLETED and chart_outcome == DosingChart.Outcome.DEFERRED:
        return ShownStatus(DEFERRED, DosingChart.Outcome.DEFERRED.label)
    return ShownStatus(status, SessionStatus(status).label)
