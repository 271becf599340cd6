"""Reading and validating the councils' offer files (knowledge/offers/*.yml).

The files are written by council staff, not programmers, so every mistake is reported with
the file, line, entry and field, and a set of files with any mistake is refused whole: the
bot never serves half an offer.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from knowledge.topics import offer_sections

OFFERS_DIR = Path(__file__).with_name("offers")
NATIONAL = "national"
CONTACT_KINDS = ("leaving_care_team", "emergency_duty_team", "advocacy")
STATUSES = (
    "care_leaver",
    "former_foster_child",
    "in_higher_education",
    "in_further_education",
    "young_parent",
    "uasc",
    "left_residential_care",
    "not_in_work_or_education",
    "apprentice",
    "still_in_care",
)
AMOUNT_PERIODS = ("once", "week", "month", "year", "course", "occasion")
AVAILABILITY = ("available", "planned")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIN_AGE, MAX_AGE = 16, 25
# Ofcom keeps these ranges for drama: a number here can never reach a real person.
PLACEHOLDER_RANGES = (re.compile(r"^01632960\d{3}$"), re.compile(r"^07700900\d{3}$"))
_UK_PHONE = re.compile(r"^(0\d{9,10}|999|111|112|116\d{3}|85258)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")
# `questions:` are what the retrieval ranks a young person's words against: fewer than 5 ways
# of asking leaves an entry hard to find, more than 15 lets one entry crowd out its neighbours.
QUESTIONS_MIN, QUESTIONS_MAX = 5, 15
QUESTION_LENGTH = (3, 200)
SOURCE_LENGTH = 300  # knowledge/db.py: source_document and source_section columns


class ContentError(ValueError):
    """One or more mistakes in the offer files; `problems` lists each as one line."""

    def __init__(self, problems: List[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Contact:
    """A service a young person can be passed on to (leaving-care team, EDT, advocacy)."""

    kind: str
    name: str
    phone: Optional[str] = None
    email: Optional[str] = None
    website: Optional[str] = None
    hours: Any = None  # "always", None (unknown) or {day: "HH:MM-HH:MM"}
    placeholder: bool = False
    source: str = ""


@dataclass(frozen=True)
class Amount:
    value: float
    per: str = "once"
    up_to: bool = False

    def describe(self) -> str:
        """'up to £2,000' / '£50 a week': how a young person would say it."""
        pounds = f"£{self.value:,.0f}" if float(self.value).is_integer() else f"£{self.value:,.2f}"
        prefix = "up to " if self.up_to else ""
        suffix = {"once": "", "occasion": " each time", "course": " over your course"}.get(
            self.per, f" a {self.per}"
        )
        return f"{prefix}{pounds}{suffix}"


@dataclass(frozen=True)
class Entitlement:
    """One thing a care leaver can get, with who can get it and where the fact came from."""

    id: str
    council: str
    topic: str
    title: str
    answer: str
    how_to_get: str
    source_document: str
    source_section: str
    last_checked: dt.date
    keywords: Tuple[str, ...] = ()
    questions: Tuple[str, ...] = ()  # the ways young people ask for this, in their words
    min_age: Optional[int] = None
    max_age: Optional[int] = None
    statuses: Tuple[str, ...] = ()
    amount: Optional[Amount] = None
    contact: Optional[str] = None
    link: Optional[str] = None
    availability: str = "available"

    def applies_at(self, age: Optional[int]) -> bool:
        """True when a young person of this age can get it (unknown age: assume yes)."""
        if age is None:
            return True
        if self.min_age is not None and age < self.min_age:
            return False
        return not (self.max_age is not None and age > self.max_age)

    @property
    def depends_on_age(self) -> bool:
        return self.min_age is not None or self.max_age is not None


@dataclass(frozen=True)
class Council:
    id: str
    name: str
    offer_name: str
    website: Optional[str]
    aliases: Tuple[str, ...]
    contacts: Dict[str, Contact]
    source_file: str


@dataclass
class OfferContent:
    """Everything loaded from one directory of offer files."""

    councils: Dict[str, Council] = field(default_factory=dict)
    entitlements: List[Entitlement] = field(default_factory=list)

    def placeholder_contacts(self) -> List[str]:
        """What each council still has to supply before going live."""
        return [
            f"{council.id}: {contact.kind} ({contact.phone}) is a placeholder"
            for council in self.councils.values()
            for contact in council.contacts.values()
            if contact.placeholder
        ]


def digits(phone: str) -> str:
    """A phone number with spaces and brackets removed, for checks and tel: links."""
    return re.sub(r"[\s()\-]", "", phone)


def is_placeholder_number(phone: str) -> bool:
    return any(pattern.match(digits(phone)) for pattern in PLACEHOLDER_RANGES)


class ProblemReader:
    """Collects problems for one file, each tagged with file, line and field (shared by the
    offer files' reader here and the safeguarding taxonomy's in knowledge/safety/kinds.py)."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: List[str] = []

    def problem(self, node: Any, key: Any, where: str, message: str) -> None:
        self.problems.append(f"{self.path.name}:{line_of(node, key)}: {where}: {message}")


