"""R19 scoring: totals and bands at every band boundary, item 9, and refused input."""

from __future__ import annotations

import re

import pytest

from patients.questionnaires import scoring


def answers_for(instrument: str, total: int) -> list[int]:
    """A valid answer list of ``instrument`` adding up to ``total`` (filled from the first item)."""
    spec = scoring.definition(instrument)
    answers = []
    remaining = total
    for _ in spec.items:
        value = min(spec.max_item, remaining)
        answers.append(value)
        remaining -= value
    assert remaining == 0, "total out of range for the helper"
    return answers


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands(total, band):
    result = scoring.score("phq9", answers_for("phq9", total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands(total, band):
    result = scoring.score("gad7", answers_for("gad7", total))
    assert (result.total, result.band, result.item9) == (total, band, None)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "below provisional cut-off"),
        (30, "below provisional cut-off"),
        (31, "at provisional cut-off (31–33)"),
        (33, "at provisional cut-off (31–33)"),
        (34, "above provisional cut-off"),
        (80, "above provisional cut-off"),
    ],
)
def test_pcl5_bands_around_the_provisional_cut_off(total, band):
    result = scoring.score("pcl5", answers_for("pcl5", total))
    assert (result.total, result.band, result.item9) == (total, band, None)


def test_every_band_label_fits_the_stored_column():
    for spec in scoring.DEFINITIONS.values():
        for band in spec.bands:
            assert len(band.label) <= 40
        # Bands cover 0..max with no gap and no overlap.
        covered = [n for band in spec.bands for n in range(band.low, band.high + 1)]
        assert covered == list(range(spec.max_total + 1)), spec.name


def test_item_counts_and_scales():
    assert (len(scoring.PHQ9.items), scoring.PHQ9.max_total) == (9, 27)
    assert (len(scoring.GAD7.items), scoring.GAD7.max_total) == (7, 21)
    assert (len(scoring.PCL5.items), scoring.PCL5.max_total) == (20, 80)
    assert [label for _, label in scoring.PHQ9.choices] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert [label for _, label in scoring.PCL5.choices] == [
        "Not at all",
        "A little bit",
        "Moderately",
        "Quite a bit",
        "Extremely",
    ]


def test_exact_public_domain_wording_of_key_items():
    assert scoring.PHQ9.items[8] == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert scoring.PHQ9.stem == (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )
    assert scoring.GAD7.stem == (
        "Over the last 2 weeks, how often have you been bothered by the following problems?"
    )
    assert scoring.GAD7.items[0] == "Feeling nervous, anxious, or on edge"
    assert scoring.PCL5.stem == "In the past month, how much were you bothered by:"
    assert scoring.PCL5.items[19] == "Trouble falling or staying asleep?"


@pytest.mark.parametrize(("item9", "positive"), [(0, False), (1, True), (3, True)])
def test_phq9_item9_is_reported(item9, positive):
    answers = [0] * 8 + [item9]
    result = scoring.score("phq9", answers)
    assert result.item9 == item9
    assert result.item9_positive is positive
    assert result.total == item9


@pytest.mark.parametrize(
    ("instrument", "answers", "message"),
    [
        ("phq9", [0] * 8, "PHQ-9 has 9 questions; got 8 answers."),
        ("phq9", [0] * 10, "PHQ-9 has 9 questions; got 10 answers."),
        ("gad7", [], "GAD-7 has 7 questions; got 0 answers."),
        ("pcl5", [0] * 19, "PCL-5 has 20 questions; got 19 answers."),
        ("phq9", [0] * 8 + [4], "PHQ-9 question 9: the answer must be between 0 and 3; got 4."),
        ("gad7", [-1] + [0] * 6, "GAD-7 question 1: the answer must be between 0 and 3; got -1."),
        ("pcl5", [5] + [0] * 19, "PCL-5 question 1: the answer must be between 0 and 4; got 5."),
        ("gad7", ["1"] + [0] * 6, "GAD-7 question 1: the answer must be a whole number."),
        ("gad7", [True] + [0] * 6, "GAD-7 question 1: the answer must be a whole number."),
        ("gad7", [1.0] + [0] * 6, "GAD-7 question 1: the answer must be a whole number."),
        ("bdi", [0] * 21, "Unknown questionnaire 'bdi'."),
    ],
)
def test_invalid_answers_are_refused_with_a_clear_message(instrument, answers, message):
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        scoring.score(instrument, answers)
    assert str(error.value) == message


def test_pcl5_accepts_4_where_phq9_does_not():
    assert scoring.score("pcl5", [4] * 20).total == 80


def test_band_for_refuses_impossible_totals():
    with pytest.raises(ValueError, match="from 0 to 27"):
        scoring.band_for("phq9", 28)


def test_band_level_orders_severity():
    assert [scoring.band_level("phq9", b.label) for b in scoring.PHQ9.bands] == [0, 1, 2, 3, 4]
    assert scoring.band_level("phq9", "nonsense") == 0
    assert scoring.band_level("unknown", "mild") == 0
