"""Which care-leaver status the law gives a young person, from the few facts it turns on.

The statuses are those of the Children Act 1989 as amended by the Children (Leaving Care)
Act 2000 and the Children and Social Work Act 2017, in plain words:

- eligible: 16 or 17, still looked after, and looked after for at least 13 weeks in all
  since the age of 14, with some of that time after turning 16;
- relevant: 16 or 17, the same 13 weeks, but no longer looked after;
- former relevant: 18 to 25, and was eligible or relevant before turning 18;
- qualifying: 16 to 25, looked after at some time after turning 16 but without the
  13 weeks (or under a special guardianship order after being looked after).

Any answer the young person is not sure of leads to "not sure": the checker never guesses
a status, it sends them to someone who can look at their records.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

YES, NO, UNSURE = "yes", "no", "unsure"


@dataclass(frozen=True)
class Status:
    id: str  # eligible | relevant | former_relevant | qualifying | not_a_care_leaver | too_young | too_old | not_sure
    title: str
    explanation: str
    what_follows: str


STATUSES = {
    "eligible": Status(
        "eligible",
        "You are an 'eligible' young person",
        "You're 16 or 17, still in care, and have been in care for at least 13 weeks since you were 14.",
        "You should have a personal adviser (PA) and a pathway plan now. They help you get ready to leave care.",
    ),
    "relevant": Status(
        "relevant",
        "You are a 'relevant' young person",
        "You're 16 or 17 and have left care, after being in care for at least 13 weeks since you were 14.",
        "The council must help you with a place to live and money. You should have a personal adviser (PA) and a pathway plan.",
    ),
    "former_relevant": Status(
        "former_relevant",
        "You are a care leaver (the law says 'former relevant')",
        "You were in care for at least 13 weeks after you turned 14. Some of that time was after you turned 16.",
        "You can have a personal adviser (PA) and a pathway plan up to 25. You can get the council's Local Offer too. If you stopped getting help after 21, you can ask for it again until you're 25.",
    ),
    "qualifying": Status(
        "qualifying",
        "You are a 'qualifying' care leaver",
        "You were in care after you turned 16, but for less than 13 weeks in all since you were 14.",
        "The council must give you advice and help, and some support with education or training. Ask what the Local Offer gives you.",
    ),
    "not_a_care_leaver": Status(
        "not_a_care_leaver",
        "You may not count as a care leaver",
        "The law's leaving care help is for young people who were in care after they turned 16.",
        "There may still be help for you. It's worth asking the leaving care team, as they can check your records.",
    ),
    "too_young": Status(
        "too_young",
        "You're not a care leaver yet",
        "Leaving care help starts at 16.",
        "If you're in care now, your social worker is the best person to ask about what happens next.",
    ),
    "too_old": Status(
        "too_old",
        "Leaving care help usually ends at 25",
        "The law gives care leavers help up to the age of 25.",
        "Other services can still help you. Ask the leaving care team where to go, or call Coram Voice on 0808 800 5792.",
    ),
    "not_sure": Status(
        "not_sure",
        "Let's check with someone who can see your records",
        "It depends on when and for how long you were in care, and that's fine not to know.",
        "Your personal adviser (PA) or the leaving care team can check your records and tell you.",
    ),
}


def care_leaver_status(
    age: Optional[int],
    in_care_after_16: Optional[str],
    thirteen_weeks_since_14: Optional[str],
    still_in_care: Optional[str] = None,
) -> Status:
    """The status for these answers (each 'yes', 'no' or 'unsure'; None counts as unsure)."""
    if age is None:
        return STATUSES["not_sure"]
    if age < 16:
        return STATUSES["too_young"]
    if age > 25:
        return STATUSES["too_old"]
    if in_care_after_16 == NO:
        return STATUSES["not_a_care_leaver"]
    if in_care_after_16 != YES:
        return STATUSES["not_sure"]
    if thirteen_weeks_since_14 == NO:
        return STATUSES["qualifying"]
    if thirteen_weeks_since_14 != YES:
        return STATUSES["not_sure"]
    if age >= 18:
        return STATUSES["former_relevant"]
    if still_in_care == YES:
        return STATUSES["eligible"]
    if still_in_care == NO:
        return STATUSES["relevant"]
    return STATUSES["not_sure"]


def needs_still_in_care_question(age: Optional[int]) -> bool:
    """Only 16- and 17-year-olds are told apart by whether they are still in care."""
    return age is not None and 16 <= age <= 17