class _Reader(ProblemReader):
    """The offer files' field readers."""

    def required_text(self, node: dict, key: str, where: str) -> str:
        value = node.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(node, key, f"{where}.{key}", "is required and must be text")
            return ""
        return value.strip()

    def optional_text(self, node: dict, key: str, where: str) -> Optional[str]:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(node, key, f"{where}.{key}", "must be text")
            return None
        return value.strip() or None

    def url(self, node: dict, key: str, where: str) -> Optional[str]:
        value = self.optional_text(node, key, where)
        if value and not re.match(r"^https://[^\s/$.?#].[^\s]*$", value):
            self.problem(node, key, f"{where}.{key}", f"'{value}' is not an https:// link")
            return None
        return value

    def phone(self, node: dict, key: str, where: str) -> Optional[str]:
        value = node.get(key)
        if value is None:
            return None
        text = str(value).strip()
        if not _UK_PHONE.match(digits(text)):
            self.problem(node, key, f"{where}.{key}", f"'{text}' is not a UK phone number")
            return None
        return text

    def age(self, node: dict, key: str, where: str) -> Optional[int]:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not MIN_AGE <= value <= MAX_AGE:
            self.problem(node, key, f"{where}.{key}", f"must be a whole number from {MIN_AGE} to {MAX_AGE}")
            return None
        return value

    def choice(self, node: dict, key: str, where: str, allowed: Iterable[str], default: Optional[str]) -> Optional[str]:
        value = node.get(key, default)
        allowed = tuple(allowed)
        if value is not None and value not in allowed:
            self.problem(node, key, f"{where}.{key}", f"'{value}' is not one of: {', '.join(allowed)}")
            return default
        return value

    def unknown_keys(self, node: dict, known: Iterable[str], where: str) -> None:
        for key in node:
            if key not in known:
                self.problem(node, key, f"{where}.{key}", "is not a field this file may have (typo?)")


def line_of(node: Any, key: Any) -> int:
    """1-based line of `key` inside a ruamel mapping/sequence, else of the node itself."""
    try:
        if key is not None and isinstance(node, dict) and key in node:
            return node.lc.key(key)[0] + 1
        if key is not None and isinstance(node, list):
            return node.lc.item(key)[0] + 1
        return node.lc.line + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 0


_CONTACT_KEYS = ("name", "phone", "email", "website", "hours", "placeholder", "source")


def _read_hours(reader: _Reader, node: dict, where: str) -> Any:
    hours = node.get("hours")
    if hours is None or hours == "always":
        return hours
    if not isinstance(hours, dict):
        reader.problem(node, "hours", f"{where}.hours", "must be 'always' or a list of days like mon: \"09:00-17:00\"")
        return None
    parsed = {}
    for day, span in hours.items():
        if day not in DAYS or not isinstance(span, str) or not _HOURS.match(span):
            reader.problem(hours, day, f"{where}.hours.{day}", "must be a day (mon..sun) with \"HH:MM-HH:MM\"")
            continue
        parsed[day] = span
    return parsed


def _read_contact(reader: _Reader, node: Any, kind: str, where: str) -> Optional[Contact]:
    if not isinstance(node, dict):
        reader.problem(node, None, where, "must be a block with name, phone, ...")
        return None
    reader.unknown_keys(node, _CONTACT_KEYS, where)
    phone = reader.phone(node, "phone", where)
    email = reader.optional_text(node, "email", where)
    if email and not _EMAIL.match(email):
        reader.problem(node, "email", f"{where}.email", f"'{email}' is not an email address")
    placeholder = bool(node.get("placeholder", False))
    if phone and placeholder != is_placeholder_number(phone):
        message = (
            "is marked placeholder but is not in Ofcom's drama ranges (01632 960xxx, 07700 900xxx)"
            if placeholder
            else "is in Ofcom's drama range: mark it `placeholder: true` or give the real number"
        )
        reader.problem(node, "phone", f"{where}.phone", message)
    return Contact(
        kind=kind,
        name=reader.required_text(node, "name", where),
        phone=phone,
        email=email,
        website=reader.url(node, "website", where),
        hours=_read_hours(reader, node, where),
        placeholder=placeholder,
        source=str(node.get("source") or ""),
    )


_ENTRY_KEYS = (
    "id", "topic", "title", "answer", "keywords", "questions", "eligibility", "amount", "how_to_get",
    "contact", "link", "availability", "source", "last_checked",
)


