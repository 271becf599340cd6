"""The crisis decision: the rule layer and the classifier together, recall first.

A message is a crisis when either fires. The kind (which help comes first) is the rule's
when a pattern fired, as a pattern names its kind precisely, else the classifier's.

Danger is sometimes typed across two messages ("he said if i dont pay he'll" / "hurt my
little brother"). So when this message alone is not a crisis, it is read again after the
previous message, and a crisis found only that way counts, unless the previous message
alone was already one (that was answered then; "thanks" after it is not a new crisis).

No Rasa here (bot/nlu/crisis_layer.py is the adapter).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any, Dict, Optional

from .classifier import CrisisClassifier, default_classifier
from .crisis import CrisisMatcher, default_matcher

__all__ = ["Assessment", "CrisisDetector", "default_detector"]


@dataclass(frozen=True)
class Assessment:
    kind: str  # a kind id from kinds.yml
    source: str  # "rule", "classifier" or "both"
    pattern: Optional[str]  # the pattern that fired, if one did
    score: float  # the classifier's crisis score, 0..1 (whether or not it reached the threshold)
    with_previous: bool = False  # found only by reading the previous message with this one

    def as_dict(self) -> Dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "pattern": self.pattern,
            "score": round(self.score, 3),
            "with_previous": self.with_previous,
        }


class CrisisDetector:
    def __init__(self, matcher: Optional[CrisisMatcher] = None, classifier: Optional[CrisisClassifier] = None):
        self.matcher = matcher or default_matcher()
        self.classifier = classifier or default_classifier()

    def _assess(self, text: str) -> Optional[Assessment]:
        hit = self.matcher.match(text)
        score, kind = self.classifier.score(text)
        fired = kind is not None and self.classifier.fires(text, score)
        if hit is not None:
            return Assessment(hit.category, "both" if fired else "rule", hit.pattern_id, score)
        if fired:
            return Assessment(kind, "classifier", None, score)
        return None

    def assess(self, text: str, previous: Optional[str] = None) -> Optional[Assessment]:
        """The crisis in `text` (read after `previous`, the user's last message, if given), or None."""
        if not text or not text.strip():
            return None
        found = self._assess(text)
        if found is not None or not previous or not previous.strip():
            return found
        together = self._assess(f"{previous.strip()} {text.strip()}")
        if together is None or self._assess(previous) is not None:
            return None
        return replace(together, with_previous=True)


@functools.lru_cache(maxsize=1)
def default_detector() -> CrisisDetector:
    """The shipped patterns and the classifier fitted on the shipped examples (once per process)."""
    return CrisisDetector()
