"""Redacting personal data from what young people typed, before staff see or export it.

Redaction happens at read time (every dashboard page, CSV, report and subject-access view
goes through `redact_text`), not when the bot writes events: the live bot needs the
hand-off form's slots in clear until the referral is written, and redacting on read means a
better rule applies to old conversations too. Conversations are deleted after the
retention period (see bot/dashboard/retention.py), so clear text is not kept for long.

The rules lean towards redacting: a false alarm hides a harmless number, a miss shows a
young person's phone number. Near-misses that staff need for evidence stay: amounts of
money (£2,000, 3000 pounds), ages ("I'm 19"), years and durations ("21 days").
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Iterable, List, Optional, Pattern, Tuple

PHONE, EMAIL, POSTCODE, ADDRESS = "[phone]", "[email]", "[postcode]", "[address]"
NI_NUMBER, DATE_OF_BIRTH, CARD, BANK, NAME = "[NI number]", "[date of birth]", "[card]", "[bank details]", "[name]"
CONTACT = "[contact details]"

EMAIL_PATTERN = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)

# National Insurance number: two prefix letters, six digits, suffix A-D (HMRC's rules:
# first letter not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; some pairs never issued).
NI_PATTERN = re.compile(
    r"\b(?!(?:BG|GB|KN|NK|NT|TN|ZZ))[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b",
    re.IGNORECASE,
)

# A UK number: +44 or 0, then 9-10 digits that may be split by spaces, dashes or brackets.
PHONE_CANDIDATE = re.compile(r"(?<![\w+£$])(?:\+\s?44\s?(?:\(0\))?|\(?0)[\d\s()-]{8,16}\d(?!\d)")

# Full postcode (outward and inward code), e.g. WS1 1AN, CB3 0AP, NG1 5FS, GIR 0AA.
POSTCODE_PATTERN = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE
)

STREET_WORDS = (
    "street|st|road|rd|avenue|ave|lane|ln|close|drive|dr|way|court|ct|crescent|cres|place|pl|grove|"
    "gardens|gdns|terrace|square|sq|mews|parade|wharf"
)
ADDRESS_PATTERN = re.compile(
    rf"(?<![\w,.£$])(?:flat\s+\d+[a-z]?,?\s+)?\d{{1,4}}[a-z]?,?\s+(?:[a-z'-]+\s+){{1,3}}(?:{STREET_WORDS})\b\.?",
    re.IGNORECASE,
)

MONTHS = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
NUMERIC_DATE = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-](\d{4}|\d{2})\b")
WORDED_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{MONTHS})|(?:{MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?),?\s+(\d{{4}})\b",
    re.IGNORECASE,
)

CARD_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
SORT_CODE = re.compile(r"\b\d{2}-\d{2}-\d{2}\b|\bsort\s*code\W{0,3}\d{2}\s?\d{2}\s?\d{2}\b", re.IGNORECASE)
ACCOUNT_NUMBER = re.compile(r"\b(?:account|acc|a/c)(?:\s*(?:number|no\.?|num))?\W{0,3}\d{8}\b", re.IGNORECASE)

# Words a skipped or refused name question may leave in the name slot: never redacted as names.
NOT_NAMES = {"skip", "no", "nope", "none", "stop", "yes", "ok", "okay", "na", "n/a", "prefer not to say", "dont know"}


def luhn_valid(digits: str) -> bool:
    """The Luhn check every payment card number passes (and most random numbers fail)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def is_ni_number(text: str) -> bool:
    """True if the whole text is one valid-looking National Insurance number."""
    match = NI_PATTERN.fullmatch(text.strip())
    return match is not None


def _uk_phone(match: re.Match) -> Optional[str]:
    """A UK phone number has 9 or 10 digits after the 0 / +44 and starts 1, 2, 3, 7 or 8."""
    digits = re.sub(r"\D", "", match.group())
    national = digits[2:] if match.group().lstrip("(").startswith("+") else digits[1:]
    if len(national) in (9, 10) and national[0] in "12378":
        return PHONE
    return None


def _card(match: re.Match) -> Optional[str]:
    digits = re.sub(r"\D", "", match.group())
    return CARD if 13 <= len(digits) <= 19 and luhn_valid(digits) else None


def _date_of_birth(match: re.Match) -> Optional[str]:
    """A full date (its year in group 1) at least ten years ago reads as a birth date; others stay."""
    this_year = dt.date.today().year
    year = int(match.group(1))
    if year < 100:
        year += 1900 if year > this_year % 100 else 2000
    return DATE_OF_BIRTH if 1900 <= year <= this_year - 10 else None


def _always(label: str) -> Callable[[re.Match], Optional[str]]:
    return lambda _match: label


# Order matters: e-mails before anything with digits, cards before phones, NI before postcodes.
RULES: List[Tuple[Pattern, Callable[[re.Match], Optional[str]]]] = [
    (EMAIL_PATTERN, _always(EMAIL)),
    (CARD_CANDIDATE, _card),
    (NI_PATTERN, _always(NI_NUMBER)),
    (SORT_CODE, _always(BANK)),
    (ACCOUNT_NUMBER, _always(BANK)),
    (NUMERIC_DATE, _date_of_birth),
    (WORDED_DATE, _date_of_birth),
    (PHONE_CANDIDATE, _uk_phone),
    (POSTCODE_PATTERN, _always(POSTCODE)),
    (ADDRESS_PATTERN, _always(ADDRESS)),
]


def _apply(pattern: Pattern, decide: Callable[[re.Match], Optional[str]], text: str) -> str:
    def replace(match: re.Match) -> str:
        return decide(match) or match.group()

    return pattern.sub(replace, text)


def usable_names(names: Iterable[Optional[str]]) -> List[str]:
    """Names worth redacting: what the young person gave when asked, minus skips and refusals."""
    found = []
    for name in names:
        cleaned = (name or "").strip()
        if len(cleaned) >= 2 and cleaned.lower() not in NOT_NAMES:
            found.append(cleaned)
    return found


def _replace_whole(text: str, value: str, label: str) -> str:
    """Every case-insensitive occurrence of `value` that is not part of a longer word."""
    return re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", label, text, flags=re.IGNORECASE)


def _redact_known(text: str, names: Iterable[Optional[str]], contacts: Iterable[Optional[str]]) -> str:
    """What the young person gave the hand-off form, wherever it appears in the conversation."""
    for contact in sorted(usable_names(contacts), key=len, reverse=True):
        text = _replace_whole(text, contact, CONTACT)
    for name in sorted(usable_names(names), key=len, reverse=True):
        # The whole answer, then each word of it ("Sam Jones" also hides a later "Sam").
        for part in [name] + [word for word in name.split() if len(word) >= 2 and word.lower() not in NOT_NAMES]:
            text = _replace_whole(text, part, NAME)
    return text


def redact_text(text: Optional[str], names: Iterable[Optional[str]] = (), contacts: Iterable[Optional[str]] = ()) -> str:
    """`text` with personal data replaced by labels such as [phone] or [name].

    `names` and `contacts` are what the young person gave when the bot asked for a name or
    for contact details (the hand-off form's slots): they are redacted wherever they appear
    in the conversation, even in a shape no pattern knows ("sam at gmail dot com").
    """
    if not text:
        return ""
    redacted = _redact_known(str(text), names, contacts)
    for pattern, decide in RULES:
        redacted = _apply(pattern, decide, redacted)
    return redacted