def _read_eligibility(reader: _Reader, entry: dict, where: str) -> Tuple[Optional[int], Optional[int], Tuple[str, ...]]:
    node = entry.get("eligibility") or {}
    if not isinstance(node, dict):
        reader.problem(entry, "eligibility", f"{where}.eligibility", "must be a block with min_age, max_age, statuses")
        return None, None, ()
    reader.unknown_keys(node, ("min_age", "max_age", "statuses"), f"{where}.eligibility")
    low = reader.age(node, "min_age", f"{where}.eligibility")
    high = reader.age(node, "max_age", f"{where}.eligibility")
    if low is not None and high is not None and low > high:
        reader.problem(node, "min_age", f"{where}.eligibility", f"age range is upside down ({low} > {high})")
    statuses = node.get("statuses") or []
    for status in statuses:
        if status not in STATUSES:
            reader.problem(node, "statuses", f"{where}.eligibility.statuses", f"'{status}' is not one of: {', '.join(STATUSES)}")
    return low, high, tuple(s for s in statuses if s in STATUSES)


def _read_amount(reader: _Reader, entry: dict, where: str) -> Optional[Amount]:
    node = entry.get("amount")
    if node is None:
        return None
    if not isinstance(node, dict) or not isinstance(node.get("value"), (int, float)) or node.get("value") < 0:
        reader.problem(entry, "amount", f"{where}.amount", "must have a value in pounds (a number, no £)")
        return None
    reader.unknown_keys(node, ("value", "per", "up_to"), f"{where}.amount")
    per = reader.choice(node, "per", f"{where}.amount", AMOUNT_PERIODS, "once")
    return Amount(value=node["value"], per=per or "once", up_to=bool(node.get("up_to", False)))


def _read_date(reader: _Reader, entry: dict, where: str) -> dt.date:
    value = entry.get("last_checked")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    reader.problem(entry, "last_checked", f"{where}.last_checked", "is required, as a date like 2026-11-25")
    return dt.date.min


def _read_questions(reader: _Reader, entry: dict, where: str) -> Tuple[str, ...]:
    """The entry's `questions:`, checked item by item so each mistake names its own line.

    They are kept as written (case and punctuation are part of how people ask); the ranking
    normalises them itself.
    """
    node = entry.get("questions")
    field_name = f"{where}.questions"
    if node is None:
        reader.problem(entry, "questions" if "questions" in entry else None, field_name,
                       f"is required: list {QUESTIONS_MIN} to {QUESTIONS_MAX} ways young people ask for this")
        return ()
    if not isinstance(node, list):
        reader.problem(entry, "questions", field_name, "must be a list of questions, one per line starting with '- '")
        return ()
    questions: List[str] = []
    seen: Dict[str, int] = {}
    low, high = QUESTION_LENGTH
    for index, item in enumerate(node):
        item_where = f"{field_name}[{index + 1}]"
        if not isinstance(item, str) or not item.strip():
            reader.problem(node, index, item_where, "must be a question written as text")
            continue
        text = " ".join(item.split())
        if not low <= len(text) <= high:
            reader.problem(node, index, item_where, f"must be {low} to {high} characters long (is {len(text)})")
            continue
        key = text.lower()
        if key in seen:
            reader.problem(node, index, item_where, f"'{text}' is a duplicate of question {seen[key]}")
            continue
        seen[key] = index + 1
        questions.append(text)
    if not QUESTIONS_MIN <= len(node) <= QUESTIONS_MAX:
        reader.problem(entry, "questions", field_name,
                       f"has {len(node)} question(s): give {QUESTIONS_MIN} to {QUESTIONS_MAX}")
    return tuple(questions)


