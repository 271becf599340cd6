"""The message router's model: TF-IDF words and character n-grams, logistic regression.

Why this and not DIET: measured on messages written outside the team, a linear model on
sparse words plus character n-grams routed far more of them to the right topic than DIET
over 42 fine intents, trains in seconds instead of minutes, and gives probabilities that
mean something (the dialogue can ask "did you mean ...?" when two are close). Character
n-grams absorb typos and text speak ("acommodation", "wiv"); council names are replaced by
one placeholder word so that "walsall care leaver here, do i get free gym" is read as a
leisure question, not as the user telling us their council.

No Rasa here: the Rasa component (bot/nlu/topic_classifier.py) is a thin adapter, and the
evaluation scripts use this module directly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

COUNCIL_TOKEN = "xcouncilx"  # what every council name becomes before features are made
_SPACES = re.compile(r"\s+")
_NON_TEXT = re.compile(r"[^\w£'?!\s]+")
_REPEATS = re.compile(r"(\w)\1{2,}")
# Emoji that stand for a whole message ("👋" is hello): words the examples already teach.
EMOJI_WORDS = {"👋": " hi ", "🙏": " thanks ", "👍": " ok ", "👌": " ok "}
_EMOJI = re.compile("|".join(re.escape(e) for e in EMOJI_WORDS))


def is_question_label(label: str) -> bool:
    """Intents that ask for something (the ones a greeting or council name may precede)."""
    return label.startswith("ask_") and label != "ask_more" or label in ("request_human", "request_advocate", "make_complaint")


def council_pattern(aliases: Iterable[str]) -> re.Pattern:
    """One regex matching any council name or alias as a whole word (longest first)."""
    names = sorted({a.strip().lower() for a in aliases if a and a.strip()}, key=len, reverse=True)
    if not names:
        return re.compile(r"(?!x)x")  # matches nothing
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")


def normalise(text: str, councils: re.Pattern) -> str:
    """Lower case, council names masked, runs of a letter shortened, punctuation spaced."""
    text = _EMOJI.sub(lambda m: EMOJI_WORDS[m.group(0)], _REPEATS.sub(r"\1\1", text.lower()))
    text = councils.sub(f" {COUNCIL_TOKEN} ", text)
    text = _NON_TEXT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


GREETINGS = ("hi", "hiya", "hello", "hey", "morning", "hi there")
PREFIX_EVERY = 4  # one question example in four is also learnt with a greeting, one with a council


def with_prefixes(texts: Sequence[str], labels: Sequence[str], is_question, councils: Sequence[str]) -> Tuple[List[str], List[str]]:
    """The examples plus copies of some questions after a greeting or a council name.

    Why: "hiya cn u help wiv money" and "walsall - whats the grant" are questions, but a
    greeting or a council name alone is a strong signal of greet / inform_council, so the
    router must see that a question after one is still the question.
    """
    out_texts, out_labels = list(texts), list(labels)
    questions = [(t, l) for t, l in zip(texts, labels) if is_question(l)]
    for number, (text, label) in enumerate(questions):
        if number % PREFIX_EVERY == 0:
            out_texts.append(f"{GREETINGS[number % len(GREETINGS)]} {text}")
        elif number % PREFIX_EVERY == 1 and councils:
            out_texts.append(f"{councils[number % len(councils)]} - {text}")
        else:
            continue
        out_labels.append(label)
    return out_texts, out_labels


_LEAD = re.compile(
    r"^\s*(?:(?:hi+|hiya|hey+|hello+|helo|hallo|morning|evening|afternoon|yo|alright|hi there|hey there|"
    r"good (?:morning|afternoon|evening)|xcouncilx(?: (?:care leaver|council))?(?: here)?)\b[\s,.!:;-]*)+"
)


def without_lead(text: str) -> str:
    """The message after a greeting or council name in front ("hiya, ...", "walsall - ...")."""
    return _LEAD.sub("", text, count=1).strip()


@dataclass
class Router:
    """A fitted router: `rank(text)` gives (label, probability) best first."""

    words: TfidfVectorizer
    chars: TfidfVectorizer
    model: LogisticRegression
    councils: re.Pattern

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], aliases: Iterable[str], c: float = 10.0) -> "Router":
        aliases = list(aliases)
        texts, labels = with_prefixes(texts, labels, is_question_label, aliases)
        councils = council_pattern(aliases)
        cleaned = [normalise(t, councils) for t in texts]
        words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
        features = hstack([words.fit_transform(cleaned), chars.fit_transform(cleaned)]).tocsr()
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
        model.fit(features, list(labels))
        return cls(words, chars, model, councils)

    def rank_many(self, texts: Sequence[str]) -> List[List[Tuple[str, float]]]:
        """For each text, every label with its probability, best first.

        A greeting or council name in front of a question must not hide the question: when
        the whole message reads as a greeting (or anything but a question) and the rest,
        without that lead, reads as a question, the rest decides.
        """
        cleaned = [normalise(t, self.councils) for t in texts]
        rests = [without_lead(c) for c in cleaned]
        whole = self._rank_cleaned(cleaned)
        rest_indices = [i for i, (c, r) in enumerate(zip(cleaned, rests)) if r != c and len(r.split()) >= 2]
        if rest_indices:
            rest_ranks = self._rank_cleaned([rests[i] for i in rest_indices])
            for i, ranked in zip(rest_indices, rest_ranks):
                if not is_question_label(whole[i][0][0]) and is_question_label(ranked[0][0]):
                    whole[i] = ranked
        return whole

    def _rank_cleaned(self, cleaned: Sequence[str]) -> List[List[Tuple[str, float]]]:
        features = hstack([self.words.transform(cleaned), self.chars.transform(cleaned)]).tocsr()
        probabilities = self.model.predict_proba(features)
        labels = self.model.classes_
        ranked = []
        for row in probabilities:
            order = np.argsort(-row)
            ranked.append([(str(labels[i]), float(row[i])) for i in order])
        return ranked

    def rank(self, text: str) -> List[Tuple[str, float]]:
        return self.rank_many([text])[0]
