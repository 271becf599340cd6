"""When the Rasa server may skip the per-turn slot validation call to the action server.

Lives in bot/ (plain data in, no Rasa, no actions import) so that the Rasa server process
can ask it without depending on the action server's code; it mirrors
actions.context.ValidatePredefinedSlots, and tests/test_context_skip.py holds the two
together by running the real action wherever this says "skip".
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional


def slot_extraction_may_act(
    text: str, intent: Optional[str], entities: List[Dict[str, Any]], metadata: Dict[str, Any], slots: Dict[str, Any]
) -> bool:
    """Whether ValidatePredefinedSlots could set a slot or say something for this message.

    Why: Rasa calls action_validate_slot_mappings over HTTP on every turn, with the whole
    session, though most messages ("how much is the grant") name no council and no age.
    The Rasa server asks this first (bot/rasa_speedups.py) and skips the call when it is
    False. It must stay a cautious superset of what the action's extract_ methods read: the
    council from metadata when it differs from the slot or an unknown one is pending, from
    the words (the entity ruler tags every council name resolve_council knows), the answer
    to a question the form asked, and an age (always written with digits unless asked for).
    tests/test_context_skip.py checks it against the real action on many turns.
    """
    channel_council = metadata.get("council")
    if channel_council is not None and (
        str(channel_council).strip().lower() != slots.get("council") or slots.get("bad_council") is not None
    ):
        return True
    if slots.get("requested_slot") in ("council", "age") or intent in ("inform_council", "inform_age"):
        return True
    if channel_council is None and slots.get("council") is None:
        return True  # nothing known yet: let the action read the words
    if any(entity.get("entity") == "council" for entity in entities):
        return True
    return any(character.isdigit() for character in text)
