"""The crisis decision: the rule layer and the classifier together, recall first.

A message is a crisis when either fires, unless it speaks only of the past, a course or a
joke (calm.py): then it is a concern, answered with the numbers first and noted for staff.

The kind (which help comes first) is the classifier's when both fire: it learnt the kinds
from hundreds of labelled examples, while a rule's kind comes from the order of the patterns
("someone has my nudes and wants £500" fired the sexual-pressure pattern before any
sextortion one). On the development set crisis-blind.yml (2026-12-01) the right kind went
from 183 to 191 of 216. One exception: a rule whose kind puts 999 first (a threat now, abuse
at home, a medical emergency) keeps it, unless the classifier's kind puts 999 first too.

Danger is sometimes typed across two messages ("he said if i dont pay he'll" / "hurt my
little brother"). So when this message alone is not a crisis, it is read again after the
previous message, and a crisis found only that way counts, unless the previous message
alone was already one (that was answered then; "thanks" after it is not a new crisis).

No Rasa here (bot/nlu/crisis_layer.py is the adapter).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any, Dict, Optional, Tuple

from .calm import CalmReader, default_calm
from .classifier import ALERT_THRESHOLD, CONCERN_THRESHOLD, SPLIT_EVIDENCE, CrisisClassifier, default_classifier
from .crisis import CrisisMatcher, default_matcher
from .kinds import default_kinds

__all__ = ["ALERT", "CONCERN", "Assessment", "CrisisDetector", "default_detector"]
ALERT, CONCERN = "alert", "concern"


@dataclass(frozen=True)
class Assessment:
    kind: Optional[str]  # a kind id from kinds.yml (None: a concern with no kind named)
    source: str  # "rule", "classifier" or "both"
    pattern: Optional[str]  # the pattern that fired, if one did
    score: float  # the classifier's crisis score, 0..1 (whether or not it reached the threshold)
    with_previous: bool = False  # found only by reading the previous message with this one
    level: str = ALERT  # "alert": the crisis reply and an urgent referral; "concern": answer, numbers first, note for staff

    @property
    def is_alert(self) -> bool:
        return self.level == ALERT

    def as_dict(self) -> Dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "pattern": self.pattern,
            "score": round(self.score, 3),
            "with_previous": self.with_previous,
            "level": self.level,
        }


def kind_of_both(rule_kind: str, classifier_kind: str) -> str:
    """The kind to answer when a pattern and the classifier both fired (see the module docstring)."""
    kinds = default_kinds()
    rule, learnt = kinds.kind(rule_kind), kinds.kind(classifier_kind)
    if learnt is None or (rule is not None and rule.immediate_danger and not learnt.immediate_danger):
        return rule_kind
    return classifier_kind


class CrisisDetector:
    def __init__(self, matcher: Optional[CrisisMatcher] = None, classifier: Optional[CrisisClassifier] = None,
                 calm: Optional[CalmReader] = None):
        self.matcher = matcher or default_matcher()
        self.classifier = classifier or default_classifier()
        self.calm = calm or default_calm()

    def _assess(self, text: str) -> Tuple[Optional[Assessment], float]:
        """The assessment of `text` alone, and the classifier's score (kept when there is none)."""
        hit = self.matcher.match(text)
        score, kind = self.classifier.score(text)
        fired = kind is not None and self.classifier.fires(text, score)
        if hit is not None:
            chosen = kind_of_both(hit.category, kind) if fired else hit.category
            found = Assessment(chosen, "both" if fired else "rule", hit.pattern_id, score)
        elif fired and score >= CONCERN_THRESHOLD:
            found = Assessment(kind, "classifier", None, score, level=ALERT if score >= ALERT_THRESHOLD else CONCERN)
        else:
            return None, score
        if found.is_alert and self.calm.is_calm(text, found.kind):
            return replace(found, level=CONCERN), score  # about the past, a course or a joke: answer it, numbers first
        return found, score

    def assess(self, text: str, previous: Optional[str] = None) -> Optional[Assessment]:
        """The crisis in `text` (read after `previous`, the user's last message, if given), or None."""
        if not text or not text.strip():
            return None
        found, score = self._assess(text)
        if (found is not None and found.is_alert) or not previous or not previous.strip():
            return found
        together, _ = self._assess(f"{previous.strip()} {text.strip()}")
        if together is None or not together.is_alert:
            return found
        if together.source == "classifier" and found is None and score < SPLIT_EVIDENCE:
            # A pattern across the two ("he said if i don't pay he'll" + "hurt my brother") is
            # a sentence split in two. The classifier alone on two ordinary messages read
            # together ("do i have to pay it back" + "my mate said there's a £2000 thing")
            # is not, when this message shows nothing of danger by itself.
            return found
        alone, _ = self._assess(previous)
        if alone is not None and alone.is_alert:
            return found  # that one was answered as a crisis then: "thanks" after it is no new crisis
        return replace(together, with_previous=True)


@functools.lru_cache(maxsize=1)
def default_detector() -> CrisisDetector:
    """The shipped patterns and the classifier fitted on the shipped examples (once per process)."""
    return CrisisDetector()
