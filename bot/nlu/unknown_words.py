"""Rasa NLU component: a message made only of words nobody taught the bot is not understood.

Why: DIET's confidence on gibberish ("zxqv blorp") is not reliably low. Character n-gram
features make nonsense look a little like something, and adding examples to any intent
can push that guess over the FallbackClassifier's threshold; then a young person who typed
nonsense gets a confident answer to a question they never asked, and the staff report
loses a "not understood" turn. So the fallback should not hang on a score.

The rule is about words, not scores: if none of the message's words is a word the bot was
trained on, an English word (the lookup lemma table the spaCy pipeline already uses,
spacy-lookups-data) or one letter away from a trained word (typos: "volunter"), the
intent becomes `nlu_fallback`, exactly as the FallbackClassifier would have set it.
Messages with no words at all ("19", "?", an emoji) are left alone: numbers answer
questions. It runs after the FallbackClassifier and before the crisis layer, which
overrides everything.
"""
from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Set, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.intent_override import override_intent

_WORD = re.compile(r"[a-z]+")
_VOCABULARY_FILE = "vocabulary.json"
MIN_WORD_LENGTH = 2  # single letters ("u", "r", "i", "k") say too little either way
MIN_TYPO_LENGTH = 4  # shorter words are one letter away from too much
UNKNOWN_WORDS_KEY = "unknown_words"  # extra key in the parse result, for staff and tests


def words(text: Text) -> List[Text]:
    """The message's words, lower-cased letters only, ignoring single letters."""
    return [w for w in _WORD.findall(text.lower()) if len(w) >= MIN_WORD_LENGTH]


@lru_cache(maxsize=1)
def english_words() -> FrozenSet[Text]:
    """Word forms and lemmas of spacy-lookups-data's English lemma table (about 60,000)."""
    import spacy_lookups_data

    table_file = Path(spacy_lookups_data.__file__).parent / "data" / "en_lemma_lookup.json.gz"
    with gzip.open(table_file, "rt", encoding="utf8") as handle:
        table: Dict[Text, Text] = json.load(handle)
    return frozenset(w.lower() for pair in table.items() for w in pair if w.isalpha())


def _deletions(word: Text) -> Set[Text]:
    """The word and every string one deletion away: the symmetric-delete typo index."""
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


class Vocabulary:
    """The words the bot knows: trained words (with a typo index) plus English words."""

    def __init__(self, trained: Iterable[Text], english: FrozenSet[Text] = frozenset()) -> None:
        self.trained = frozenset(trained)
        self.english = english
        self._typo_index: Set[Text] = set()
        for word in self.trained:
            if len(word) >= MIN_TYPO_LENGTH:
                self._typo_index |= _deletions(word)

    def knows(self, word: Text) -> bool:
        """A trained or English word, or one edit (delete, insert, swap a letter) from a trained one."""
        if word in self.trained or word in self.english:
            return True
        return len(word) >= MIN_TYPO_LENGTH and not self._typo_index.isdisjoint(_deletions(word))

    def unknown(self, text: Text) -> Optional[List[Text]]:
        """The message's words when none of them is known; None when any is (or it has none)."""
        found = words(text)
        if not found or any(self.knows(w) for w in found):
            return None
        return found


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class UnknownWordsFallback(GraphComponent):
    """Sets intent `nlu_fallback` when none of the message's words is known."""

    def __init__(
        self, model_storage: ModelStorage, resource: Resource, trained_words: Iterable[Text] = ()
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = Vocabulary(trained_words, english_words())

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "UnknownWordsFallback":
        return cls(model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "UnknownWordsFallback":
        with model_storage.read_from(resource) as directory:
            trained = json.loads((directory / _VOCABULARY_FILE).read_text(encoding="utf8"))
        return cls(model_storage, resource, trained)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn every word of every training example (all intents, responses and lookups)."""
        trained: Set[Text] = set()
        for example in training_data.training_examples:
            trained.update(words(example.get(TEXT) or ""))
        for lookup in training_data.lookup_tables:
            for element in lookup.get("elements") or []:
                trained.update(words(str(element)))
        self.vocabulary = Vocabulary(trained, english_words())
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _VOCABULARY_FILE).write_text(json.dumps(sorted(trained)), encoding="utf8")
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._gate(message)
        return messages

    def _gate(self, message: Message) -> None:
        unknown = self.vocabulary.unknown(message.get(TEXT) or "")
        if unknown is None:
            return
        override_intent(message, DEFAULT_NLU_FALLBACK_INTENT_NAME, 1.0)
        message.set(UNKNOWN_WORDS_KEY, unknown, add_to_output=True)
