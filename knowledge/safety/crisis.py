"""Deterministic crisis-detection pattern layer.

Runs on every user message, independently of the intent classifier. The rules
live in ``crisis_patterns.yml`` next to this module (data, not code); this module
only normalises text and applies them.

Pure Python: standard library + PyYAML. No Rasa imports.

Each pattern's ``category`` is one of the kinds of danger in ``kinds.yml`` (suicide,
criminal_exploitation, homeless_tonight ...), so a hit says which help to give first.

How matching works
------------------
1. ``normalise()`` turns a message into a canonical form: lower case, one kind of
   apostrophe, no punctuation except apostrophes inside words, letters repeated
   more than twice collapsed to two, text speak expanded from the ``text_speak``
   table in the YAML, single spaces.
2. The message is checked as a whole *and* sentence by sentence (split on
   ``. ! ? ;`` and new lines), so ``$`` / ``^`` anchors in patterns mean
   "end / start of a sentence" while phrases are still found in unpunctuated text.
3. Patterns are tried in file order; the first one that fires gives the hit.
   A pattern fires if one of its regex matches is **not overlapped** by a match
   of any of its ``unless`` regexes. So ``unless`` vetoes only the near-miss
   phrase itself ("this rent is killing me"); a real crisis phrase elsewhere in
   the same message still fires.

Fragments: ``fragments:`` in the YAML maps names to regex snippets that patterns
(and other fragments) can use as ``{{name}}``. A pattern's ``regex`` may be a
single string or a list of alternatives (any one matching is a match).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

from .kinds import KIND_IDS

__all__ = [
    "CATEGORIES",
    "CrisisHit",
    "CrisisMatcher",
    "DEFAULT_PATTERNS_PATH",
    "default_matcher",
    "normalise",
    "sentences",
]

DEFAULT_PATTERNS_PATH = Path(__file__).with_name("crisis_patterns.yml")

# A pattern's category is a kind of danger (kinds.yml): the help for it is chosen by kind.
CATEGORIES = frozenset(KIND_IDS)

_TOP_LEVEL_FIELDS = {"version", "text_speak", "fragments", "patterns"}
_PATTERN_FIELDS = {"id", "category", "regex", "unless"}
_REQUIRED_PATTERN_FIELDS = ("id", "category", "regex")
_SUPPORTED_VERSIONS = {1}

_FRAGMENT_REF = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")

# --- normalisation building blocks (fixed; the data-driven part is text_speak) ---
_QUOTES = str.maketrans(
    {
        "\u2019": "'",  # right single quote
        "\u2018": "'",  # left single quote
        "\u201b": "'",
        "\u02bc": "'",  # modifier letter apostrophe
        "\u2032": "'",  # prime
        "`": "'",
        "\u00b4": "'",  # acute accent
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00a0": " ",  # no-break space
    }
)
_CENSOR = re.compile(r"(?<=[a-z])[*#@$]+(?=[a-z])")  # "k*ll" -> "kll", "s**cide" -> "scide"
_G_DROP = re.compile(r"\b([a-z]{2,})in'(?![a-z])")  # "goin'" -> "going"
_NON_WORD = re.compile(r"[^a-z0-9'\s]+")
_LOOSE_APOSTROPHE = re.compile(r"(?<![a-z0-9])'+|'+(?![a-z0-9])")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_SPACES = re.compile(r"\s+")
_SENTENCE_SPLIT = re.compile(r"(?:[.!?;]+(?=\s|$)|\n)+")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping_no_dupes(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_no_dupes)


@dataclass(frozen=True)
class CrisisHit:
    category: str  # one of CATEGORIES: the kind of danger (kinds.yml)
    pattern_id: str  # the id of the pattern that matched

    @property
    def kind(self) -> str:
        return self.category


@dataclass(frozen=True)
class _Pattern:
    id: str
    category: str
    regex: re.Pattern[str]
    unless: tuple[re.Pattern[str], ...]

    def fires(self, text: str) -> bool:
        matches = list(self.regex.finditer(text))
        if not matches:
            return False
        if not self.unless:
            return True
        vetoes = [(u.start(), u.end()) for rx in self.unless for u in rx.finditer(text)]
        for m in matches:
            if not any(start < m.end() and m.start() < end for start, end in vetoes):
                return True
        return False


class _TextSpeak:
    """Whole-token (or whole-phrase) replacements, applied in a single pass."""

    def __init__(self, table: dict[str, str]):
        self.table = dict(table)
        if self.table:
            keys = sorted(self.table, key=lambda k: (-len(k), k))
            alternation = "|".join(re.escape(k) for k in keys)
            self.regex: re.Pattern[str] | None = re.compile(
                rf"(?<![a-z0-9'])(?:{alternation})(?![a-z0-9'])"
            )
        else:
            self.regex = None

    def apply(self, text: str) -> str:
        if self.regex is None:
            return text
        return self.regex.sub(lambda m: self.table[m.group(0)], text)


def _basic_clean(text: str) -> str:
    text = text.lower().translate(_QUOTES)
    text = _CENSOR.sub("", text)
    text = _G_DROP.sub(r"\1ing", text)
    text = text.replace("_", " ")
    text = _NON_WORD.sub(" ", text)
    text = _LOOSE_APOSTROPHE.sub(" ", text)
    text = _REPEATS.sub(r"\1\1", text)
    return _SPACES.sub(" ", text).strip()


def _normalise_with(text: str, speak: _TextSpeak) -> str:
    text = speak.apply(_basic_clean(text))
    return _SPACES.sub(" ", text).strip()


def normalise(text: str) -> str:
    """Canonical form of a message, as the crisis patterns see it.

    Lower case; curly quotes/apostrophes unified to ``'``; punctuation removed
    except apostrophes inside words (``don't``); letters repeated more than twice
    collapsed to two (``sooooo`` -> ``soo``); text speak expanded using the
    ``text_speak`` table of the default pattern file (``u`` -> ``you``,
    ``im`` -> ``i'm``, ``dont`` -> ``don't``, ``kms`` -> ``kill myself`` ...);
    whitespace collapsed. Canonical forms keep the apostrophe (``i'm``,
    ``can't``, ``don't``) and spell out ``want to`` / ``going to``.
    """
    return default_matcher().normalise(text)


def sentences(text: str) -> list[str]:
    """The raw text split into sentences (on . ! ? ; and new lines), as the patterns see them."""
    return [s for s in _SENTENCE_SPLIT.split(text) if s and s.strip()]


_sentences = sentences


class CrisisMatcher:
    def __init__(
        self,
        patterns: Iterable[_Pattern],
        text_speak: dict[str, str] | None = None,
        source: str = "<memory>",
    ):
        self.patterns: tuple[_Pattern, ...] = tuple(patterns)
        self._speak = _TextSpeak(text_speak or {})
        self.source = source

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_file(cls, path: Path | str) -> "CrisisMatcher":
        path = Path(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"{path}: cannot read crisis pattern file: {exc}") from exc
        try:
            data = yaml.load(raw, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML: {exc}") from exc
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<memory>") -> "CrisisMatcher":
        def fail(msg: str) -> ValueError:
            return ValueError(f"{source}: {msg}")

        if not isinstance(data, dict):
            raise fail("top level must be a mapping with version, text_speak, fragments, patterns")
        unknown = set(data) - _TOP_LEVEL_FIELDS
        if unknown:
            raise fail(f"unknown top-level field(s) {sorted(map(str, unknown))}; allowed: {sorted(_TOP_LEVEL_FIELDS)}")
        if data.get("version") not in _SUPPORTED_VERSIONS:
            raise fail(f"field 'version' must be one of {sorted(_SUPPORTED_VERSIONS)}, got {data.get('version')!r}")

        text_speak = data.get("text_speak") or {}
        if not isinstance(text_speak, dict):
            raise fail("field 'text_speak' must be a mapping of token -> replacement")
        clean_speak: dict[str, str] = {}
        for key, value in text_speak.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise fail(f"text_speak entry {key!r}: key and value must both be strings (quote yes/no/on/off)")
            canon = _SPACES.sub(" ", key.strip())
            if canon != _basic_clean(key):
                raise fail(
                    f"text_speak entry {key!r}: key must already be in cleaned form "
                    f"(lower case, no punctuation but apostrophes): {_basic_clean(key)!r}"
                )
            clean_speak[canon] = value.strip()

        fragments = data.get("fragments") or {}
        if not isinstance(fragments, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in fragments.items()):
            raise fail("field 'fragments' must be a mapping of name -> regex string")

        def expand(regex: str, where: str, depth: int = 0) -> str:
            if depth > 10:
                raise fail(f"{where}: fragments nested too deeply (cycle?)")

            def sub(m: re.Match[str]) -> str:
                name = m.group(1)
                if name not in fragments:
                    raise fail(f"{where}: unknown fragment {{{{{name}}}}}")
                return "(?:" + expand(fragments[name], f"{where} -> fragment {name!r}", depth + 1) + ")"

            return _FRAGMENT_REF.sub(sub, regex)

        for name, frag in fragments.items():
            where = f"fragment {name!r}"
            try:
                re.compile(expand(frag, where))
            except re.error as exc:
                raise fail(f"{where}: invalid regular expression: {exc}") from exc

        patterns_raw = data.get("patterns")
        if not isinstance(patterns_raw, list) or not patterns_raw:
            raise fail("field 'patterns' must be a non-empty list")

        seen: set[str] = set()
        patterns: list[_Pattern] = []
        for index, item in enumerate(patterns_raw):
            label = f"pattern #{index + 1}"
            if not isinstance(item, dict):
                raise fail(f"{label}: must be a mapping with id, category, regex (and optional unless)")
            pid = item.get("id")
            if isinstance(pid, str) and pid:
                label = f"pattern {pid!r}"
            unknown = set(item) - _PATTERN_FIELDS
            if unknown:
                raise fail(f"{label}: unknown field(s) {sorted(map(str, unknown))}; allowed: {sorted(_PATTERN_FIELDS)}")
            for field in _REQUIRED_PATTERN_FIELDS:
                if item.get(field) in (None, ""):
                    raise fail(f"{label}: missing required field '{field}'")
            if not isinstance(pid, str) or not _ID_RE.match(pid):
                raise fail(f"{label}: field 'id' must be a lower-case id (letters, digits, _ or -), got {pid!r}")
            if pid in seen:
                raise fail(f"{label}: field 'id' is duplicated")
            seen.add(pid)
            category = item["category"]
            if category not in CATEGORIES:
                raise fail(f"{label}: field 'category' must be one of {sorted(CATEGORIES)}, got {category!r}")
            regex_src = item["regex"]
            if isinstance(regex_src, list):
                for j, r in enumerate(regex_src):
                    if not isinstance(r, str) or not r:
                        raise fail(
                            f"{label}: field 'regex' item {j + 1} is not a regex string (YAML read {r!r}); "
                            "an unquoted ': ' or ' #' inside a regex does this - write (?:\\s...) or quote it"
                        )
                # a list is a set of alternatives: any one of them matching is a match
                regex_src = "|".join(f"(?:{r})" for r in regex_src)
            elif not isinstance(regex_src, str):
                raise fail(f"{label}: field 'regex' must be a regex string or a non-empty list of them")
            try:
                regex = re.compile(expand(regex_src, f"{label}: field 'regex'"))
            except re.error as exc:
                raise fail(f"{label}: field 'regex': invalid regular expression: {exc}") from exc
            unless_raw = item.get("unless", [])
            if unless_raw is None:
                unless_raw = []
            if not isinstance(unless_raw, list):
                raise fail(f"{label}: field 'unless' must be a list of regex strings")
            for j, u in enumerate(unless_raw):
                if not isinstance(u, str) or not u:
                    raise fail(
                        f"{label}: field 'unless' item {j + 1} is not a regex string (YAML read {u!r}); "
                        "an unquoted ': ' or ' #' inside a regex does this - write (?:\\s...) or quote it"
                    )
            unless: list[re.Pattern[str]] = []
            for j, u in enumerate(unless_raw):
                try:
                    unless.append(re.compile(expand(u, f"{label}: field 'unless' item {j + 1}")))
                except re.error as exc:
                    raise fail(f"{label}: field 'unless' item {j + 1}: invalid regular expression: {exc}") from exc
            patterns.append(_Pattern(pid, category, regex, tuple(unless)))

        return cls(patterns, clean_speak, source=source)

    # ----------------------------------------------------------------- matching
    def normalise(self, text: str) -> str:
        return _normalise_with(text, self._speak)

    def _candidates(self, text: str) -> list[str]:
        whole = self.normalise(text)
        out = [whole] if whole else []
        parts = _sentences(text)
        if len(parts) > 1:
            for part in parts:
                n = self.normalise(part)
                if n and n not in out:
                    out.append(n)
        return out

    def match_all(self, text: str) -> list[CrisisHit]:
        """Every pattern that fires, in file order (for debugging and reports)."""
        if not text or not text.strip():
            return []
        candidates = self._candidates(text)
        return [
            CrisisHit(p.category, p.id)
            for p in self.patterns
            if any(p.fires(c) for c in candidates)
        ]

    def match(self, text: str) -> CrisisHit | None:
        """The first pattern (in file order) that fires, or None."""
        if not text or not text.strip():
            return None
        candidates = self._candidates(text)
        for p in self.patterns:
            if any(p.fires(c) for c in candidates):
                return CrisisHit(p.category, p.id)
        return None


@functools.lru_cache(maxsize=1)
def default_matcher() -> CrisisMatcher:
    """The matcher for ``crisis_patterns.yml`` next to this module (loaded once)."""
    return CrisisMatcher.from_file(DEFAULT_PATTERNS_PATH)
