"""The intake form as data (R17): ordered steps, each with its questions in plain language.

Answers are stored in ``Intake.answers`` by step slug, then by question key:
``{"about": {"date_of_birth": "1990-04-02", ...}, "medical": {"heart": "no", ...}}``.
The forms (forms.py), the R18 flags (flags.py), the review pages and the copy of contact
details onto the client record all read this one description, so a question is worded once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from patients.clients.validators import format_phone, validate_date_of_birth
from patients.models.clients import FlagCode

YES, NO, UNSURE = "yes", "no", "unsure"
YES_NO_UNSURE = ((YES, "Yes"), (NO, "No"), (UNSURE, "Unsure"))
YES_NO = ((YES, "Yes"), (NO, "No"))
# R18: the prescriber decides, so "Unsure" raises a flag just as "Yes" does.
FLAG_ANSWERS = frozenset({YES, UNSURE})

ALCOHOL_CHOICES = (
    ("never", "Never"),
    ("monthly", "Monthly or less"),
    ("2-4_month", "2 to 4 times a month"),
    ("2-3_week", "2 to 3 times a week"),
    ("4plus_week", "4 or more times a week"),
)
DRUG_CHOICES = (
    ("never", "Never"),
    ("past", "Only in the past"),
    ("occasionally", "Occasionally"),
    ("regularly", "Regularly"),
)

TEXT, TEXTAREA, DATE, PHONE, CHOICE, CHECKBOX = (
    "text",
    "textarea",
    "date",
    "phone",
    "choice",
    "checkbox",
)
NOTES_MAX = 2000  # free-text answers have a bound (issue #3: "medication list ... length bound")


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    kind: str = TEXT
    required: bool = True
    max_length: int | None = None
    help_text: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    # R18: a Yes or Unsure answer raises this flag (see flags.py for the combined rules).
    flag: FlagCode | None = None
    # Required only when another question on the same step has one of these answers.
    required_if: tuple[str, frozenset[str]] | None = None
    autocomplete: str = ""
    # Shown when ``required_if`` applies and the answer is missing.
    required_if_message: str = ""
    validators: tuple = ()
    # The Client field this answer is copied to on submit, and pre-filled from before then.
    client_field: str = ""

    @property
    def radio(self) -> bool:
        return self.kind == CHOICE and len(self.choices) <= 3

    def display(self, value) -> str:
        """The answer as a person reads it."""
        if value in (None, ""):
            return ""
        if self.kind == CHECKBOX:
            return "Yes" if value else "No"
        if self.kind == CHOICE:
            return dict(self.choices).get(value, str(value))
        if self.kind == PHONE:
            return format_phone(str(value))
        if self.kind == DATE:
            try:
                day = date.fromisoformat(str(value))
                return f"{day:%B} {day.day}, {day.year}"
            except ValueError:
                return str(value)
        return str(value)


@dataclass(frozen=True)
class Section:
    title: str
    questions: tuple[Question, ...]
    intro: str = ""


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    intro: str
    sections: tuple[Section, ...]
    note: str = ""

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for section in self.sections for q in section.questions)

    def question(self, key: str) -> Question:
        return next(q for q in self.questions if q.key == key)


def _ynu(key: str, label: str, flag: FlagCode | None = None, **kwargs) -> Question:
    return Question(key=key, label=label, kind=CHOICE, choices=YES_NO_UNSURE, flag=flag, **kwargs)


def _notes(key: str, label: str, *, required: bool = False, help_text: str = "") -> Question:
    return Question(
        key=key,
        label=label,
        kind=TEXTAREA,
        required=required,
        max_length=NOTES_MAX,
        help_text=help_text,
    )


CONSENT_SLUG = "consent"

STEPS: tuple[Step, ...] = (
    Step(
        slug="about",
        title="About you",
        intro="How to reach you, and how you would like us to address you.",
        sections=(
            Section(
                "Name and date of birth",
                (
                    Question(
                        "preferred_name",
                        "Preferred name",
                        required=False,
                        max_length=100,
                        help_text="If you go by a name other than your legal name.",
                        autocomplete="nickname",
                        client_field="preferred_name",
                    ),
                    Question(
                        "pronouns",
                        "Pronouns",
                        required=False,
                        max_length=40,
                        help_text="For example she/her, he/him, they/them.",
                        client_field="pronouns",
                    ),
                    Question(
                        "date_of_birth",
                        "Date of birth",
                        kind=DATE,
                        autocomplete="bday",
                        validators=(validate_date_of_birth,),
                        client_field="date_of_birth",
                    ),
                ),
            ),
            Section(
                "Contact details",
                (
                    Question(
                        "phone",
                        "Mobile phone",
                        kind=PHONE,
                        autocomplete="tel",
                        client_field="phone",
                    ),
                    Question(
                        "address",
                        "Home address",
                        kind=TEXTAREA,
                        max_length=500,
                        autocomplete="street-address",
                        client_field="address",
                    ),
                ),
            ),
        ),
    ),
    Step(
        slug="contacts",
        title="Emergency contact and chaperone",
        intro="Someone we can call in an emergency, and the adult who will take you home after "
        "each dosing session.",
        sections=(
            Section(
                "Emergency contact",
                (
                    Question(
                        "emergency_name",
                        "Name",
                        max_length=150,
                        client_field="emergency_contact_name",
                    ),
                    Question(
                        "emergency_relationship",
                        "Relationship to you",
                        max_length=60,
                        help_text="For example partner, parent, friend.",
                        client_field="emergency_contact_relationship",
                    ),
                    Question(
                        "emergency_phone",
                        "Phone",
                        kind=PHONE,
                        client_field="emergency_contact_phone",
                    ),
                ),
            ),
            Section(
                "Chaperone",
                (
                    Question(
                        "chaperone_name",
                        "Name",
                        max_length=150,
                        client_field="chaperone_name",
                    ),
                    Question(
                        "chaperone_phone",
                        "Phone",
                        kind=PHONE,
                        client_field="chaperone_phone",
                    ),
                ),
                # R15: discharge only to a chaperone; no driving until the next day.
                intro="Your chaperone must collect you and take you home after every dosing "
                "session. You must not drive until the next day. You can name someone else for "
                "a particular session later.",
            ),
        ),
    ),
    Step(
        slug="doctor",
        title="Primary care provider",
        intro="Your own doctor usually does the in-person medical check before treatment.",
        sections=(
            Section(
                "Your doctor",
                (
                    Question(
                        "has_pcp",
                        "Do you have a primary care provider (a family doctor)?",
                        kind=CHOICE,
                        choices=YES_NO,
                    ),
                    Question(
                        "pcp_name",
                        "Doctor's name",
                        max_length=150,
                        required=False,
                        required_if=("has_pcp", frozenset({YES})),
                        required_if_message="Give your doctor's name, or answer No above.",
                        client_field="pcp_name",
                    ),
                    Question(
                        "pcp_practice",
                        "Practice or clinic",
                        max_length=150,
                        required=False,
                        client_field="pcp_practice",
                    ),
                    Question(
                        "pcp_phone",
                        "Practice phone",
                        kind=PHONE,
                        required=False,
                        required_if=("has_pcp", frozenset({YES})),
                        required_if_message="Give the practice's phone number, or answer No above.",
                        client_field="pcp_phone",
                    ),
                ),
            ),
        ),
    ),
    Step(
        slug="medical",
        title="Medical history",
        intro="Some health conditions need a closer look by the prescriber before ketamine can "
        "be used safely. If you are not sure, choose Unsure: the prescriber will ask you.",
        sections=(
            Section(
                "Blood pressure",
                (
                    _ynu(
                        "high_bp",
                        "Have you ever been told you have high blood pressure?",
                        FlagCode.HYPERTENSION,
                    ),
                    _ynu(
                        "bp_controlled",
                        "If Yes or Unsure: is your blood pressure well controlled now, for "
                        "example with medication?",
                        required=False,
                        required_if=("high_bp", FLAG_ANSWERS),
                        required_if_message="Please answer this too, as you answered Yes or "
                        "Unsure about high blood pressure.",
                    ),
                    _notes(
                        "bp_history",
                        "Recent blood pressure readings or other history",
                        help_text="For example \u201c130/85 at my doctor's in March\u201d.",
                    ),
                ),
            ),
            Section(
                "Have you ever had, or been told you have:",
                (
                    _ynu(
                        "heart",
                        "Heart disease, a heart attack, or an irregular heartbeat (arrhythmia)?",
                        FlagCode.CARDIAC,
                    ),
                    _ynu(
                        "aneurysm",
                        "An aneurysm, an arteriovenous malformation (AVM), or bleeding in the "
                        "brain?",
                        FlagCode.ANEURYSM,
                    ),
                    _ynu("glaucoma", "Glaucoma or raised pressure in the eye?", FlagCode.GLAUCOMA),
                    _ynu(
                        "liver",
                        "Liver disease, for example hepatitis or cirrhosis?",
                        FlagCode.LIVER,
                    ),
                    _ynu(
                        "bladder",
                        "Bladder problems, such as cystitis or pain when passing urine?",
                        FlagCode.BLADDER,
                    ),
                    _ynu(
                        "hyperthyroidism",
                        "An overactive thyroid (hyperthyroidism)?",
                        FlagCode.HYPERTHYROIDISM,
                    ),
                    _ynu(
                        "ketamine_allergy",
                        "An allergic reaction to ketamine?",
                        FlagCode.KETAMINE_ALLERGY,
                    ),
                ),
            ),
            Section(
                "Pregnancy",
                (
                    _ynu(
                        "pregnancy",
                        "Are you pregnant, breastfeeding, or trying to conceive?",
                        FlagCode.PREGNANCY,
                    ),
                ),
            ),
            Section(
                "Medications and allergies",
                (
                    _notes(
                        "medications",
                        "Current medications and supplements",
                        required=True,
                        help_text="Name, dose and how often, one per line. Write \u201cNone\u201d "
                        "if you take none.",
                    ),
                    Question(
                        "allergies",
                        "Allergies",
                        kind=TEXTAREA,
                        max_length=1000,
                        help_text="To medicines, foods or anything else, and what happens. "
                        "Write \u201cNone\u201d if you have none.",
                    ),
                ),
            ),
        ),
    ),
    Step(
        slug="psychiatric",
        title="Mental health history",
        intro="These answers help your care team plan safe sessions. They are seen only by "
        "your care team and your prescriber.",
        note="If you are thinking about ending your life now, please call or text 988 (US) or "
        "your local emergency number straight away.",
        sections=(
            Section(
                "Have you ever had, or been told you have:",
                (
                    _ynu(
                        "psychosis",
                        "Psychosis, schizophrenia or schizoaffective disorder (for example "
                        "hearing voices others could not hear)?",
                        FlagCode.PSYCHOSIS,
                    ),
                    _ynu(
                        "dissociative",
                        "A dissociative disorder, such as dissociative identity disorder?",
                        FlagCode.DISSOCIATIVE,
                    ),
                    _ynu(
                        "mania",
                        "Mania, hypomania or bipolar disorder?",
                        FlagCode.MANIA,
                    ),
                ),
            ),
            Section(
                "Right now",
                (
                    _ynu(
                        "suicidal_thoughts",
                        "Are you currently having thoughts of ending your life?",
                        FlagCode.SUICIDAL_IDEATION,
                    ),
                ),
            ),
            Section(
                "Anything else",
                (
                    _notes(
                        "psychiatric_notes",
                        "Other diagnoses, treatment or hospital stays for your mental health",
                    ),
                ),
            ),
        ),
    ),
    Step(
        slug="substances",
        title="Alcohol and drugs",
        intro="Honest answers keep you safe: some substances do not mix well with ketamine.",
        sections=(
            Section(
                "Alcohol and drugs",
                (
                    Question(
                        "alcohol",
                        "How often do you have a drink containing alcohol?",
                        kind=CHOICE,
                        choices=ALCOHOL_CHOICES,
                    ),
                    Question(
                        "drugs",
                        "Do you use cannabis or other recreational drugs?",
                        kind=CHOICE,
                        choices=DRUG_CHOICES,
                    ),
                    _ynu(
                        "substance_use_disorder",
                        "Have you ever been diagnosed with, or treated for, a substance use "
                        "problem (alcohol or drugs)?",
                        FlagCode.SUBSTANCE_USE,
                    ),
                    _notes(
                        "substance_notes",
                        "Anything you would like to add",
                    ),
                ),
            ),
        ),
    ),
    Step(
        slug="experience",
        title="Ketamine and psychedelics",
        intro="Previous experiences, good or difficult, help your therapist prepare with you.",
        sections=(
            Section(
                "Previous experience",
                (
                    Question(
                        "ketamine_before",
                        "Have you taken ketamine before, as a medicine or otherwise?",
                        kind=CHOICE,
                        choices=YES_NO,
                    ),
                    Question(
                        "psychedelics_before",
                        "Have you taken psychedelics, such as psilocybin, LSD, MDMA or ayahuasca?",
                        kind=CHOICE,
                        choices=YES_NO,
                    ),
                    _notes(
                        "experience_notes",
                        "Tell us about these experiences, including any difficult ones",
                    ),
                ),
            ),
        ),
    ),
    Step(
        slug="goals",
        title="Goals and intentions",
        intro="What you hope for. There are no right answers.",
        sections=(
            Section(
                "Your goals",
                (
                    _notes(
                        "goals",
                        "What would you like to change or achieve with this treatment?",
                        required=True,
                    ),
                    _notes(
                        "concerns",
                        "Is there anything you are worried about?",
                    ),
                ),
            ),
        ),
    ),
    Step(
        slug=CONSENT_SLUG,
        title="Informed consent",
        intro="Please read the consent below. Sign by typing your full legal name.",
        sections=(
            Section(
                "Your signature",
                (
                    Question(
                        "name",
                        "Your full legal name",
                        max_length=200,
                        autocomplete="name",
                        help_text="As your therapist has it on record.",
                    ),
                    Question(
                        "agree",
                        "I have read and agree to the consent above",
                        kind=CHECKBOX,
                    ),
                ),
            ),
        ),
    ),
)

STEP_SLUGS: tuple[str, ...] = tuple(step.slug for step in STEPS)
_BY_SLUG = {step.slug: step for step in STEPS}


def get_step(slug: str) -> Step | None:
    return _BY_SLUG.get(slug)


def step_number(slug: str) -> int:
    return STEP_SLUGS.index(slug) + 1


def step_title(slug: str) -> str:
    step = _BY_SLUG.get(slug)
    return step.title if step else ""


def neighbours(slug: str) -> tuple[Step | None, Step | None]:
    """The steps before and after ``slug`` (None at either end)."""
    index = STEP_SLUGS.index(slug)
    before = STEPS[index - 1] if index > 0 else None
    after = STEPS[index + 1] if index + 1 < len(STEPS) else None
    return before, after


def client_fields() -> Iterator[tuple[str, Question]]:
    """(step slug, question) for every answer that belongs on the client record."""
    for step in STEPS:
        for question in step.questions:
            if question.client_field:
                yield step.slug, question
