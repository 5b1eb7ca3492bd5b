"""R19 outcome measures: the item wording and the scoring, as pure functions.

The three instruments are in the public domain and reproduced word for word:

- PHQ-9: Kroenke, Spitzer & Williams (2001), developed with an educational grant from Pfizer;
  "No permission required to reproduce, translate, display or distribute".
- GAD-7: Spitzer, Kroenke, Williams & Löwe (2006), same terms.
- PCL-5: Weathers et al. (2013), National Center for PTSD (US Department of Veterans Affairs),
  public domain. The paper form says "circle one of the numbers to the right"; on screen that is
  "choose one answer", the only change.

BDI, BAI and C-SSRS are licensed: their items must never be embedded here (R19).

Nothing here touches the database: the services store what ``score`` returns, and the POST never
supplies a total or a band.
"""

from __future__ import annotations

from dataclasses import dataclass

PHQ_GAD_CHOICES: tuple[tuple[int, str], ...] = (
    (0, "Not at all"),
    (1, "Several days"),
    (2, "More than half the days"),
    (3, "Nearly every day"),
)
PCL5_CHOICES: tuple[tuple[int, str], ...] = (
    (0, "Not at all"),
    (1, "A little bit"),
    (2, "Moderately"),
    (3, "Quite a bit"),
    (4, "Extremely"),
)


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str
    # 0 (lowest) to 4 (highest): drives the badge colour; the label always carries the meaning.
    level: int


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    title: str
    instructions: str
    stem: str
    items: tuple[str, ...]
    choices: tuple[tuple[int, str], ...]
    bands: tuple[Band, ...]

    @property
    def max_item(self) -> int:
        return self.choices[-1][0]

    @property
    def max_total(self) -> int:
        return self.max_item * len(self.items)


PHQ9 = Definition(
    key="phq9",
    name="PHQ-9",
    title="Patient Health Questionnaire (PHQ-9)",
    instructions="",
    stem=(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    items=(
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself — or that you are a failure or have let yourself or your "
        "family down",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
        "being so fidgety or restless that you have been moving around a lot more than usual",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
    ),
    choices=PHQ_GAD_CHOICES,
    bands=(
        Band(0, 4, "minimal", 0),
        Band(5, 9, "mild", 1),
        Band(10, 14, "moderate", 2),
        Band(15, 19, "moderately severe", 3),
        Band(20, 27, "severe", 4),
    ),
)

GAD7 = Definition(
    key="gad7",
    name="GAD-7",
    title="Generalized Anxiety Disorder 7-item scale (GAD-7)",
    instructions="",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=(
        "Feeling nervous, anxious, or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid as if something awful might happen",
    ),
    choices=PHQ_GAD_CHOICES,
    bands=(
        Band(0, 4, "minimal", 0),
        Band(5, 9, "mild", 1),
        Band(10, 14, "moderate", 2),
        Band(15, 21, "severe", 4),
    ),
)

PCL5 = Definition(
    key="pcl5",
    name="PCL-5",
    title="PTSD Checklist for DSM-5 (PCL-5)",
    instructions=(
        "Below is a list of problems that people sometimes have in response to a very stressful "
        "experience. Please read each problem carefully and then choose one answer to indicate "
        "how much you have been bothered by that problem in the past month."
    ),
    stem="In the past month, how much were you bothered by:",
    items=(
        "Repeated, disturbing, and unwanted memories of the stressful experience?",
        "Repeated, disturbing dreams of the stressful experience?",
        "Suddenly feeling or acting as if the stressful experience were actually happening again "
        "(as if you were actually back there reliving it)?",
        "Feeling very upset when something reminded you of the stressful experience?",
        "Having strong physical reactions when something reminded you of the stressful "
        "experience (for example, heart pounding, trouble breathing, sweating)?",
        "Avoiding memories, thoughts, or feelings related to the stressful experience?",
        "Avoiding external reminders of the stressful experience (for example, people, places, "
        "conversations, activities, objects, or situations)?",
        "Trouble remembering important parts of the stressful experience?",
        "Having strong negative beliefs about yourself, other people, or the world (for example, "
        "having thoughts such as: I am bad, there is something seriously wrong with me, no one "
        "can be trusted, the world is completely dangerous)?",
        "Blaming yourself or someone else for the stressful experience or what happened after it?",
        "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
        "Loss of interest in activities that you used to enjoy?",
        "Feeling distant or cut off from other people?",
        "Trouble experiencing positive feelings (for example, being unable to feel happiness or "
        "have loving feelings for people close to you)?",
        "Irritable behavior, angry outbursts, or acting aggressively?",
        "Taking too many risks or doing things that could cause you harm?",
        "Being “superalert” or watchful or on guard?",
        "Feeling jumpy or easily startled?",
        "Having difficulty concentrating?",
        "Trouble falling or staying asleep?",
    ),
    choices=PCL5_CHOICES,
    # The provisional cut-off is "31–33" (National Center for PTSD): a range, not a point, so the
    # three bands say where a total sits relative to it. It is a screen, not a diagnosis.
    bands=(
        Band(0, 30, "below provisional cut-off", 0),
        Band(31, 33, "at provisional cut-off (31–33)", 3),
        Band(34, 80, "above provisional cut-off", 4),
    ),
)

DEFINITIONS: dict[str, Definition] = {d.key: d for d in (PHQ9, GAD7, PCL5)}

# PHQ-9 item 9 ("Thoughts that you would be better off dead or of hurting yourself"), 1-based.
ITEM9_INDEX = 8


@dataclass(frozen=True)
class Score:
    total: int
    band: str
    # PHQ-9 only: the item-9 answer (R20); None for other instruments.
    item9: int | None
    level: int = 0

    @property
    def item9_positive(self) -> bool:
        return bool(self.item9)


def definition(instrument: str) -> Definition:
    try:
        return DEFINITIONS[instrument]
    except KeyError:
        raise ValueError(f"Unknown questionnaire {instrument!r}.") from None


def score(instrument: str, answers: list[int]) -> Score:
    """Total, severity band and (PHQ-9) item 9 for a complete set of answers.

    Raises ValueError when the instrument is unknown, an answer is missing or extra, or an answer
    is outside the instrument's scale (0–3; PCL-5 0–4). Booleans are refused: True is not 1.
    """
    spec = definition(instrument)
    answers = list(answers)
    if len(answers) != len(spec.items):
        raise ValueError(
            f"{spec.name} has {len(spec.items)} questions; got {len(answers)} answers."
        )
    for number, value in enumerate(answers, start=1):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{spec.name} question {number}: the answer must be a whole number.")
        if not 0 <= value <= spec.max_item:
            raise ValueError(
                f"{spec.name} question {number}: the answer must be between 0 and "
                f"{spec.max_item}; got {value}."
            )
    total = sum(answers)
    band = band_for(instrument, total)
    item9 = answers[ITEM9_INDEX] if instrument == PHQ9.key else None
    return Score(total=total, band=band.label, item9=item9, level=band.level)


def band_for(instrument: str, total: int) -> Band:
    spec = definition(instrument)
    for band in spec.bands:
        if band.low <= total <= band.high:
            return band
    raise ValueError(f"{spec.name} totals run from 0 to {spec.max_total}; got {total}.")


def band_level(instrument: str, label: str) -> int:
    """The colour level of a stored band label (0–4), 0 when the label is unknown."""
    spec = DEFINITIONS.get(instrument)
    if spec is None:
        return 0
    return next((band.level for band in spec.bands if band.label == label), 0)


def answer_label(instrument: str, value: int) -> str:
    return dict(definition(instrument).choices).get(value, str(value))
