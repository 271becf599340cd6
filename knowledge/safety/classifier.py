"""A learned crisis detector, to catch what the patterns' authors did not think to write.

The rule layer (crisis.py) is precise and explainable but only finds phrasings someone wrote
a pattern for. This classifier generalises from examples (data/safety/examples.yml): TF-IDF
word 1-2-grams and character 3-4-grams (within words, so typos and text speak still share
features) feeding a class-balanced logistic regression over the 12 kinds of danger plus
"none". Two logistic regressions share the features: one says how likely the message is a crisis
(trained on every example, balanced), the other which kind (trained on the crisis examples).

Besides the not-crisis examples, two sets the team keeps for other reasons are used as
ordinary messages: the questions in the offer files (knowledge/offers/*.yml `questions:`,
how young people ask for each entitlement; any a crisis pattern matches, such as "i'm
homeless what do i do", left out) and the intent examples the NLU is trained on (data/nlu/,
every intent but `crisis`; read as plain YAML, no Rasa). They are the best picture there is of everyday
messages of every topic, and they keep up without anyone copying them here. Measured on
the eval sets' non-crisis cases they cut false alarms by half or more at the same recall.

A crisis buried in a long message would be diluted in one bag of words, so a message is
scored whole, sentence by sentence, and (when long) in overlapping windows of words; the
highest score counts. The threshold was chosen by cross-validation on the examples with
this same scoring, for recall first (scripts/crisis_report.py prints the figures).

No training step: the model is fitted from the examples file the first time it is needed
in a process (well under a second) and cached. Pure Python + scikit-learn; no Rasa.
"""
from __future__ import annotations

import functools
import logging
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import yaml
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from .crisis import default_matcher, sentences
from .kinds import KIND_IDS

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_EXAMPLES_PATH",
    "NONE",
    "ALERT_THRESHOLD",
    "CONCERN_THRESHOLD",
    "THRESHOLD",
    "CrisisClassifier",
    "Examples",
    "cross_validate",
    "default_classifier",
    "load_examples",
    "nlu_examples",
    "offer_questions",
    "ordinary_messages",
]

DEFAULT_EXAMPLES_PATH = Path(__file__).resolve().parents[2] / "data" / "safety" / "examples.yml"
OFFERS_DIR = Path(__file__).resolve().parents[1] / "offers"
NLU_DIR = Path(__file__).resolve().parents[2] / "data" / "nlu"
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")  # "[walsall](council)" -> "walsall"
NONE = "none"
MIN_PER_KIND = 40
MIN_NOT_CRISIS = 400

# The classifier's own "fires" point, chosen by 5-fold cross-validation on
# data/safety/examples.yml (scripts/crisis_report.py) for recall first: held out, it catches
# 0.956 of the crisis examples (last run 2026-12-01, 3,802 examples plus 4,085 ordinary
# messages). It decides nothing on its own: what a young person gets is decided from
# CONCERN_THRESHOLD and ALERT_THRESHOLD below (tests/test_crisis_classifier.py holds both).
THRESHOLD = 0.15
# At THRESHOLD the classifier flags many ordinary questions (long stories of hard times read
# like danger to n-grams), so on its own it raises a *concern*: the question is answered,
# with the safety numbers first and a note for staff. It raises an *alert* (the crisis reply
# and an urgent referral) only from ALERT_THRESHOLD. Measured 2026-12-01 over the non-crisis
# cases of every eval set (1,762 messages, tests/eval/*.yml with the dialogue turns and the
# outside sample), with the calm reading (calm.py), C below and the training windows: 0.90
# flags 2.5% of them (the aim is at most 3%). The development sets alone allowed 0.87; 0.90
# keeps the cross-validated false alarms on the hard look-alikes under 4% (the test's bound).
# The patterns always raise an alert (unless calm.py reads the message as about the past).
ALERT_THRESHOLD = 0.90
# Below ALERT_THRESHOLD, the classifier alone raises a concern (999 and Samaritans before the
# answer, and a note for staff) from this score. At THRESHOLD (0.15) that line came before 22%
# of the eval sets' ordinary messages ("where is this from?" read as 'missing'), wearing down
# the real warnings; at 0.5 it was 8.1%. With C=100 and the training windows, two trials by
# helpers playing care leavers still saw it before 6% of ordinary worries (council tax
# arrears, pregnancy, a PA who never replies) and found it frightening: from 0.7 it comes
# before 2.4% of the eval sets' 1,774 ordinary messages (4.1% at 0.5), and the crisis
# messages getting at least the numbers stay 210 of 216 on the development set (212 at 0.5;
# 2026-12-01, chosen there).
CONCERN_THRESHOLD = 0.7
# A crisis the classifier finds only in the previous message read with this one needs this
# much evidence in this message alone (detect.py). At THRESHOLD, a first name typed for the
# hand-off form ("its jade", 0.16) after "can my PA ring me, ive been trying to get hold of
# her for a week" became an exploitation alert. Measured 2026-12-01 on the dev crisis sets
# (crisis.yml and crisis-blind.yml, each message of 6+ words split in two halves): of the
# 300 splits caught together, 284 keep their second half at 0.15 and 282 at 0.35.
SPLIT_EVIDENCE = 0.35

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when there: the files are read on every start
WINDOW, STRIDE, LONG = 12, 6, 16  # words per window, step, and the length from which windows are used
# A message of fewer words says too little for n-gram evidence ("stop", "here", "any time"
# answering a form looked like danger): the patterns alone judge those.
MIN_WORDS = 3
# Weak regularisation: chosen 2026-12-01 on the development sets only (tests/eval/crisis-blind.yml
# and crisis.yml for recall, the non-crisis cases of the other first-round sets for false
# alarms, at most 3%): with the training windows, C=100 caught 0.980 of their crisis messages
# at 0.87 (C=10: 0.951 without the windows), as character 3-5-grams did at a fifth more
# fitting time. The second-round blind sets, read for the totals only afterwards, went from
# 0.878 to 0.956 at ALERT_THRESHOLD.
C = 100.0


