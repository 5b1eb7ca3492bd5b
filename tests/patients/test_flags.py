"""R18: each screening answer raises its flag for prescriber review; Unsure counts as Yes; all No
raises none. ``flags_for`` is pure: no database."""

from __future__ import annotations

import copy

import pytest

from patients.intake.flags import flags_for, information_for
from patients.intake.schema import STEPS
from patients.models.clients import FlagCode
from tests.factories_intake import POST_BY_STEP

# (step, question key, flag) for every question that raises a flag on its own.
SIMPLE = [
    ("medical", "heart", FlagCode.CARDIAC),
    ("medical", "aneurysm", FlagCode.ANEURYSM),
    ("medical", "glaucoma", FlagCode.GLAUCOMA),
    ("medical", "liver", FlagCode.LIVER),
    ("medical", "bladder", FlagCode.BLADDER),
    ("medical", "hyperthyroidism", FlagCode.HYPERTHYROIDISM),
    ("medical", "pregnancy", FlagCode.PREGNANCY),
    ("medical", "ketamine_allergy", FlagCode.KETAMINE_ALLERGY),
    ("psychiatric", "psychosis", FlagCode.PSYCHOSIS),
    ("psychiatric", "dissociative", FlagCode.DISSOCIATIVE),
    ("psychiatric", "mania", FlagCode.MANIA),
    ("psychiatric", "suicidal_thoughts", FlagCode.SUICIDAL_IDEATION),
    ("substances", "substance_use_disorder", FlagCode.SUBSTANCE_USE),
]


def all_no() -> dict:
    answers = copy.deepcopy(POST_BY_STEP)
    answers["consent"] = {"name": "Maya Patel", "agree": True}
    return answers


def test_every_flag_code_has_a_question():
    # Guards the table above: a new FlagCode without a question (or test) fails here.
    covered = {flag for _, _, flag in SIMPLE} | {FlagCode.HYPERTENSION}
    assert covered == set(FlagCode)
    schema_flags = {q.flag for step in STEPS for q in step.questions if q.flag}
    assert schema_flags == set(FlagCode)


def test_all_no_raises_no_flag():
    assert flags_for(all_no()) == []


def test_empty_answers_raise_no_flag():
    assert flags_for({}) == []


@pytest.mark.parametrize(("step", "key", "flag"), SIMPLE)
@pytest.mark.parametrize(("answer", "label"), [("yes", "Yes"), ("unsure", "Unsure")])
def test_yes_or_unsure_raises_the_flag_with_its_evidence(step, key, flag, answer, label):
    answers = all_no()
    answers[step][key] = answer
    raised = flags_for(answers)
    assert [code for code, _ in raised] == [flag]
    evidence = raised[0][1]
    question = next(q for q in next(s for s in STEPS if s.slug == step).questions if q.key == key)
    assert evidence == [{"question": question.label, "answer": label}]


@pytest.mark.parametrize(("step", "key", "flag"), SIMPLE)
def test_no_does_not_raise_the_flag(step, key, flag):
    answers = all_no()
    answers[step][key] = "no"
    assert flag not in dict(flags_for(answers))


@pytest.mark.parametrize(
    ("high_bp", "controlled", "raised"),
    [
        ("no", "", False),
        ("no", "no", False),  # a stray answer to the follow-up does not count without high BP
        ("yes", "yes", False),  # controlled hypertension: recorded, not flagged
        ("yes", "no", True),
        ("yes", "unsure", True),
        ("yes", "", True),  # not known to be controlled
        ("unsure", "yes", True),  # unsure whether they have it: the prescriber asks
        ("unsure", "", True),
    ],
)
def test_uncontrolled_or_unsure_hypertension(high_bp, controlled, raised):
    answers = all_no()
    answers["medical"].update(high_bp=high_bp, bp_controlled=controlled)
    flags = dict(flags_for(answers))
    assert (FlagCode.HYPERTENSION in flags) is raised
    if raised:
        assert flags[FlagCode.HYPERTENSION][0] == {
            "question": "Have you ever been told you have high blood pressure?",
            "answer": {"yes": "Yes", "unsure": "Unsure"}[high_bp],
        }


def test_hypertension_evidence_includes_the_history_typed():
    answers = all_no()
    answers["medical"].update(high_bp="yes", bp_controlled="no", bp_history="150/95 in March")
    evidence = dict(flags_for(answers))[FlagCode.HYPERTENSION]
    assert [item["answer"] for item in evidence] == ["Yes", "No", "150/95 in March"]


def test_several_flags_come_in_a_stable_order():
    answers = all_no()
    answers["medical"].update(liver="yes", high_bp="yes", bp_controlled="no")
    answers["psychiatric"]["suicidal_thoughts"] = "unsure"
    codes = [code for code, _ in flags_for(answers)]
    assert codes == [FlagCode.HYPERTENSION, FlagCode.SUICIDAL_IDEATION, FlagCode.LIVER]


def test_an_unknown_answer_raises_nothing():
    # Only the exact choices count; a crafted value never raises or hides a flag by accident.
    answers = all_no()
    answers["medical"]["liver"] = "YES!"
    assert flags_for(answers) == []


# --- Information that is not a flag (R18: controlled hypertension) ------------------------------


def test_controlled_hypertension_is_information_not_a_flag():
    answers = all_no()
    answers["medical"].update(
        high_bp="yes", bp_controlled="yes", bp_history="", medications="Lisinopril 10 mg"
    )
    assert FlagCode.HYPERTENSION not in dict(flags_for(answers))
    [item] = information_for(answers)
    assert item.label == "Hypertension, reported controlled (e.g. on medication)"
    assert item.evidence == [
        {"question": "Have you ever been told you have high blood pressure?", "answer": "Yes"},
        {
            "question": "If Yes or Unsure: is your blood pressure well controlled now, for "
            "example with medication?",
            "answer": "Yes",
        },
        {"question": "Current medications and supplements", "answer": "Lisinopril 10 mg"},
    ]


@pytest.mark.parametrize(
    ("high_bp", "controlled"),
    [("no", ""), ("no", "yes"), ("yes", "no"), ("yes", "unsure"), ("yes", ""), ("unsure", "yes")],
)
def test_only_controlled_hypertension_is_information(high_bp, controlled):
    # The uncontrolled or unsure cases are the R18 flag instead (above); none is both.
    answers = all_no()
    answers["medical"].update(high_bp=high_bp, bp_controlled=controlled)
    assert information_for(answers) == []
