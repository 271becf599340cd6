"""Which offer entries answer a question: ranking the entries against the user's own words.

Why retrieval and not an intent per entry: a council adds or rewords an entry, or a worker
teaches it a new way of asking (its `questions:` list), and the next answer uses it, with no
retraining. Each entry is scored against the message with TF-IDF over character n-grams
(tolerant of typos and text speak: "counciltax", "acommodation", "wiv") and words, two ways:
against the whole entry (title, keywords, questions, answer) and against its closest single
question, which is how young people's phrasing reaches an entry whose official wording they
would never use. The index is built from the published content and cached per content
version by KnowledgeBase, so a reload is seen on the next answer.

Plain Python and scikit-learn; nothing here knows about Rasa.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from knowledge.content import NATIONAL, Entitlement

# Words that say nothing about which entry is meant (question words, fillers, text speak).
STOPWORDS = frozenset(
    "a an and are am as at be been can could cn do does did for from get gets got getting have has "
    "help i i'm if im in is it its it's me my of on or so the there this that to u what whats what's "
    "when where which who will with would you your ur wat wot hw da any anything about just like "
    "please pls plz hi hey hello thanks tbh ngl rn lol really actually also still now need want wanna "
    "know tell someone anyone some something there's theres how care leaver leavers council".split()
)
_TOKEN = re.compile(r"[a-z0-9£']+")
QUESTION_WEIGHT = 0.6  # share of the score from the closest question (the rest: whole entry)
# "Up to what age do I get a PA?" asks for a limit: the entries that state one (max_age) answer
# it, so they count this much more. Without it "What your personal adviser does" (no limit)
# beat "A personal adviser up to 25" on its words.
AGE_LIMIT_BOOST = 1.8
AGE_LIMIT_QUESTION = re.compile(
    r"\b(?:up to|upto|until|till|til|untill) (?:what|which|wat|wot) age\b|\bwhat age\b|\bhow long (?:do|can|will|does)\b"
    r"|\bhow old (?:do|can|until|till)\b|\bwhen does (?:it|that|this|support|help) (?:stop|end)\b|\buntil when\b|\btill when\b",
    re.I,
)
COUNCIL_BOOST = 1.2  # the council's own entry is preferred over a national one
# A national entry this similar to a council's entry of the same topic says the same thing
# ("Staying Put" in national.yml and in walsall.yml): for that council's users it comes after
# the council's, and off the first page (TWIN_SHARE of the council entry's score at most).
TWIN_SIMILARITY, TWIN_SHARE = 0.35, 0.6


def query_words(text: str, places: frozenset = frozenset()) -> str:
    """The words that carry meaning, lower-cased and joined: what both vectorisers see.

    `places` are the councils' names and aliases: the council is chosen before ranking, so
    "cambridgeshire. im 21, do i still get a PA" must not favour the entry that happens to
    say "Cambridgeshire's local offer" over the one about PAs after 21."""
    return " ".join(w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS and w not in places)


def place_words(names: Iterable[str]) -> frozenset:
    """Every word of the councils' names and aliases ("walsall", "bloxwich", "cambs")."""
    return frozenset(w for name in names for w in _TOKEN.findall(str(name).lower())) - {"city", "county", "borough"}


def entry_document(entry: Entitlement) -> str:
    """An entry as one text: the parts young people's words are most likely to meet."""
    return " ".join([entry.title, " ".join(entry.keywords), " ".join(entry.questions), entry.answer])


def _trigrams(word: str) -> set:
    padded = f" {word} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def _same_word(word: str, other: str) -> bool:
    """The same word give or take an ending or a typo: "glasses"/"glass", "acommodation"/"accommodation"."""
    if word == other:
        return True
    if min(len(word), len(other)) >= 5 and word[:5] == other[:5]:
        return True
    a, b = _trigrams(word), _trigrams(other)
    return len(word) >= 4 and len(a & b) / len(a | b) >= 0.5


def coverage(query: str, document: str) -> Tuple[int, float]:
    """How many of the question's meaningful words the entry has, and what share (1.0 for none).

    An entry can score well on one shared word: "free glasses from the optician" met "A free
    advocate" on "free" alone. Such an entry is only the closest thing, not the answer."""
    asked = set(query.split())
    if not asked:
        return 0, 1.0
    have = set(document.split())
    shared = sum(1 for word in asked if word in have or any(_same_word(word, other) for other in have))
    return shared, shared / len(asked)


@dataclass(frozen=True)
class Hit:
    """One entry and how well it matches (0 = nothing shared, 1 = the same words)."""

    score: float
    entitlement: Entitlement


