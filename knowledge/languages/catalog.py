"""The core replies in each language, kept as data (knowledge/languages/*.yml) and checked.

`en.yml` is the master: it holds every text in English (what a translator translates and a
reviewer compares against) and where each claim about a service comes from. Each other file
holds the same texts in one language, with `reviewed: false` until a council's translator
has checked every line against en.yml and set `reviewed: true` and `reviewed_by:`.
An unreviewed language's replies start with its `machine_note` (in that language: "a computer
translated this"), so nobody mistakes a machine's wording for the council's.

Numbers are never typed in a translation: `{emergency_999}`, `{samaritans}` and `{nhs_111}`
are filled from knowledge/safety/kinds.yml (the one place a helpline's number is kept and
sourced), `{language}` with the language's English name (what to say to get an interpreter)
and `{button_person}` with the file's own button label. Each translation must use exactly
the placeholders its English text uses, so a number cannot be dropped or mistyped.

Every mistake is reported as `file:line: field: message`, and a set of files with any
mistake is refused whole, like the offer files. No Rasa here.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Set, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from knowledge.content import ContentError, ProblemReader
from knowledge.languages.detect import ENGLISH, SUPPORTED
from knowledge.safety.kinds import Taxonomy, default_kinds

LANGUAGES_DIR = Path(__file__).parent
MASTER = "en.yml"
DIRECTIONS = ("ltr", "rtl")
SCRIPTS = ("latin", "arabic", "ethiopic")
TEXT_KEYS = (
    "machine_note", "intro", "urgent", "crisis_opening", "crisis_999", "crisis_samaritans", "crisis_111",
    "person", "interpreter", "privacy", "button_person", "button_english", "choose",
)
# Placeholders other than kinds.yml's service ids.
OWN_FIELDS = ("language", "button_person")
_KEYS = ("version", "code", "name", "native_name", "direction", "script", "reviewed", "reviewed_by", "names", "markers", "sources", "text")
_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


@dataclass(frozen=True)
class Language:
    """One language's replies and how to recognise it."""

    code: str
    name: str  # in English: what to say on the phone for an interpreter
    native_name: str
    direction: str
    script: str
    reviewed: bool
    names: Tuple[str, ...]  # words that choose it ("arabic", "عربي")
    markers: Tuple[str, ...]  # frequent words and letters that tell it from its script's others
    texts: Mapping[str, str]
    source_file: str
    reviewed_by: Optional[str] = None
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def choice_payload(self) -> str:
        """What a language button sends: its first name, which the NLU gate reads as a choice."""
        return self.names[0]


@dataclass(frozen=True)
class Catalog:
    english: Language
    languages: Dict[str, Language]  # every language but English, by code, in SUPPORTED order
    phones: Mapping[str, str]  # kinds.yml service id -> phone

    def get(self, code: Optional[str]) -> Optional[Language]:
        return self.english if code == ENGLISH else self.languages.get(code or "")

    def say(self, code: str, key: str) -> str:
        """One text of a language with its placeholders filled (numbers from kinds.yml)."""
        language = self.get(code) or self.english
        values = {**self.phones, "language": language.name, "button_person": language.texts["button_person"]}
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], language.texts[key])

    def markers(self) -> Dict[str, Tuple[str, ...]]:
        return {code: language.markers for code, language in self.languages.items()}

    def names(self) -> Dict[str, str]:
        """Every name that chooses a language (lower case) -> its code, English included."""
        out: Dict[str, str] = {}
        for language in (self.english, *self.languages.values()):
            out.update({name.lower(): language.code for name in language.names})
        return out

    def awaiting_review(self) -> List[str]:
        """One line per language whose translation no translator has signed off yet."""
        return [
            f"{language.source_file}: {language.name} ({language.native_name}) awaits a translator's review (reviewed: false)"
            for language in self.languages.values()
            if not language.reviewed
        ]


class _Reader(ProblemReader):
    def text(self, node: dict, key: str, where: str) -> str:
        value = node.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(node, key, f"{where}{key}", "is required and must be text")
            return ""
        return value.strip()

    def texts_list(self, node: dict, key: str, allow_empty: bool) -> Tuple[str, ...]:
        value = node.get(key)
        if value is None and allow_empty:
            return ()
        if not isinstance(value, list) or (not value and not allow_empty) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problem(node, key, key, "must be a list of words" + ("" if allow_empty else " (at least one)"))
            return ()
        return tuple(v.strip() for v in value)


def _load_yaml(path: Path, reader: _Reader):
    try:
        return YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except OSError as error:
        reader.problems.append(f"{path.name}:0: (file): cannot read: {error}")
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reader.problems.append(f"{path.name}:{mark.line + 1 if mark else 0}: (file): not valid YAML: {getattr(error, 'problem', error)}")
    return None


