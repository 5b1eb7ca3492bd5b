"""R19 PHQ-9 and GAD-7 histories: at intake, before each dose, at the end of a course, and every
six weeks or so in weekly therapy, falling as care goes on, scored by the app's own scoring
(patients.questionnaires.scoring); some answered in the portal after a request, some entered in
session by the therapist. A positive PHQ-9 item 9 raises an R20 alert for the therapist, with its
e-mail in the outbox, acknowledged within hours (a few recent ones still open)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.conf import settings

from demo.scale.context import DAY, HOUR, MINUTE, Context
from demo.scale.pgcopy import Writer
from demo.scale.records import Client
from outbox.models import OutboxMessage
from patients.models import Alert, QuestionnaireRequest, QuestionnaireResponse
from patients.questionnaires import scoring

ITEMS = {"phq9": 9, "gad7": 7}


@dataclass
class Safety:
    """Per client, the moments of their PHQ-9s and item 9 answers, oldest first: the dosing
    chart asks whether the latest one before the dose was positive (R20)."""

    phq9: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def positive_before(self, client_id: int, ts: int) -> bool:
        latest = 0
        for moment, item9 in self.phq9.get(client_id, ()):
            if moment > ts:
                break
            latest = item9
        return latest > 0


class _Answers:
    """Item answers for a total, a few variants each, dumped once."""

    def __init__(self, ctx: Context):
        self.cache: dict[tuple[str, int, int, int], tuple[str, str, int]] = {}
        self.rng = ctx.rng

    def get(self, instrument: str, total: int, item9: int) -> tuple[str, str, int]:
        """(answers as JSON, band, total): the total is at least item 9's answer."""
        key = (instrument, total, item9, self.rng.randrange(3))
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self._make(instrument, total, item9)
        return found

    def _make(self, instrument: str, total: int, item9: int) -> tuple[str, str, int]:
        items = ITEMS[instrument]
        answers = [0] * items
        free = list(range(items - 1 if instrument == "phq9" else items))
        if instrument == "phq9":
            answers[scoring.ITEM9_INDEX] = item9
            total = max(total, item9)
        left = total - sum(answers)
        while left > 0 and free:
            index = self.rng.choice(free)
            answers[index] += 1
            left -= 1
            if answers[index] == 3:
                free.remove(index)
        score = scoring.score(instrument, answers)
        return json.dumps(answers), score.band, score.total


def write(ctx: Context, writer: Writer) -> Safety:
    histories = _Histories(ctx, writer)
    for client in ctx.clients:
        histories.client(client)
    histories.flush()
    _alerts(ctx, writer, histories.alerts)
    return histories.safety


