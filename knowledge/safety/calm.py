"""Is a flagged message about danger that is over, or not about the writer's life now?

The crisis patterns and the classifier look for danger words; "I was trafficked when I
first came here but I'm settled now, can I get help with college" has them. Such a message
is a question about support, and answering it with the crisis reply and an urgent referral
tells the young person they were not heard. `is_calm(text)` says when a flagged message
should be a *concern* (answered, 999 and Samaritans first, a note for staff) rather than an
*alert*: it names the past, a course or a film, or is said in jest, and has no sign that
the danger is now, again or soon. The phrases are data (calm.yml). No Rasa here.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import yaml

from .crisis import default_matcher

__all__ = ["CALM_PATH", "CalmReader", "default_calm", "load_calm"]

CALM_PATH = Path(__file__).with_name("calm.yml")
_LISTS = ("past", "not_now", "still", "jest", "jest_emoji", "jest_kinds")
_PLAIN_LISTS = ("jest_emoji", "jest_kinds")  # compared as they are, not regexes


@dataclass(frozen=True)
class CalmReader:
    past: Tuple[re.Pattern, ...]
    not_now: Tuple[re.Pattern, ...]
    still: Tuple[re.Pattern, ...]
    jest: Tuple[re.Pattern, ...]
    jest_emoji: Tuple[str, ...]
    jest_kinds: Tuple[str, ...]
    normalise: Callable[[str], str]

    def is_calm(self, text: str, kind: Optional[str] = None) -> bool:
        """True when the message speaks of the past, a study subject or (for `kind`s whose
        words are everyday threats) a joke, and of nothing happening now."""
        normal = self.normalise(text or "")
        calm = self.past + self.not_now + (self.jest if kind in self.jest_kinds else ())
        calm_spans = [m.span() for rx in calm for m in rx.finditer(normal)]
        jest = kind in self.jest_kinds and any(emoji in (text or "") for emoji in self.jest_emoji)
        if not calm_spans and not jest:
            return False
        rest = _blank(normal, calm_spans)
        return not any(rx.search(rest) for rx in self.still)


def _blank(text: str, spans: List[Tuple[int, int]]) -> str:
    """`text` with each span replaced by spaces (positions kept)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def load_calm(path: Path = CALM_PATH, normalise: Optional[Callable[[str], str]] = None) -> CalmReader:
    """Read and compile calm.yml; a problem raises ValueError naming the file and the list."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read: {error}") from error
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ValueError(f"{path}: must be a mapping with version: 1 and the lists {', '.join(_LISTS)}")
    unknown = set(data) - {"version", *_LISTS}
    if unknown:
        raise ValueError(f"{path}: unknown field(s) {sorted(unknown)}")
    compiled = {}
    for name in _LISTS:
        items = data.get(name)
        if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
            raise ValueError(f"{path}: {name}: must be a list of non-empty strings")
        if name in _PLAIN_LISTS:
            compiled[name] = tuple(items)
            continue
        patterns = []
        for number, item in enumerate(items, 1):
            try:
                patterns.append(re.compile(item))
            except re.error as error:
                raise ValueError(f"{path}: {name} item {number} ({item!r}): invalid regular expression: {error}") from error
        compiled[name] = tuple(patterns)
    return CalmReader(normalise=normalise or default_matcher().normalise, **compiled)


@functools.lru_cache(maxsize=1)
def default_calm() -> CalmReader:
    """The shipped calm.yml (read once per process)."""
    return load_calm()