@dataclass(frozen=True)
class Examples:
    texts: Tuple[str, ...]
    labels: Tuple[str, ...]  # a kind id or NONE

    def count(self, label: str) -> int:
        return sum(1 for value in self.labels if value == label)


def load_examples(path: Path = DEFAULT_EXAMPLES_PATH) -> Examples:
    """The examples in `path`, checked: every kind present with enough examples, no duplicates."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the crisis examples: {error}") from error
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ValueError(f"{path}: must be a mapping with version: 1, crisis: and not_crisis:")
    unknown = set(data) - {"version", "crisis", "not_crisis"}
    if unknown:
        raise ValueError(f"{path}: unknown top-level field(s) {sorted(unknown)}")
    crisis = data.get("crisis") or {}
    if not isinstance(crisis, dict):
        raise ValueError(f"{path}: crisis: must map kind ids to lists of messages")
    problems: List[str] = []
    texts: List[str] = []
    labels: List[str] = []
    seen: Dict[str, str] = {}

    def add(text: object, label: str, where: str) -> None:
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: {text!r} is not a message")
            return
        key = " ".join(text.lower().split())
        if key in seen:
            problems.append(f"{where}: {text!r} is a duplicate (also under {seen[key]})")
            return
        seen[key] = where
        texts.append(text)
        labels.append(label)

    for kind, items in crisis.items():
        if kind not in KIND_IDS:
            problems.append(f"crisis.{kind}: not a kind (see knowledge/safety/kinds.yml)")
            continue
        if not isinstance(items, list):
            problems.append(f"crisis.{kind}: must be a list of messages")
            continue
        for item in items:
            add(item, kind, f"crisis.{kind}")
    for item in data.get("not_crisis") or []:
        add(item, NONE, "not_crisis")
    for kind in KIND_IDS:
        have = labels.count(kind)
        if have < MIN_PER_KIND:
            problems.append(f"crisis.{kind}: has {have} examples, needs at least {MIN_PER_KIND}")
    if labels.count(NONE) < MIN_NOT_CRISIS:
        problems.append(f"not_crisis: has {labels.count(NONE)} examples, needs at least {MIN_NOT_CRISIS}")
    if problems:
        raise ValueError(f"{path}:\n  " + "\n  ".join(problems))
    return Examples(tuple(texts), tuple(labels))


def _documents(paths: Iterable[Path], what: str) -> Iterator[dict]:
    """Each readable YAML file's content; a file that cannot be read is skipped with a warning
    (the examples alone still make a working classifier)."""
    for path in sorted(paths):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
        except (OSError, yaml.YAMLError):
            logger.warning("crisis classifier: could not read %s for %s", path, what, exc_info=True)
            continue
        yield data or {}


def offer_questions(directory: Path = OFFERS_DIR) -> List[str]:
    """The offer files' `questions:` that no crisis pattern matches, as ordinary messages.

    Read directly (not through knowledge.content's full validation, which is slower than the
    whole fit).
    """
    matcher = default_matcher()
    out: List[str] = []
    for data in _documents(Path(directory).glob("*.yml"), "ordinary questions"):
        for entry in data.get("entitlements") or []:
            for question in (entry or {}).get("questions") or []:
                if isinstance(question, str) and question.strip() and matcher.match(question) is None:
                    out.append(question)
    return out


def nlu_examples(directory: Path = NLU_DIR) -> List[str]:
    """The NLU training examples of every intent but `crisis`.

    Their labels are trusted (the NLU's own test keeps them apart from crisis), so unlike
    the offer questions they are not run past the patterns: the few a pattern matches are
    the patterns' own false alarms ("im not suicidal", "they said im intentionally homeless"),
    the very messages the classifier should learn are ordinary, and skipping the check
    keeps the start-up quick."""
    out: List[str] = []
    for data in _documents(Path(directory).rglob("*.yml"), "ordinary messages"):
        for item in data.get("nlu") or []:
            if not isinstance(item, dict) or not item.get("intent") or item["intent"] == "crisis":
                continue
            for line in str(item.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = _ANNOTATION.sub(r"\1", line[2:]).strip()
                    if text:
                        out.append(text)
    return out


def ordinary_messages() -> List[str]:
    """Everyday messages kept elsewhere by the team: offer questions and NLU examples (once each)."""
    seen: set = set()
    out: List[str] = []
    for text in offer_questions() + nlu_examples():
        key = " ".join(text.lower().split())
        if key not in seen:
            seen.add(key)
            out.append(text)
    return out


def _default_normaliser() -> Callable[[str], str]:
    return default_matcher().normalise


def training_windows(normalised: str) -> List[str]:
    """Side by side windows of a long ordinary message, learnt as ordinary too.

    A long message is scored window by window (candidates), and a window cut out of an
    everyday story ("day and i can't keep paying it out of my ema", from a message about
    bus fares) had never been seen whole: it read as danger. Windows of the crisis examples
    are not added, since the window may be the part without the danger. Chosen on the
    development sets (2026-12-01): recall 0.955 -> 0.980 at false alarms under 3%."""
    words = normalised.split()
    if len(words) <= LONG:
        return []
    return [" ".join(words[start:start + WINDOW]) for start in range(0, len(words), WINDOW)]


class CrisisClassifier:
    """Fit on (text, label) pairs; `score(text)` gives (crisis score, likeliest kind)."""

    def __init__(self, normalise: Optional[Callable[[str], str]] = None, threshold: float = THRESHOLD, c: float = C):
        self.normalise = normalise or _default_normaliser()
        self.threshold = threshold
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                     token_pattern=r"(?u)\b[\w']+\b")
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True, min_df=2)
        # two models on the same features: is it a crisis (all examples), and which kind (crisis examples)
        self.detector = LogisticRegression(C=c, class_weight="balanced", solver="liblinear")
        self.kinds = LinearSVC(C=1.0, class_weight="balanced")  # as accurate as a second LR here, and quicker

    def _features(self, texts: Sequence[str], fit: bool = False):
        if fit:
            return hstack([self.words.fit_transform(texts), self.chars.fit_transform(texts)]).tocsr()
        return hstack([self.words.transform(texts), self.chars.transform(texts)]).tocsr()

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "CrisisClassifier":
        normalised = [self.normalise(text) for text in texts]
        windows = [window for text, label in zip(normalised, labels) if label == NONE for window in training_windows(text)]
        features = self._features(normalised + windows, fit=True)
        labels = np.asarray(list(labels) + [NONE] * len(windows))
        is_crisis = labels != NONE
        self.detector.fit(features, is_crisis.astype(int))
        self.kinds.fit(features[np.flatnonzero(is_crisis)], labels[is_crisis])
        return self

    def candidates(self, text: str) -> List[str]:
        """The pieces of a message that are scored: whole, sentences, and windows of a long one."""
        whole = self.normalise(text)
        out = [whole] if whole else []
        for part in sentences(text):
            normalised = self.normalise(part)
            if normalised and normalised not in out:
                out.append(normalised)
        words = whole.split()
        if len(words) > LONG:
            for start in range(0, len(words) - WINDOW + STRIDE, STRIDE):
                window = " ".join(words[start:start + WINDOW])
                if window not in out:
                    out.append(window)
        return out

    def score(self, text: str) -> Tuple[float, Optional[str]]:
        """(crisis score 0..1, likeliest kind) of the most worrying piece of the message."""
        pieces = self.candidates(text or "")
        if not pieces:
            return 0.0, None
        features = self._features(pieces)
        crisis = self.detector.predict_proba(features)[:, 1]
        best = int(np.argmax(crisis))
        kind = self.kinds.predict(features[best])[0]
        return float(crisis[best]), str(kind)

    def fires(self, text: str, score: float) -> bool:
        """Whether a score is a crisis: at or above the threshold, for a message of MIN_WORDS or more."""
        return score >= self.threshold and len(self.normalise(text or "").split()) >= MIN_WORDS

    def predict(self, text: str) -> Optional[Tuple[str, float]]:
        """(kind, score) when the classifier calls it a crisis, else None."""
        score, kind = self.score(text)
        return (kind, score) if kind is not None and self.fires(text, score) else None


@functools.lru_cache(maxsize=1)
def default_classifier() -> CrisisClassifier:
    """The classifier fitted on the shipped examples (fitted once per process)."""
    examples = load_examples(DEFAULT_EXAMPLES_PATH)
    ordinary = ordinary_messages()
    return CrisisClassifier().fit(list(examples.texts) + ordinary, list(examples.labels) + [NONE] * len(ordinary))


@dataclass(frozen=True)
class HeldOut:
    """One example's score from a model that never saw it."""

    text: str
    label: str
    score: float
    kind: Optional[str]
    words: int = MIN_WORDS  # the message's length in words, normalised


def _folds(labels: Sequence[str], k: int, seed: int) -> List[List[int]]:
    """Stratified folds: each label's examples dealt round the folds in a shuffled order."""
    rng = random.Random(seed)
    folds: List[List[int]] = [[] for _ in range(k)]
    by_label: Dict[str, List[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    offset = 0
    for label in sorted(by_label):
        indexes = by_label[label]
        rng.shuffle(indexes)
        for position, index in enumerate(indexes):
            folds[(position + offset) % k].append(index)
        offset += len(indexes)
    return folds


def cross_validate(examples: Examples, k: int = 5, seed: int = 0,
                   make: Optional[Callable[[], CrisisClassifier]] = None,
                   ordinary: Sequence[str] = ()) -> List[HeldOut]:
    """Every example scored by a classifier fitted on the other folds (plus `ordinary`
    messages, always in training, as the shipped classifier has the offer questions)."""
    make = make or CrisisClassifier
    out: List[HeldOut] = []
    for fold in _folds(examples.labels, k, seed):
        held = set(fold)
        train = [i for i in range(len(examples.texts)) if i not in held]
        model = make().fit([examples.texts[i] for i in train] + list(ordinary),
                           [examples.labels[i] for i in train] + [NONE] * len(ordinary))
        for i in fold:
            score, kind = model.score(examples.texts[i])
            words = len(model.normalise(examples.texts[i]).split())
            out.append(HeldOut(examples.texts[i], examples.labels[i], score, kind, words))
    return out


def flagged(held: HeldOut, threshold: float) -> bool:
    """Whether the classifier would call this held-out example a crisis at `threshold`."""
    return held.score >= threshold and held.words >= MIN_WORDS


def recall_at(held: Iterable[HeldOut], threshold: float) -> Tuple[float, float]:
    """(recall on crisis examples, false-alarm rate on not-crisis examples) at `threshold`."""
    held = list(held)
    crisis = [h for h in held if h.label != NONE]
    calm = [h for h in held if h.label == NONE]
    recall = sum(flagged(h, threshold) for h in crisis) / len(crisis) if crisis else 0.0
    false_alarms = sum(flagged(h, threshold) for h in calm) / len(calm) if calm else 0.0
    return recall, false_alarms


def threshold_for_recall(held: Iterable[HeldOut], target: float = 0.99) -> float:
    """The highest threshold (to 2 decimals) at which recall on crisis examples is >= target."""
    held = list(held)
    for step in range(99, 0, -1):
        threshold = step / 100
        if recall_at(held, threshold)[0] >= target:
            return threshold
    return 0.01