class _Histories:
    """The requests and responses of every client, and the alerts they raise."""

    def __init__(self, ctx: Context, writer: Writer):
        self.ctx = ctx
        self.answers = _Answers(ctx)
        self.safety = Safety()
        # (client, response id, moment, entered in session by the therapist)
        self.alerts: list[tuple[Client, int, int, bool]] = []
        self.requests = writer.table(
            QuestionnaireRequest,
            (
                "id",
                "client_id",
                "instrument",
                "requested_by_id",
                "requested_at",
                "due_date",
                "completed_at",
            ),
        )
        self.responses = writer.table(
            QuestionnaireResponse,
            (
                "id",
                "client_id",
                "instrument",
                "answers",
                "total",
                "band",
                "item9_score",
                "request_id",
                "submitted_at",
                "entered_by_id",
            ),
        )

    def client(self, client: Client) -> None:
        ctx = self.ctx
        rng = ctx.rng
        moments = sorted(client.scores)
        if client.archived is not None:
            moments = [m for m in moments if m[0] < client.archived]
        history = self.safety.phq9.setdefault(client.id, [])
        for ts, stage in moments:
            if ts > ctx.now:
                continue
            ts = max(ts, client.created + HOUR)
            phq = _clip(round(client.severity * (1 - 0.6 * stage)) + rng.randint(-2, 2), 27)
            gad = _clip(round(phq * 0.75) + rng.randint(-2, 2), 21)
            item9 = 0
            if phq >= 10 and ctx.chance(0.03):
                item9 = 1 if ctx.chance(0.8) else 2
            response = self._response(client, "phq9", phq, item9, ts)
            history.append((ts, item9))
            if item9:
                self.alerts.append((client, response, ts, not self._portal(client, ts)))
            self._response(client, "gad7", gad, 0, ts + 2 * MINUTE)
        if client.user is not None and client.archived is None and ctx.chance(0.05):
            self._open_requests(client)

    @staticmethod
    def _portal(client: Client, ts: int) -> bool:
        return client.user is not None and client.user.joined <= ts

    def _response(self, client: Client, instrument: str, total: int, item9: int, ts: int) -> int:
        """A response, in the portal (often after a request) or entered in session."""
        ctx = self.ctx
        text, band, total = self.answers.get(instrument, total, item9)
        portal = self._portal(client, ts)
        request_id = None
        if portal and ctx.chance(0.4):
            request_id = ctx.ids.take(QuestionnaireRequest)
            asked = ts - ctx.rng.randrange(1, 5) * DAY
            day = ctx.grid.date(ctx.grid.day_of(ts))
            self.requests.add(
                request_id, client.id, instrument, client.therapist.id, asked, day, ts
            )
        response_id = ctx.ids.take(QuestionnaireResponse)
        self.responses.add(
            response_id,
            client.id,
            instrument,
            text,
            total,
            band,
            item9 if instrument == "phq9" else None,
            request_id,
            ts,
            client.user.id if portal else client.therapist.id,
        )
        return response_id

    def _open_requests(self, client: Client) -> None:
        """Questionnaires asked for and not answered yet: due in the portal this week."""
        ctx = self.ctx
        asked = ctx.now - ctx.rng.randrange(1, 10) * DAY
        due = ctx.grid.date(ctx.grid.today + ctx.rng.randrange(0, 7))
        for instrument in ("phq9", "gad7"):
            self.requests.add(
                ctx.ids.take(QuestionnaireRequest),
                client.id,
                instrument,
                client.therapist.id,
                asked,
                due,
                None,
            )

    def flush(self) -> None:
        self.requests.flush()
        self.responses.flush()


def _alerts(ctx: Context, writer: Writer, alerts: list[tuple[Client, int, int, bool]]) -> None:
    """R20: the alert of each positive item 9 and, unless it was entered in session by the
    therapist, its e-mail (R25: only that there is something to review)."""
    rng = ctx.rng
    subject = f"New item to review in {settings.CLINIC_NAME}"
    outbox = writer.table(
        OutboxMessage,
        (
            "id",
            "kind",
            "client_id",
            "to",
            "subject",
            "text",
            "message_id",
            "status",
            "not_before",
            "expires_at",
            "attempts",
            "claimed_at",
            "sent_at",
            "created_at",
            "updated_at",
        ),
    )
    rows = []
    for client, response_id, ts, in_session in alerts:
        message_id = None
        if not in_session:
            message_id = ctx.ids.take(OutboxMessage)
            sent = ts + rng.randrange(20, 90)
            outbox.add(
                message_id,
                "safety_alert",
                client.id,
                client.therapist.email,
                subject,
                "",
                f"<safety_alert-{rng.getrandbits(128):032x}@kapclinic.test>",
                "sent",
                ts,
                ts + 72 * HOUR,
                1,
                sent - 1,
                sent,
                ts,
                sent,
            )
        acknowledged = ts + rng.randrange(1, 30) * HOUR
        if acknowledged > ctx.now or (ts > ctx.now - 3 * DAY and ctx.chance(0.5)):
            acknowledged = None
        rows.append((client, response_id, ts, message_id, acknowledged))
    table = writer.table(
        Alert,
        (
            "id",
            "kind",
            "client_id",
            "recipient_id",
            "response_id",
            "created_at",
            "email_sent_at",
            "message_id",
            "acknowledged_at",
            "acknowledged_by_id",
        ),
    )
    for client, response_id, ts, message_id, acknowledged in rows:
        table.add(
            ctx.ids.take(Alert),
            "phq9_item9",
            client.id,
            client.therapist.id,
            response_id,
            ts,
            ts + 60 if message_id else None,
            message_id,
            acknowledged,
            client.therapist.id if acknowledged else None,
        )
    table.flush()


def _clip(value: int, high: int) -> int:
    return max(0, min(high, value))
