"""Rasa NLU component that raises the `crisis` intent from patterns kept as data.

The intent classifier alone can miss indirect wording ("whats the point anymore"), so this
layer runs after DIET and the FallbackClassifier and overrides whatever they said when a
pattern in knowledge/safety/crisis_patterns.yml matches. The matching itself lives in
knowledge.safety (no Rasa there); this is only the adapter.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import override_intent
from knowledge.safety.crisis import CrisisMatcher, default_matcher

CRISIS_INTENT = "crisis"
CRISIS_KEY = "crisis"  # extra key in the parse result: which pattern matched, for staff


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CrisisLayer(GraphComponent):
    """Sets intent `crisis` (confidence 1.0) when the rule layer matches the message."""

    def __init__(self, matcher: Optional[CrisisMatcher] = None) -> None:
        self.matcher = matcher or default_matcher()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CrisisLayer":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._flag(message)
        return messages

    def process_training_data(self, training_data):  # noqa: D401 - Rasa hook
        """Nothing to learn: the patterns are data."""
        return training_data

    def _flag(self, message: Message) -> None:
        hit = self.matcher.match(message.get(TEXT) or "")
        if hit is None:
            return
        previous = message.get(INTENT) or {}
        override_intent(message, CRISIS_INTENT, 1.0)
        message.set(
            CRISIS_KEY,
            {"category": hit.category, "pattern": hit.pattern_id, "classifier_intent": previous.get("name")},
            add_to_output=True,
        )
