"""The kinds of danger and the help each gets first, read and checked from ``kinds.yml``.

The file is data that safeguarding staff can read and correct; this module only loads it and
refuses it whole, naming file, line and field of every mistake, when anything is wrong (a
kind missing, a service without a source, a ``say`` line without the number it is about,
999 not first for a kind marked as immediate danger, a character SMS cannot carry).

Pure Python: standard library + ruamel.yaml (as the offer files). No Rasa imports.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from knowledge.content import ProblemReader

__all__ = [
    "DEFAULT_KINDS_PATH",
    "EMERGENCY",
    "KIND_IDS",
    "Kind",
    "KindsError",
    "Service",
    "ServiceUse",
    "Taxonomy",
    "default_kinds",
    "load_kinds",
]

DEFAULT_KINDS_PATH = Path(__file__).with_name("kinds.yml")

# The ids every other safety file uses (crisis_patterns.yml categories, data/safety/examples.yml,
# the parse result's `crisis.kind`). The file must define exactly these.
KIND_IDS: Tuple[str, ...] = (
    "suicide",
    "self_harm",
    "medical_emergency",
    "domestic_abuse",
    "sexual_abuse",
    "sexual_exploitation",
    "criminal_exploitation",
    "sextortion",
    "trafficking",
    "immediate_danger",
    "homeless_tonight",
    "missing",
)
EMERGENCY = "emergency_999"  # the service that must come first for immediate-danger kinds
LINE_NAMES: Tuple[str, ...] = (
    "emergency_team",
    "emergency_team_no_hours",
    "played_down",
    "worker_open",
    "worker_closed",
    "worker_no_hours",
    "worker_no_council",
    "worker_not_told",
    "offer_open",
    "offer_closed",
    "offer_phone_safe",
    "phone_not_safe",
    "phone_not_safe_web",
    "phone_not_safe_sms",
    "contact_declined",
    "still_here",
    "failure_sorry",
    "failure_team",
    "failure_team_no_hours",
    "failure_team_open",
    "failure_team_closed",
    "failure_emergency",
    "failure_emergency_no_hours",
    "failure_danger",
)
COUNCIL_CONTACTS = ("leaving_care_team", "emergency_duty_team")
NOT_CONFIRMED = "not confirmed in the sources available here"

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_PHONE = re.compile(r"^(0\d{9,10}|0800\d{4}|999|111|101|116\d{3})$")  # 0800 1111 is Childline
_TEXT_TO = re.compile(r"^\d{5,6}$")
_URL = re.compile(r"^https?://[^\s]+$")
_FIELD = re.compile(r"\{([a-z_]+)\}")
# SMS must stay GSM-7, so the file holds plain printable ASCII (no curly quotes, dashes or emoji)
_PLAIN = set(string.printable) - set("\t\r\x0b\x0c`")
_SERVICE_KEYS = (
    "name", "phone", "text_to", "text_message", "website", "hours", "for", "min_age", "max_age",
    "say", "say_unknown", "from_council", "source", "note", "checked",
)
_KIND_KEYS = (
    "title", "looks_like", "immediate_danger", "opening", "advice", "services", "danger_line", "ask_phone_safe",
)
_USE_KEYS = ("id", "say")
_LINE_FIELDS = {
    "emergency_team": {"name", "hours", "phone"},
    "emergency_team_no_hours": {"name", "phone"},
    "worker_open": {"team", "until"},
    "worker_closed": {"team", "when"},
    "worker_no_hours": {"team"},
    "failure_team": {"team", "phone", "hours"},
    "failure_team_no_hours": {"team", "phone"},
    "failure_team_open": {"team", "phone", "until"},
    "failure_team_closed": {"team", "when"},
    "failure_emergency": {"name", "phone", "hours"},
    "failure_emergency_no_hours": {"name", "phone"},
}
MAX_OPENING = 200
MAX_LINE = 200


class KindsError(ValueError):
    """The kinds file has mistakes; ``problems`` lists each as 'file:line: field: message'."""

    def __init__(self, problems: List[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Service:
    """A helpline or service, with where its details were checked."""

    id: str
    name: str
    hours: str
    for_whom: str
    say: str  # how the reply says it (contains the number, text code or website)
    source: str
    checked: dt.date
    phone: Optional[str] = None
    text_to: Optional[str] = None
    text_message: Optional[str] = None
    website: Optional[str] = None
    min_age: Optional[int] = None
    max_age: Optional[int] = None
    from_council: Optional[str] = None  # the number comes from the council's contact of this kind
    say_unknown: Optional[str] = None  # the line when the council (so the number) is unknown
    note: Optional[str] = None

    def suits(self, age: Optional[float]) -> bool:
        """True unless the young person's age is known and outside the service's limits."""
        if age is None:
            return True
        if self.min_age is not None and age < self.min_age:
            return False
        return not (self.max_age is not None and age >= self.max_age + 1)

    @property
    def confirmed(self) -> bool:
        return NOT_CONFIRMED not in self.source


@dataclass(frozen=True)
class ServiceUse:
    """A service as one kind gives it: the service, and the line for this kind."""

    service: Service
    say: str


@dataclass(frozen=True)
class Kind:
    id: str
    title: str
    looks_like: str
    immediate_danger: bool
    opening: str
    services: Tuple[ServiceUse, ...]
    danger_line: Optional[str] = None
    advice: Optional[str] = None
    ask_phone_safe: bool = False


@dataclass(frozen=True)
class Taxonomy:
    kinds: Dict[str, Kind]
    services: Dict[str, Service]
    lines: Dict[str, str]
    source: str

    def kind(self, kind_id: Optional[str]) -> Optional[Kind]:
        return self.kinds.get(kind_id or "")

    def texts(self) -> List[Tuple[str, str]]:
        """(where, text) of every line a reply can say, for the safe-messaging scan."""
        out = [(f"lines.{name}", text) for name, text in self.lines.items()]
        for service in self.services.values():
            out.append((f"services.{service.id}.say", service.say))
            if service.say_unknown:
                out.append((f"services.{service.id}.say_unknown", service.say_unknown))
        for kind in self.kinds.values():
            out.append((f"kinds.{kind.id}.opening", kind.opening))
            for field_name in ("danger_line", "advice"):
                if getattr(kind, field_name):
                    out.append((f"kinds.{kind.id}.{field_name}", getattr(kind, field_name)))
            out.extend((f"kinds.{kind.id}.services.{use.service.id}", use.say) for use in kind.services)
        return out


class _Reader(ProblemReader):
    """The taxonomy's field readers; problems are collected as for the offer files."""

    def text(self, node: dict, key: str, where: str, required: bool = True, limit: int = 0) -> Optional[str]:
        value = node.get(key)
        if value is None:
            if required:
                self.problem(node, None, f"{where}.{key}", "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(node, key, f"{where}.{key}", "must be text (quote numbers, yes/no and on/off)")
            return None
        value = " ".join(value.split())
        odd = sorted(set(value) - _PLAIN)
        if odd:
            self.problem(node, key, f"{where}.{key}",
                         f"has {''.join(odd)!r}: use plain ASCII (straight quotes, '-', no emoji) so SMS stays GSM-7")
        if limit and len(value) > limit:
            self.problem(node, key, f"{where}.{key}", f"is {len(value)} characters: keep it under {limit} (a phone screen)")
        return value

    def unknown_keys(self, node: dict, known: Tuple[str, ...], where: str) -> None:
        for key in node:
            if key not in known:
                self.problem(node, key, f"{where}.{key}", f"is not a field here (typo?); allowed: {', '.join(known)}")

    def mapping(self, node: Any, key: str, where: str) -> Optional[dict]:
        value = node.get(key) if isinstance(node, dict) else None
        if not isinstance(value, dict):
            self.problem(node, key, f"{where}{key}", "is required and must be a mapping")
            return None
        return value


def _digits(text: str) -> str:
    return re.sub(r"\s", "", text)


def _read_service(reader: _Reader, node: Any, service_id: str) -> Optional[Service]:
    where = f"services.{service_id}"
    if not _ID.match(str(service_id)):
        reader.problem(node, None, where, "ids are lower case letters, digits and _")
    if not isinstance(node, dict):
        reader.problem(node, None, where, "must be a mapping of fields")
        return None
    reader.unknown_keys(node, _SERVICE_KEYS, where)
    name = reader.text(node, "name", where)
    hours = reader.text(node, "hours", where)
    for_whom = reader.text(node, "for", where)
    say = reader.text(node, "say", where, limit=MAX_LINE)
    source = reader.text(node, "source", where)
    note = reader.text(node, "note", where, required=False)
    website = reader.text(node, "website", where, required=False)
    if website and not _URL.match(website):
        reader.problem(node, "website", f"{where}.website", f"{website!r} is not a web address")
    phone = node.get("phone")
    if phone is not None:
        phone = str(phone).strip()
        if not _PHONE.match(_digits(phone)):
            reader.problem(node, "phone", f"{where}.phone", f"{phone!r} is not a UK number (quote it: \"0800 1111\")")
    text_to = node.get("text_to")
    if text_to is not None:
        text_to = str(text_to).strip()
        if not _TEXT_TO.match(text_to):
            reader.problem(node, "text_to", f"{where}.text_to", f"{text_to!r} is not a text short code")
    text_message = reader.text(node, "text_message", where, required=False)
    from_council = node.get("from_council")
    say_unknown = reader.text(node, "say_unknown", where, required=False, limit=MAX_LINE)
    if from_council is not None:
        if from_council not in COUNCIL_CONTACTS:
            reader.problem(node, "from_council", f"{where}.from_council", f"must be one of {', '.join(COUNCIL_CONTACTS)}")
        if not say_unknown:
            reader.problem(node, None, f"{where}.say_unknown", "is required with from_council (said when the council is unknown)")
        if say:
            missing = {"phone"} - set(_FIELD.findall(say))
            if missing:
                reader.problem(node, "say", f"{where}.say", "must contain {phone} (the council's number)")
    elif not (phone or text_to or website):
        reader.problem(node, None, where, "needs a phone, text_to or website (or from_council)")
    elif say:
        # the line must carry the way to reach the service, as written in the fields
        needles = [n for n in (phone, text_to, website and re.sub(r"^https?://(www\.)?", "", website).rstrip("/")) if n]
        if not any(needle in say or _digits(needle) in _digits(say) for needle in needles):
            reader.problem(node, "say", f"{where}.say", f"must contain the number, code or website ({' / '.join(needles)})")
    ages = {}
    for key in ("min_age", "max_age"):
        value = node.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 120:
            reader.problem(node, key, f"{where}.{key}", "must be a whole number of years")
        else:
            ages[key] = value
    checked = node.get("checked")
    if not isinstance(checked, dt.date):
        reader.problem(node, "checked" if "checked" in node else None, f"{where}.checked",
                       "is required: the date (YYYY-MM-DD) the number and hours were checked against the source")
        checked = dt.date.min
    if not all((name, hours, for_whom, say, source)):
        return None
    return Service(
        id=str(service_id), name=name, hours=hours, for_whom=for_whom, say=say, source=source, checked=checked,
        phone=phone, text_to=text_to, text_message=text_message, website=website,
        min_age=ages.get("min_age"), max_age=ages.get("max_age"), from_council=from_council,
        say_unknown=say_unknown, note=note,
    )


def _read_uses(reader: _Reader, node: dict, where: str, services: Mapping[str, Service]) -> List[ServiceUse]:
    items = node.get("services")
    if not isinstance(items, list) or not items:
        reader.problem(node, "services" if "services" in node else None, f"{where}.services",
                       "is required: the services to give, in order")
        return []
    uses: List[ServiceUse] = []
    seen = set()
    for index, item in enumerate(items):
        item_where = f"{where}.services[{index + 1}]"
        say = None
        if isinstance(item, dict):
            reader.unknown_keys(item, _USE_KEYS, item_where)
            service_id = item.get("id")
            say = reader.text(item, "say", item_where, required=False, limit=MAX_LINE)
        else:
            service_id = item
        if not isinstance(service_id, str) or service_id not in services:
            reader.problem(items, index, item_where, f"{service_id!r} is not a service defined under services:")
            continue
        if service_id in seen:
            reader.problem(items, index, item_where, f"{service_id!r} is listed twice")
            continue
        seen.add(service_id)
        service = services[service_id]
        if say and not service.from_council:
            needles = [n for n in (service.phone, service.text_to) if n]
            if needles and not any(_digits(n) in _digits(say) for n in needles):
                reader.problem(item, "say", f"{item_where}.say", f"must contain the number ({' / '.join(needles)})")
        uses.append(ServiceUse(service, say or service.say))
    return uses


def _read_kind(reader: _Reader, node: Any, kind_id: str, services: Mapping[str, Service]) -> Optional[Kind]:
    where = f"kinds.{kind_id}"
    if not isinstance(node, dict):
        reader.problem(node, None, where, "must be a mapping of fields")
        return None
    reader.unknown_keys(node, _KIND_KEYS, where)
    title = reader.text(node, "title", where)
    looks_like = reader.text(node, "looks_like", where)
    opening = reader.text(node, "opening", where, limit=MAX_OPENING)
    advice = reader.text(node, "advice", where, required=False, limit=MAX_LINE)
    danger_line = reader.text(node, "danger_line", where, required=False, limit=MAX_LINE)
    immediate = node.get("immediate_danger")
    if not isinstance(immediate, bool):
        reader.problem(node, "immediate_danger" if "immediate_danger" in node else None, f"{where}.immediate_danger",
                       "is required: true (999 comes first) or false")
        immediate = False
    ask_phone_safe = node.get("ask_phone_safe", False)
    if not isinstance(ask_phone_safe, bool):
        reader.problem(node, "ask_phone_safe", f"{where}.ask_phone_safe", "must be true or false")
        ask_phone_safe = False
    uses = _read_uses(reader, node, where, services)
    first = uses[0].service.id if uses else None
    if uses and immediate and first != EMERGENCY:
        reader.problem(node, "services", f"{where}.services", f"immediate_danger is true, so the first service must be {EMERGENCY}")
    elif uses and immediate and "call 999" not in uses[0].say:
        reader.problem(node, "services", f"{where}.services[1].say", "must say 'call 999' (999 comes first when the danger is immediate)")
    if uses and not immediate and first == EMERGENCY:
        reader.problem(node, "services", f"{where}.services",
                       f"immediate_danger is false, so {EMERGENCY} must not come first (say it in danger_line)")
    if not immediate and not danger_line:
        reader.problem(node, None, f"{where}.danger_line", "is required when immediate_danger is false (when to call 999)")
    if danger_line and "call 999" not in danger_line:
        reader.problem(node, "danger_line", f"{where}.danger_line", "must say 'call 999'")
    if not all((title, looks_like, opening)):
        return None
    return Kind(kind_id, title, looks_like, immediate, opening, tuple(uses), danger_line, advice, ask_phone_safe)


def _read_lines(reader: _Reader, doc: dict) -> Dict[str, str]:
    node = reader.mapping(doc, "lines", "")
    if node is None:
        return {}
    reader.unknown_keys(node, LINE_NAMES, "lines")
    lines: Dict[str, str] = {}
    for name in LINE_NAMES:
        text = reader.text(node, name, "lines", limit=MAX_LINE)
        if text is None:
            continue
        used = set(_FIELD.findall(text))
        allowed = _LINE_FIELDS.get(name, set())
        if used - allowed:
            reader.problem(node, name, f"lines.{name}", f"unknown placeholder(s) {sorted(used - allowed)}; allowed: {sorted(allowed)}")
        elif allowed - used:
            reader.problem(node, name, f"lines.{name}", f"must use {sorted(allowed - used)}")
        lines[name] = text
    return lines


def load_kinds(path: Path = DEFAULT_KINDS_PATH) -> Taxonomy:
    """The taxonomy in `path`; raises KindsError listing every mistake (the file is refused whole)."""
    path = Path(path)
    reader = _Reader(path)
    try:
        doc = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise KindsError([f"{path.name}:0: (file): cannot read: {error}"]) from error
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise KindsError([f"{path.name}:{line}: (file): not valid YAML: {getattr(error, 'problem', error)}"]) from error
    if not isinstance(doc, dict):
        raise KindsError([f"{path.name}:1: (file): must be a mapping with version, services, kinds, lines"])
    reader.unknown_keys(doc, ("version", "services", "kinds", "lines"), "(top level)")
    if doc.get("version") != 1:
        reader.problem(doc, "version" if "version" in doc else None, "version", "must be 1")
    services: Dict[str, Service] = {}
    services_node = reader.mapping(doc, "services", "")
    if services_node is not None:
        for service_id, node in services_node.items():
            service = _read_service(reader, node, service_id)
            if service:
                services[service.id] = service
        if EMERGENCY not in services_node:
            reader.problem(services_node, None, f"services.{EMERGENCY}", "is required (999)")
    kinds: Dict[str, Kind] = {}
    kinds_node = reader.mapping(doc, "kinds", "")
    if kinds_node is not None:
        for kind_id, node in kinds_node.items():
            if kind_id not in KIND_IDS:
                reader.problem(kinds_node, kind_id, f"kinds.{kind_id}", f"is not a kind; the kinds are: {', '.join(KIND_IDS)}")
                continue
            kind = _read_kind(reader, node, kind_id, services)
            if kind:
                kinds[kind_id] = kind
        for kind_id in KIND_IDS:
            if kind_id not in kinds_node:
                reader.problem(kinds_node, None, f"kinds.{kind_id}", "is missing: every kind needs its help")
    lines = _read_lines(reader, doc)
    if reader.problems:
        raise KindsError(reader.problems)
    ordered = {kind_id: kinds[kind_id] for kind_id in KIND_IDS}
    return Taxonomy(ordered, services, lines, str(path))


@functools.lru_cache(maxsize=1)
def default_kinds() -> Taxonomy:
    """The shipped kinds.yml, loaded once per process."""
    return load_kinds(DEFAULT_KINDS_PATH)