class OfferIndex:
    """A TF-IDF index over every published entry and each of its questions."""

    def __init__(self, entries: Sequence[Entitlement], places: Iterable[str] = ()):
        self.entries = list(entries)
        self.places = place_words(places)
        documents = [query_words(entry_document(e), self.places) for e in self.entries]
        self._document_words = documents
        self._position = {entry.id: position for position, entry in enumerate(self.entries)}
        questions, owners = [], []
        for position, entry in enumerate(self.entries):
            for question in (*entry.questions, entry.title):
                questions.append(query_words(question, self.places))
                owners.append(position)
        corpus = documents + questions
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        self._words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"[^ ]+")
        self._chars.fit(corpus or ["empty"])
        self._words.fit(corpus or ["empty"])
        self._documents = self._matrices(documents)
        self._questions = self._matrices(questions)
        self._owners = np.array(owners, dtype=int)
        self._twins = self._find_twins()

    def _find_twins(self) -> Dict[tuple, int]:
        """(national entry's position, council id) -> position of that council's twin entry."""
        chars, words = self._documents
        if chars.shape[0] == 0:
            return {}
        similar = 0.5 * (chars @ chars.T).toarray() + 0.5 * (words @ words.T).toarray()
        twins: Dict[tuple, int] = {}
        for i, national in enumerate(self.entries):
            if national.council != NATIONAL:
                continue
            for j, local in enumerate(self.entries):
                if local.council == NATIONAL or local.topic != national.topic or similar[i, j] < TWIN_SIMILARITY:
                    continue
                best = twins.get((i, local.council))
                if best is None or similar[i, j] > similar[i, best]:
                    twins[(i, local.council)] = j
        return twins

    def _matrices(self, texts: List[str]) -> Tuple:
        """(characters, words) TF-IDF rows of these texts, each row of unit length."""
        return self._chars.transform(texts).tocsr(), self._words.transform(texts).tocsr()

    def _similarity(self, matrices: Tuple, query: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Cosine similarity per row, characters and words counting half each.

        The query is a dense vector: a sparse matrix times a dense vector is about twenty
        times faster here than two sparse matrices, and this runs on every answer.
        """
        chars, words = matrices
        if chars.shape[0] == 0:
            return np.zeros(0)
        return 0.5 * (chars @ query[0]) + 0.5 * (words @ query[1])

    def coverage(self, text: str, entry: Entitlement) -> Tuple[int, float]:
        """How much of the question this entry's words cover (see `coverage`)."""
        position = self._position.get(entry.id)
        if position is None:
            return 0, 0.0
        return coverage(query_words(text, self.places), self._document_words[position])

    def scores(self, text: str) -> np.ndarray:
        """Every entry's score for this text, in index order."""
        if not self.entries:
            return np.zeros(0)
        cleaned = [query_words(text, self.places)]
        query = (self._chars.transform(cleaned).toarray().ravel(), self._words.transform(cleaned).toarray().ravel())
        by_document = self._similarity(self._documents, query)
        by_question = np.zeros(len(self.entries))
        similarities = self._similarity(self._questions, query)
        if similarities.size:
            np.maximum.at(by_question, self._owners, similarities)
        return QUESTION_WEIGHT * by_question + (1 - QUESTION_WEIGHT) * by_document

    def search(
        self,
        text: str,
        council_id: Optional[str],
        topics: Optional[Iterable[str]] = None,
        age: Optional[int] = None,
        exclude: Iterable[str] = (),
        any_council: bool = False,
    ) -> List[Hit]:
        """Entries of the council and the national layer, best first, for these topics and age
        (of every council with `any_council`: what a question is about, before we know whose)."""
        wanted = set(topics) if topics else None
        skip = set(exclude)
        councils = {council_id or NATIONAL, NATIONAL}
        scores = self.scores(text)
        limit_asked = bool(AGE_LIMIT_QUESTION.search(text or ""))
        hits = []
        for position, (entry, score) in enumerate(zip(self.entries, scores)):
            if (entry.council not in councils and not any_council) or entry.id in skip:
                continue
            if wanted is not None and entry.topic not in wanted:
                continue
            if not entry.applies_at(age):
                continue
            if entry.council != NATIONAL:
                score = score * COUNCIL_BOOST
            elif (position, council_id) in self._twins:
                twin = self._twins[(position, council_id)]
                if self.entries[twin].applies_at(age):
                    score = min(score, TWIN_SHARE * COUNCIL_BOOST * scores[twin])
            if limit_asked and entry.max_age is not None:  # after the twin rule: the limit may be the national entry's
                score = score * AGE_LIMIT_BOOST
            hits.append(Hit(float(score), entry))
        hits.sort(key=lambda hit: -hit.score)
        return hits

    def best_by_topic(self, text: str, council_id: Optional[str], age: Optional[int] = None) -> Dict[str, Hit]:
        """The best entry of each topic: evidence for which topic a message is about."""
        best: Dict[str, Hit] = {}
        for hit in self.search(text, council_id, age=age, any_council=council_id is None):
            best.setdefault(hit.entitlement.topic, hit)
        return best