def _read_entitlement(reader: _Reader, entry: Any, council_id: str, index: int) -> Optional[Entitlement]:
    where = f"entitlements[{index}]"
    if not isinstance(entry, dict):
        reader.problem(entry, None, where, "must be a block with id, topic, title, ...")
        return None
    if isinstance(entry.get("id"), str):
        where = f"entitlement '{entry['id']}'"
    reader.unknown_keys(entry, _ENTRY_KEYS, where)
    entry_id = reader.required_text(entry, "id", where)
    if entry_id and not _ID.match(entry_id):
        reader.problem(entry, "id", f"{where}.id", "must be lower-case words joined by dashes")
    topic = entry.get("topic")
    if topic not in offer_sections():
        reader.problem(entry, "topic", f"{where}.topic", f"'{topic}' is not an offer section in offer-topics.yml")
    source = entry.get("source")
    if not isinstance(source, dict) or not str(source.get("document") or "").strip():
        reader.problem(entry, "source", f"{where}.source", "is required: give the document (and section) this comes from")
        source = {}
    for part in ("document", "section"):  # the database keeps SOURCE_LENGTH characters of each
        if len(str(source.get(part) or "").strip()) > SOURCE_LENGTH:
            reader.problem(source, part, f"{where}.source.{part}",
                           f"is longer than {SOURCE_LENGTH} characters: put the full citation in a # comment")
    keywords = entry.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        reader.problem(entry, "keywords", f"{where}.keywords", "must be a list of words or phrases")
        keywords = []
    low, high, statuses = _read_eligibility(reader, entry, where)
    return Entitlement(
        id=entry_id,
        council=council_id,
        topic=str(topic),
        title=reader.required_text(entry, "title", where),
        answer=" ".join(reader.required_text(entry, "answer", where).split()),
        how_to_get=reader.required_text(entry, "how_to_get", where),
        source_document=str(source.get("document") or "").strip(),
        source_section=str(source.get("section") or "").strip(),
        last_checked=_read_date(reader, entry, where),
        keywords=tuple(k.lower().strip() for k in keywords),
        questions=_read_questions(reader, entry, where),
        min_age=low,
        max_age=high,
        statuses=statuses,
        amount=_read_amount(reader, entry, where),
        contact=reader.choice(entry, "contact", where, CONTACT_KINDS, None),
        link=reader.url(entry, "link", where),
        availability=reader.choice(entry, "availability", where, AVAILABILITY, "available") or "available",
    )


def _read_council(reader: _Reader, doc: dict) -> Optional[Council]:
    node = doc.get("council")
    if not isinstance(node, dict):
        reader.problem(doc, "council" if "council" in doc else None, "council", "a `council:` block is required")
        return None
    reader.unknown_keys(node, ("id", "name", "offer_name", "website", "aliases", "contacts"), "council")
    council_id = reader.required_text(node, "id", "council")
    if council_id and council_id != reader.path.stem:
        reader.problem(node, "id", "council.id", f"'{council_id}' must match the file name '{reader.path.stem}'")
    contacts_node = node.get("contacts") or {}
    contacts = {}
    for kind, contact_node in contacts_node.items():
        if kind not in CONTACT_KINDS:
            reader.problem(contacts_node, kind, f"council.contacts.{kind}", f"is not one of: {', '.join(CONTACT_KINDS)}")
            continue
        contact = _read_contact(reader, contact_node, kind, f"council.contacts.{kind}")
        if contact:
            contacts[kind] = contact
    if council_id != NATIONAL:
        for kind in CONTACT_KINDS:
            if kind not in contacts_node:
                reader.problem(node, "contacts", f"council.contacts.{kind}", "is missing: every council needs it (mark unknown ones as placeholders)")
    aliases = tuple(str(a).lower().strip() for a in (node.get("aliases") or []))
    return Council(
        id=council_id,
        name=reader.required_text(node, "name", "council"),
        offer_name=reader.optional_text(node, "offer_name", "council") or "",
        website=reader.url(node, "website", "council"),
        aliases=aliases,
        contacts=contacts,
        source_file=reader.path.name,
    )


def read_offer_file(path: Path) -> Tuple[Optional[Council], List[Entitlement], List[str]]:
    """Parse one file; returns what it could read and the list of problems found."""
    reader = _Reader(path)
    try:
        doc = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        return None, [], [f"{path.name}:{line}: not valid YAML: {getattr(error, 'problem', error)}"]
    if not isinstance(doc, dict):
        return None, [], [f"{path.name}:1: the file must start with `version: 1` and a `council:` block"]
    if doc.get("version") != 1:
        reader.problem(doc, "version" if "version" in doc else None, "version", "must be 1")
    council = _read_council(reader, doc)
    council_id = council.id if council else path.stem
    entries = doc.get("entitlements") or []
    read = (_read_entitlement(reader, entry, council_id, index) for index, entry in enumerate(entries))
    entitlements = [entitlement for entitlement in read if entitlement]
    return council, entitlements, reader.problems


def load_offers(directory: Path = OFFERS_DIR) -> OfferContent:
    """Read and validate every offer file in `directory`; raise ContentError on any problem."""
    content, problems, seen = OfferContent(), [], {}
    paths = sorted(directory.glob("*.yml"))
    if not paths:
        raise ContentError([f"{directory}: no offer files (*.yml) found"])
    for path in paths:
        council, entitlements, file_problems = read_offer_file(path)
        problems.extend(file_problems)
        if council:
            content.councils[council.id] = council
        for entitlement in entitlements:
            if entitlement.id in seen:
                problems.append(f"{path.name}: entitlement '{entitlement.id}'.id: duplicate id, also in {seen[entitlement.id]}")
            seen[entitlement.id] = path.name
            content.entitlements.append(entitlement)
    if problems:
        raise ContentError(problems)
    return content
