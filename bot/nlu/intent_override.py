"""One way for a rule-based NLU component to overrule the classifier's intent."""
from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, name: str, confidence: float) -> None:
    """Make `name` the message's intent and put it first in the ranking (once), the rest kept.

    Why shared: the crisis layer and the unknown-words gate both overrule the router, and staff
    reports and the evaluation read the ranking, so both must leave it in the same shape.
    """
    chosen = {"name": name, "confidence": confidence}
    rest = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != name]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *rest], add_to_output=True)
