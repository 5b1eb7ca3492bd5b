"""R18 flags for prescriber review, computed from intake answers by one pure function, and the
facts the prescriber should know that are not flags (``information_for``).

A flag is raised by a Yes *or* an Unsure answer: the software flags, the prescriber decides
(DOMAIN.md, "the prescriber decides; the app flags"). Flags never block anything by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from patients.intake.schema import FLAG_ANSWERS, STEPS, YES, Question, get_step
from patients.models.clients import FlagCode

Evidence = list[dict[str, str]]

# Questions whose answer needs more than "Yes/Unsure raises it" (see _hypertension).
_COMBINED = {FlagCode.HYPERTENSION}


def _evidence(question: Question, value) -> dict[str, str]:
    return {"question": question.label, "answer": question.display(value) or "Not answered"}


def _hypertension(answers: dict) -> Evidence:
    """R18 flags *uncontrolled* hypertension [S]: high blood pressure (Yes or Unsure) that is not
    known to be well controlled. "Unsure whether I have it" raises it whatever the control."""
    step = get_step("medical")
    values = answers.get("medical") or {}
    high, controlled = values.get("high_bp"), values.get("bp_controlled")
    if high not in FLAG_ANSWERS:
        return []
    if high == YES and controlled == YES:
        return []
    evidence = [_evidence(step.question("high_bp"), high)]
    if high == YES or controlled not in (None, ""):
        evidence.append(_evidence(step.question("bp_controlled"), controlled))
    if (values.get("bp_history") or "").strip():
        evidence.append(_evidence(step.question("bp_history"), values["bp_history"]))
    return evidence


@dataclass(frozen=True)
class Information:
    """A fact from the intake shown to the prescriber for information: not an R18 flag, not a
    contraindication."""

    code: str
    label: str
    evidence: Evidence


CONTROLLED_HYPERTENSION = "controlled_hypertension"
CONTROLLED_HYPERTENSION_LABEL = "Hypertension, reported controlled (e.g. on medication)"


def information_for(answers: dict) -> list[Information]:
    """What the prescriber should know besides the flags. R18 flags only *uncontrolled*
    hypertension; high blood pressure the client reports as well controlled (the question says
    "for example with medication") raises no flag, but the prescriber still sees it."""
    step = get_step("medical")
    values = answers.get("medical") or {}
    if not (values.get("high_bp") == YES and values.get("bp_controlled") == YES):
        return []
    evidence = [
        _evidence(step.question("high_bp"), values["high_bp"]),
        _evidence(step.question("bp_controlled"), values["bp_controlled"]),
    ]
    for key in ("bp_history", "medications"):
        if (values.get(key) or "").strip():
            evidence.append(_evidence(step.question(key), values[key]))
    return [
        Information(
            code=CONTROLLED_HYPERTENSION, label=CONTROLLED_HYPERTENSION_LABEL, evidence=evidence
        )
    ]


def flags_for(answers: dict) -> list[tuple[FlagCode, Evidence]]:
    """The R18 flags ``answers`` raise, in FlagCode order, each with the questions and answers
    that raised it: ``[(FlagCode.LIVER, [{"question": "...", "answer": "Yes"}]), ...]``."""
    raised: dict[FlagCode, Evidence] = {}
    hypertension = _hypertension(answers)
    if hypertension:
        raised[FlagCode.HYPERTENSION] = hypertension
    for step in STEPS:
        values = answers.get(step.slug) or {}
        for question in step.questions:
            if question.flag is None or question.flag in _COMBINED:
                continue
            value = values.get(question.key)
            if value in FLAG_ANSWERS:
                raised.setdefault(question.flag, []).append(_evidence(question, value))
    order = list(FlagCode)
    return sorted(raised.items(), key=lambda item: order.index(item[0]))
