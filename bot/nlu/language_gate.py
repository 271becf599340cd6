"""Rasa NLU component: a message in another language, or a request for one, goes to the
language replies (knowledge/languages) instead of an English guess.

Why a gate and not training: the router is trained on English, and an Albanian or Arabic
message it half-matches would get a confident English answer to a question nobody asked.
So when the detector (knowledge/languages/detect.py) reads a supported language, or cannot
tell which of a script's languages it is, or the message only asks for a language ("can you
speak arabic", "فارسی"), the intent becomes `nlu_fallback` and the parse result gets
`language: {code, sure, candidates, choice, asked_list, why}`; action_fallback answers in that
language (actions/languages.py). English messages are left exactly as they were (no key,
no change): tests/test_languages.py holds that no English message of the evaluation sets is
read as another language. Inside a form the intent is never changed (a name typed in Arabic
letters answers "what's your first name?"); the key is still set.

Runs after the unknown-words gate and before the crisis layer, which overrides everything.
No model file: the detector and the language files are read when the component is created.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import override_intent
from knowledge.languages.catalog import Catalog, default_catalog
from knowledge.languages.detect import detect
from knowledge.languages.replies import read_choice

LANGUAGE_KEY = "language"  # extra key in the parse result (actions/languages.py reads it)


def reading(text: str, catalog: Catalog) -> Optional[Dict[str, Any]]:
    """The parse result's `language` entry for a message, or None for plain English."""
    choice = read_choice(text, catalog.names())
    found = detect(text, catalog.markers())
    if choice is None and found.is_english and not found.candidates:
        return None
    return {
        "code": found.language,
        "sure": found.sure,
        "candidates": list(found.candidates),
        "choice": choice.code if choice else None,
        "asked_list": choice is not None and choice.code is None,
        "why": found.why,
    }


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageGate(GraphComponent):
    """Sets `nlu_fallback` and `language` for messages the language replies should answer."""

    def __init__(self, catalog: Optional[Catalog] = None) -> None:
        self.catalog = catalog or default_catalog()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageGate":
        return cls()

    def process(self, messages: List[Message], tracker: Optional[DialogueStateTracker] = None) -> List[Message]:
        in_form = tracker is not None and tracker.active_loop_name is not None
        for message in messages:
            found = reading(message.get(TEXT) or "", self.catalog)
            if found is None:
                continue
            message.set(LANGUAGE_KEY, found, add_to_output=True)
            if not in_form:
                override_intent(message, DEFAULT_NLU_FALLBACK_INTENT_NAME, 1.0)
        return messages

    def process_training_data(self, training_data):  # noqa: D401 - Rasa hook
        """Nothing to learn: the detector's model ships in its wheel, the languages are data."""
        return training_data
