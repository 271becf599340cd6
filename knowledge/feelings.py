"""Acknowledge a feeling the young person names, in one short line, before the facts.

"scared social services will take my baby" should not get a card that starts with a grant.
The feelings and their lines are data (feelings.yml); `feeling_line(text, turn)` gives the
line for the first feeling the message names, or None. `turn` (how many lines were said in
this conversation) picks the wording, so a repeated feeling gets new words. No Rasa here.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import yaml

__all__ = ["FEELINGS_PATH", "Feeling", "feeling_line", "load_feelings"]

FEELINGS_PATH = Path(__file__).with_name("feelings.yml")


@dataclass(frozen=True)
class Feeling:
    id: str
    words: Tuple[re.Pattern, ...]
    lines: Tuple[str, ...]

    def named_in(self, text: str) -> bool:
        lowered = text.lower()
        return any(pattern.search(lowered) for pattern in self.words)


def load_feelings(path: Path = FEELINGS_PATH) -> List[Feeling]:
    """The feelings in file order; a problem raises ValueError naming the file and entry."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read: {error}") from error
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("feelings"), list):
        raise ValueError(f"{path}: must be a mapping with version: 1 and a list of feelings")
    out = []
    for number, item in enumerate(data["feelings"], 1):
        where = f"{path}: feelings item {number}"
        if not isinstance(item, dict) or set(item) != {"id", "words", "lines"}:
            raise ValueError(f"{where}: needs exactly id, words and lines")
        words, lines = item["words"], item["lines"]
        if not (isinstance(words, list) and words and all(isinstance(w, str) and w for w in words)):
            raise ValueError(f"{where} ({item['id']}): words must be a list of regular expressions")
        if not (isinstance(lines, list) and lines and all(isinstance(line, str) and line for line in lines)):
            raise ValueError(f"{where} ({item['id']}): lines must be a list of sentences")
        try:
            patterns = tuple(re.compile(w) for w in words)
        except re.error as error:
            raise ValueError(f"{where} ({item['id']}): invalid regular expression: {error}") from error
        out.append(Feeling(str(item["id"]), patterns, tuple(lines)))
    return out


@functools.lru_cache(maxsize=1)
def _default() -> Tuple[Feeling, ...]:
    return tuple(load_feelings())


def feeling_line(text: Optional[str], turn: int = 0) -> Optional[str]:
    """The acknowledging line for the first feeling `text` names (wording picked by `turn`), or None."""
    for feeling in _default():
        if feeling.named_in(text or ""):
            return feeling.lines[turn % len(feeling.lines)]
    return None