def _read(path: Path, master: Optional[Language], allowed_fields: Set[str]) -> Tuple[Optional[Language], List[str]]:
    """One language file; `master` is en.yml's reading (None while reading en.yml itself)."""
    reader = _Reader(path)
    doc = _load_yaml(path, reader)
    if doc is None:
        return None, reader.problems
    if not isinstance(doc, dict):
        return None, [f"{path.name}:1: (file): must be a mapping with version, code, name, ... and text"]
    for key in doc:
        if key not in _KEYS:
            reader.problem(doc, key, str(key), "is not a field this file may have (typo?)")
    if doc.get("version") != 1:
        reader.problem(doc, "version" if "version" in doc else None, "version", "must be 1")
    code = reader.text(doc, "code", "")
    expected = path.stem
    if code and code != expected:
        reader.problem(doc, "code", "code", f"'{code}' must match the file name ({expected}.yml)")
    if master is not None and code and code not in SUPPORTED:
        reader.problem(doc, "code", "code", f"'{code}' is not a language the detector knows: {', '.join(SUPPORTED)}")
    name, native = reader.text(doc, "name", ""), reader.text(doc, "native_name", "")
    direction, script = doc.get("direction"), doc.get("script")
    if direction not in DIRECTIONS:
        reader.problem(doc, "direction" if "direction" in doc else None, "direction", f"must be one of: {', '.join(DIRECTIONS)}")
    if script not in SCRIPTS:
        reader.problem(doc, "script" if "script" in doc else None, "script", f"must be one of: {', '.join(SCRIPTS)}")
    reviewed = doc.get("reviewed")
    if not isinstance(reviewed, bool):
        reader.problem(doc, "reviewed" if "reviewed" in doc else None, "reviewed", "must be true or false (false until a translator checked it)")
        reviewed = False
    reviewed_by = doc.get("reviewed_by")
    if reviewed and not (isinstance(reviewed_by, str) and reviewed_by.strip()):
        reader.problem(doc, "reviewed", "reviewed_by", "is required when reviewed is true: who checked it, and when")
    names = reader.texts_list(doc, "names", allow_empty=False)
    markers = reader.texts_list(doc, "markers", allow_empty=True)
    sources: Dict[str, str] = {}
    if "sources" in doc:
        if master is not None:
            reader.problem(doc, "sources", "sources", "belong in en.yml (the English master), beside the claims they support")
        elif not isinstance(doc["sources"], dict):
            reader.problem(doc, "sources", "sources", "must map a text's name to where its claim comes from")
        else:
            for key, value in doc["sources"].items():
                if key not in TEXT_KEYS or not isinstance(value, str) or not value.strip():
                    reader.problem(doc["sources"], key, f"sources.{key}", "must name a text and say where its claim comes from")
                else:
                    sources[key] = value.strip()
    texts = _read_texts(reader, doc, master, allowed_fields)
    if reader.problems:
        return None, reader.problems
    return Language(code, name, native, direction, script, reviewed, names, markers, texts, path.name, reviewed_by, sources), []


def _read_texts(reader: _Reader, doc: dict, master: Optional[Language], allowed_fields: Set[str]) -> Dict[str, str]:
    node = doc.get("text")
    if not isinstance(node, dict):
        reader.problem(doc, "text" if "text" in doc else None, "text", "is required: a mapping of " + ", ".join(TEXT_KEYS))
        return {}
    texts: Dict[str, str] = {}
    for key in node:
        if key not in TEXT_KEYS:
            reader.problem(node, key, f"text.{key}", f"is not one of the texts: {', '.join(TEXT_KEYS)}")
    for key in TEXT_KEYS:
        if key not in node:
            reader.problem(node, None, f"text.{key}", "is missing")
            continue
        value = reader.text(node, key, "text.")
        used = set(_PLACEHOLDER.findall(value))
        unknown = used - allowed_fields
        if unknown:
            reader.problem(node, key, f"text.{key}", f"unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(allowed_fields)}")
        if master is not None:
            wanted = set(_PLACEHOLDER.findall(master.texts.get(key, "")))
            if used != wanted:
                reader.problem(node, key, f"text.{key}", f"must use exactly the placeholders of en.yml {sorted(wanted)}, not {sorted(used)}")
        texts[key] = value
    return texts


def load_catalog(directory: Path = LANGUAGES_DIR, kinds: Optional[Taxonomy] = None) -> Catalog:
    """en.yml and every language file in `directory`; raises ContentError listing each mistake."""
    kinds = kinds or default_kinds()
    phones = {service_id: service.phone for service_id, service in kinds.services.items() if service.phone}
    allowed = set(phones) | set(OWN_FIELDS)
    directory = Path(directory)
    english, problems = _read(directory / MASTER, None, allowed)
    if english is None:
        raise ContentError(problems)
    languages: Dict[str, Language] = {}
    for path in sorted(directory.glob("*.yml")):
        if path.name == MASTER:
            continue
        language, found = _read(path, english, allowed)
        problems += found
        if language is not None:
            languages[language.code] = language
    missing = [code for code in SUPPORTED if code not in languages]
    if not problems and missing:
        problems.append(f"{directory.name}:0: (folder): no file for {', '.join(missing)}: every language the detector knows needs its replies")
    if problems:
        raise ContentError(problems)
    ordered = {code: languages[code] for code in SUPPORTED}
    return Catalog(english, ordered, phones)


@functools.lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The shipped files, loaded once per process."""
    return load_catalog()


def default_markers() -> Dict[str, Tuple[str, ...]]:
    return default_catalog().markers()
