"""The documents the offer files quote (knowledge/sources.yml): what each is and how old.

A fact from a 2018 draft is not a fact from this year's published offer. Each entry names its
document; this module says what that document is in plain words and when it was written, so
the bot can show "Walsall's draft Local Offer, 2018" instead of a file name, and staff can
list the entries that are old and unchecked (`python -m bot.content todo`).

Read on demand and re-read when the file changes, so an edit is picked up like a content
reload. Knows nothing of Rasa.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from knowledge.content import Entitlement, ProblemReader

SOURCES_PATH = Path(__file__).with_name("sources.yml")
STATUSES = ("draft", "report", "published", "law", "guidance")
OLD_AFTER_YEARS = 3  # a document older than this may no longer be what the council does
CHECK_EVERY_DAYS = 365  # ... and then a person should have checked it with the council this recently
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_SEED = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")  # a seed document's file name (needs a line in sources.yml)
_FIELDS = ("title", "status", "date", "council")
# A text costs the texter per 160 characters: there the document is named in three words.
_STATUS_WORDS = {"draft": "draft offer", "report": "council report", "published": "offer", "law": "law",
                 "guidance": "guidance"}


@dataclass(frozen=True)
class Document:
    """One quoted document: its plain title, how final it is, and its own date."""

    name: str
    title: str
    status: str
    date: dt.date
    precision: str  # "year", "month" or "day": how much of `date` the document gives
    council: str = ""  # the council id whose offer it describes, if one

    @property
    def when(self) -> str:
        """'2018' / 'June 2023' / '30 January 2019': the date as precisely as the document gives it."""
        if self.precision == "year":
            return f"{self.date:%Y}"
        if self.precision == "month":
            return f"{self.date:%B %Y}"
        return f"{self.date:%-d %B %Y}"

    @property
    def when_phrase(self) -> str:
        """'in 2018' / 'in June 2023' / 'on 30 January 2019'."""
        return f"{'on' if self.precision == 'day' else 'in'} {self.when}"

    @property
    def label(self) -> str:
        """"Walsall's draft Local Offer (2018)": how the bot names it to a young person."""
        return f"{self.title} ({self.when})"

    @property
    def short(self) -> str:
        """"Walsall draft offer, 2018": the document in a few words, for a text message."""
        owner = f"{self.council.title()} " if self.council else ""
        return f"{owner}{_STATUS_WORDS[self.status]}, {self.date:%Y}"

    def age_in_years(self, today: dt.date) -> int:
        return today.year - self.date.year - ((today.month, today.day) < (self.date.month, self.date.day))


def _read_date(value: Any) -> Optional[Tuple[dt.date, str]]:
    """A year, 'YYYY-MM' or a day, with its precision; None when it is none of those."""
    if isinstance(value, dt.date):
        return value, "day"
    if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2100:
        return dt.date(value, 1, 1), "year"
    if isinstance(value, str):
        month = _MONTH.match(value.strip())
        if month and 1 <= int(month.group(2)) <= 12:
            return dt.date(int(month.group(1)), int(month.group(2)), 1), "month"
        try:
            return dt.date.fromisoformat(value.strip()), "day"
        except ValueError:
            return None
    return None


def _read_document(reader: ProblemReader, name: str, node: Any) -> Optional[Document]:
    where = f"documents.{name}"
    if not isinstance(node, dict):
        reader.problem(node, None, where, "must be a block with title, status and date")
        return None
    for key in node:
        if key not in _FIELDS:
            reader.problem(node, key, f"{where}.{key}", "is not a field a document may have (typo?)")
    title = node.get("title")
    if not isinstance(title, str) or not title.strip():
        reader.problem(node, "title", f"{where}.title", "is required: what the document is, in plain words")
    status = node.get("status")
    if status not in STATUSES:
        reader.problem(node, "status", f"{where}.status", f"'{status}' is not one of: {', '.join(STATUSES)}")
    date = _read_date(node.get("date"))
    if date is None:
        reader.problem(node, "date", f"{where}.date", "is required: the document's own date, as 2018, 2023-06 or 2019-01-30")
    if not (isinstance(title, str) and title.strip() and status in STATUSES and date):
        return None
    council = node.get("council")
    if council is not None and (not isinstance(council, str) or not re.match(r"^[a-z0-9-]+$", council)):
        reader.problem(node, "council", f"{where}.council", "must be a council id, like walsall")
        council = None
    return Document(name=name, title=" ".join(title.split()), status=status, date=date[0], precision=date[1],
                    council=council or "")


def read_sources(path: Path = SOURCES_PATH) -> Tuple[Dict[str, Document], List[str]]:
    """Every document in `path`, and the problems found (file, line and field in each)."""
    reader = ProblemReader(path)
    try:
        data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as error:
        return {}, [f"{path.name}:0: cannot be read: {error}"]
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("documents"), dict):
        return {}, [f"{path.name}:1: must have `version: 1` and a `documents:` block"]
    documents: Dict[str, Document] = {}
    for name, node in data["documents"].items():
        document = _read_document(reader, str(name), node)
        if document:
            documents[document.name] = document
    return documents, reader.problems


_cache: Dict[Path, Tuple[float, Dict[str, Document]]] = {}


def documents(path: Path = SOURCES_PATH) -> Dict[str, Document]:
    """The documents, re-read when the file changes; empty (names shown as written) if it has problems."""
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return {}
    cached = _cache.get(path)
    if cached is None or cached[0] != stamp:
        found, problems = read_sources(path)
        _cache[path] = (stamp, {} if problems else found)
    return _cache[path][1]


def document_of(entitlement: Entitlement, path: Path = SOURCES_PATH) -> Optional[Document]:
    """The described document an entry quotes, if sources.yml describes it."""
    return documents(path).get(entitlement.source_document)


def is_old(document: Optional[Document], today: dt.date) -> bool:
    """Older than OLD_AFTER_YEARS: what it says may have changed since."""
    return document is not None and document.age_in_years(today) >= OLD_AFTER_YEARS


def needs_checking(entitlement: Entitlement, document: Optional[Document], today: dt.date) -> bool:
    """An old document that nobody has checked with the council for over CHECK_EVERY_DAYS."""
    return is_old(document, today) and (today - entitlement.last_checked).days > CHECK_EVERY_DAYS


def is_seed(document: str) -> bool:
    """Whether a `source.document` names a council document (a seed file), not an Act or guidance."""
    return bool(_SEED.match(document))


def unlisted_documents(entitlements: Iterable[Entitlement], listed: Dict[str, Document]) -> List[str]:
    """Entries quoting a seed document (a file name) that sources.yml does not describe."""
    return [f"entitlement '{e.id}'.source.document: '{e.source_document}' is not described in {SOURCES_PATH.name}"
            for e in entitlements if is_seed(e.source_document) and e.source_document not in listed]


def source_problems(entitlements: Iterable[Entitlement], path: Path = SOURCES_PATH) -> List[str]:
    """Mistakes in sources.yml, and entries quoting a seed document it does not describe."""
    listed, problems = read_sources(path)
    return problems + unlisted_documents(entitlements, listed)


def stale_entries(entitlements: Iterable[Entitlement], today: Optional[dt.date] = None,
                  path: Path = SOURCES_PATH) -> List[str]:
    """What a council should check: entries from an old document, unchecked for a year."""
    today = today or dt.date.today()
    out = []
    for entry in entitlements:
        document = document_of(entry, path)
        if needs_checking(entry, document, today):
            out.append(f"{entry.council}: '{entry.id}' comes from {document.label} and was last checked "
                       f"{entry.last_checked:%-d %b %Y}: check it with the council")
    return out


__all__ = ["Document", "SOURCES_PATH", "document_of", "documents", "is_old", "is_seed", "needs_checking",
           "read_sources", "source_problems", "stale_entries", "unlisted_documents"]
