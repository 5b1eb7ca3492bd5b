"""Reads about intakes for the intake pages and for other pages (client record hub, portal home).
Fixed query counts whatever the number of flags or amendments."""

from __future__ import annotations

from dataclasses import dataclass, field

from patients.intake.flags import Information, flags_for, information_for
from patients.intake.forms import completed_steps
from patients.intake.schema import FLAG_ANSWERS, STEPS, Question, Step
from patients.models import Client, ClientFlag, ConsentDocument, Intake


@dataclass
class AnswerRow:
    question: Question
    value: object
    text: str
    flagged: bool


@dataclass
class StepAnswers:
    step: Step
    # (section title, rows); the title is blank when the step has a single section.
    sections: list[tuple[str, list[AnswerRow]]] = field(default_factory=list)
    complete: bool = True


def answer_rows(answers: dict, *, complete: dict[str, bool] | None = None) -> list[StepAnswers]:
    """Every step with its questions and answers, for the review pages (portal and staff). An
    answer is marked flagged only when its flag is raised (R18: a Yes to high blood pressure that
    is well controlled is information, not a flag)."""
    raised = {code for code, _ in flags_for(answers)}
    result = []
    for step in STEPS:
        values = answers.get(step.slug) or {}
        sections = []
        for section in step.sections:
            rows = []
            for question in section.questions:
                value = values.get(question.key)
                rows.append(
                    AnswerRow(
                        question=question,
                        value=value,
                        text=question.display(value),
                        flagged=question.flag in raised and value in FLAG_ANSWERS,
                    )
                )
            sections.append((section.title if len(step.sections) > 1 else "", rows))
        result.append(
            StepAnswers(
                step=step,
                sections=sections,
                complete=True if complete is None else complete.get(step.slug, False),
            )
        )
    return result


def intake_summary(*, client: Client) -> dict:
    """For the client record: the client's current intake (the draft in progress, or the latest
    submitted one) and the R18 flags currently raised. Two queries."""
    intake = (
        client.intakes.select_related("reviewed_by", "amends", "amends__reviewed_by")
        .order_by("-created_at", "-id")
        .first()
    )
    flags = list(ClientFlag.objects.filter(client=client, is_current=True).order_by("code"))
    return {"intake": intake, "flags": flags}


def portal_intake_task(*, client: Client) -> Intake | None:
    """The intake the client still has to finish, if any."""
    return client.intakes.filter(status=Intake.Status.DRAFT).first()


def draft_for(*, client: Client) -> Intake | None:
    return client.intakes.filter(status=Intake.Status.DRAFT).first()


def latest_submitted(*, client: Client) -> Intake | None:
    return (
        client.intakes.filter(status=Intake.Status.SUBMITTED)
        .select_related("consent")
        .order_by("-submitted_at", "-id")
        .first()
    )


def latest_consent() -> ConsentDocument | None:
    return ConsentDocument.objects.order_by("-published_at", "-id").first()


@dataclass
class Progress:
    """How far a draft has got, for the progress indicator and the staff status line."""

    completed: dict[str, bool]
    done: int = 0
    total: int = len(STEPS)

    def __post_init__(self) -> None:
        self.done = sum(self.completed.values())

    @property
    def steps(self) -> list[tuple[Step, bool]]:
        return [(step, self.completed.get(step.slug, False)) for step in STEPS]


def draft_progress(*, intake: Intake, consent: ConsentDocument | None) -> Progress:
    return Progress(
        completed=completed_steps(answers=intake.answers, client=intake.client, consent=consent)
    )


@dataclass
class IntakeReview:
    """The staff intake page: every intake of the client (history), the one shown, its flags
    with their evidence, what the prescriber should know that is not a flag, and the draft in
    progress if any."""

    intakes: list[Intake]
    shown: Intake | None
    flags: list[ClientFlag]
    rows: list[StepAnswers] = field(default_factory=list)
    # For the prescriber's information, not flags (R18: e.g. controlled hypertension).
    information: list[Information] = field(default_factory=list)
    draft: Intake | None = None
    progress: Progress | None = None


def intake_review(*, client: Client, intake_id: int | None = None) -> IntakeReview | None:
    """None when ``intake_id`` is not one of this client's submitted intakes. Three queries, four
    while a draft is in progress."""
    intakes = list(
        client.intakes.select_related("submitted_by", "reviewed_by", "consent").order_by(
            "-created_at", "-id"
        )
    )
    for intake in intakes:
        intake.client = client  # for the progress check: no query per intake
    submitted = [i for i in intakes if i.is_locked]
    draft = next((i for i in intakes if not i.is_locked), None)
    if intake_id is None:
        shown = max(submitted, key=lambda i: (i.submitted_at, i.pk), default=None)
    else:
        shown = next((i for i in submitted if i.pk == intake_id), None)
        if shown is None:
            return None
    flags = list(ClientFlag.objects.filter(intake=shown).order_by("code")) if shown else []
    return IntakeReview(
        intakes=submitted,
        shown=shown,
        flags=flags,
        rows=answer_rows(shown.answers) if shown else [],
        information=information_for(shown.answers) if shown else [],
        draft=draft,
        progress=draft_progress(intake=draft, consent=latest_consent()) if draft else None,
    )
