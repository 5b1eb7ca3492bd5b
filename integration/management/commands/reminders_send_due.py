"""Send the integration reminders that are due (R8), now or, in a demo, as if the clock were
later: ``--at "2026-12-01 10:05"`` or ``--days-ahead N``. The beat does the same every minute;
this is for a demo (see the README's Quick start) and for an operator who wants the outbox sent
at once.

Fast-forwarding walks the clock forward through each due time up to the target, as the beat would
have done, so that the day-1 reminder goes out at its own time and is not cancelled as too late
(REMINDER_STALE_HOURS) by a jump straight to day 3. It sends real e-mail early, so it needs DEBUG
on; plain "now" is allowed anywhere."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min
from django.utils import timezone

from integration.dispatch import DispatchResult, dispatch_all_due
from integration.models import IntegrationReminder, ReminderStatus

FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
# A bound on the walk (each step is one due time); far more than a demo's outbox holds.
MAX_STEPS = 10_000


def parse_moment(value: str) -> datetime:
    """``2026-12-01 10:05`` in the clinic's time zone, or an ISO time with its offset."""
    value = value.strip()
    moment = None
    for fmt in FORMATS:
        try:
            moment = datetime.strptime(value, fmt)
            break
        except ValueError:
            continue
    if moment is None:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as error:
            raise CommandError(
                f'--at {value!r}: give a date and time such as "2026-12-01 10:05" (clinic time, '
                f"{settings.TIME_ZONE})."
            ) from error
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = (
        "Send the integration reminders that are due now. In demo mode (DEBUG on), --at or "
        "--days-ahead sends them as if the clock were later."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--at",
            metavar="WHEN",
            help='Send what is due as of this moment, e.g. "2026-12-01 10:05" (clinic time '
            "unless an offset is given). Demo mode only.",
        )
        group.add_argument(
            "--days-ahead",
            type=int,
            metavar="N",
            help="Send what is due up to the end of the day N days from today (clinic time): "
            "--days-ahead 1 sends tomorrow's day-1 reminders. Demo mode only.",
        )

    def handle(self, *args, at: str | None = None, days_ahead: int | None = None, **options):
        real_now = timezone.now()
        if at is None and days_ahead is None:
            self._summary(dispatch_all_due(now=real_now), real_now)
            return
        if not settings.DEBUG:
            raise CommandError(
                "--at and --days-ahead send reminders early and are for demo installations "
                "(DEBUG on) only. Without them the command sends what is due now."
            )
        if days_ahead is not None:
            if not 0 <= days_ahead <= 30:
                raise CommandError("--days-ahead takes 0 to 30 days.")
            day = timezone.localdate(real_now) + timedelta(days=days_ahead)
            target = timezone.make_aware(datetime.combine(day, time(23, 59)))
        else:
            target = parse_moment(at)
        self._summary(fast_forward(to=target, real_now=real_now), target)

    def _summary(self, result: DispatchResult, moment: datetime) -> None:
        local = timezone.localtime(moment)
        retried = f", {result.retried} to retry" if result.retried else ""
        line = (
            f"Reminders due by {local:%a %b} {local.day}, {local:%Y %H:%M %Z}: "
            f"{result.sent} sent, {result.cancelled} cancelled, {result.failed} failed{retried}."
        )
        style = self.style.WARNING if result.failed else self.style.SUCCESS
        self.stdout.write(style(line))


def fast_forward(*, to: datetime, real_now: datetime) -> DispatchResult:
    """Dispatch as the beat would have between now and ``to``: at now, then at each later due
    time (a transient failure's retry included) up to ``to``. A moment in the past is one
    dispatch as of that moment."""
    total = DispatchResult()
    moment = min(real_now, to)
    for _ in range(MAX_STEPS):
        total.add(dispatch_all_due(now=moment))
        upcoming = IntegrationReminder.objects.filter(
            status=ReminderStatus.PENDING, not_before__gt=moment, not_before__lte=to
        ).aggregate(first=Min("not_before"))["first"]
        if upcoming is None:
            break
        moment = upcoming
    return total
