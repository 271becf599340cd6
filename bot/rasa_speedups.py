"""Fixes for Rasa 3.6 hot spots found by profiling a Pathfinder turn (see docs/deployment.md).

Applied once, in the Rasa server process, by importing `bot.tracker_store` (which both
endpoints files name, so no server runs without it).

1. Checking the action server's reply. `RemoteAction._validate_action_result` calls
   `jsonschema.validate(result, schema)`, which first validates the *schema itself* against
   the JSON Schema 2020-12 meta-schema on every call. With jsonschema 4.17 that meta-check
   was about 60% of the Rasa server's CPU time per turn (py-spy, 2026-11-25), and a
   Pathfinder turn called the action server 2-4 times (1-3 since item 4). The schema
   never changes, so it is checked once and the compiled validator re-used; replies are
   validated exactly as before (same schema, same best-match error, same message).
2. Turning stored events back into a tracker. `Event.resolve_by_type` walks every subclass
   of `Event` (recursively, checking each for abstractness) for every event deserialised,
   so rebuilding a tracker of n events cost n class-tree walks: at turn 150 of one
   conversation that was 24% of the server's CPU and made late turns slow. The type-name
   to class table is built once (rebuilt on a miss, for classes imported later), with the
   same first-match order, the same "topic" and default handling, the same error.
3. What the action server is sent. Each custom action call carries the whole session's
   events as JSON (2-4 calls a turn); at turn 150 decoding them was half the action
   server's CPU. Calls now carry the last ACTION_EVENTS_LIMIT events (slots, the latest
   message and the active form are sent separately and in full). Pathfinder's actions
   look back at most to the user's latest offer question (actions/common.py
   `last_question`, actions/people.py), a few turns; 300 events is about 35 turns.
4. The per-turn slot validation call. Because the domain declares
   action_validate_slot_mappings, `ActionExtractSlots` rebuilds the tracker from every
   event of the session and calls the action server on every turn, even when the
   message cannot change the council or age (most of them). It is now skipped when
   bot.slot_context.slot_extraction_may_act says the action could do nothing; the
   extracted slots then pass through exactly as the action would have returned them
   (it has no validate_ methods).
5. Garbage-collection pauses. The loaded model (TensorFlow, spaCy) is millions of Python
   objects that live as long as the server; every full collection walked all of them,
   stalling a turn by 300-500 ms every few turns of a long conversation. `freeze_heap`,
   called once the model is loaded (first tracker retrieve), moves everything alive to
   the permanent generation (gc.freeze) so collections only look at new objects.
"""
from __future__ import annotations

import gc
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text, Type

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.shared.constants import DOCS_BASE_URL

from bot.slot_context import slot_extraction_may_act

_APPLIED = False
_FROZEN = False
ACTION_EVENTS_LIMIT = 300
_original_action_call_format = RemoteAction._action_call_format
_original_validation_action = ActionExtractSlots._execute_validation_action


@lru_cache(maxsize=1)
def action_response_validator():
    """The validator for action server replies, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """Drop-in for RemoteAction._validate_action_result with a pre-compiled validator."""
    error = best_match(action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def action_call_format(self: RemoteAction, tracker, domain) -> Dict[str, Any]:
    """Rasa's request body for the action server, with at most ACTION_EVENTS_LIMIT events."""
    body = _original_action_call_format(self, tracker, domain)
    events = body["tracker"].get("events") or []
    if len(events) > ACTION_EVENTS_LIMIT:
        body["tracker"]["events"] = events[-ACTION_EVENTS_LIMIT:]
    return body


async def execute_validation_action(
    self: ActionExtractSlots,
    extraction_events: List[Event],
    output_channel: Any,
    nlg: Any,
    tracker: DialogueStateTracker,
    domain: Domain,
) -> List[Event]:
    """Rasa's slot validation step, without the action server call when it cannot act."""
    message = tracker.latest_message
    if message is not None and not slot_extraction_may_act(
        message.text or "",
        (message.intent or {}).get("name"),
        message.entities or [],
        message.metadata or {},
        tracker.current_slot_values(),
    ):
        return [event for event in extraction_events if isinstance(event, SlotSet)]
    return await _original_validation_action(self, extraction_events, output_channel, nlg, tracker, domain)


_EVENT_CLASSES: Dict[Text, Type[Event]] = {}


def _event_classes() -> Dict[Text, Type[Event]]:
    """type_name -> first matching Event subclass, in `all_subclasses` order (as Rasa)."""
    table: Dict[Text, Type[Event]] = {}
    for cls in all_subclasses(Event):
        table.setdefault(cls.type_name, cls)
    return table


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """Drop-in for Event.resolve_by_type with the class table built once."""
    cls = _EVENT_CLASSES.get(type_name)
    if cls is None:
        _EVENT_CLASSES.update(_event_classes())
        cls = _EVENT_CLASSES.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa's backwards compatibility for old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def freeze_heap() -> None:
    """Exclude everything alive now (the loaded model) from future garbage collections."""
    global _FROZEN
    if not _FROZEN:
        gc.collect()
        gc.freeze()
        _FROZEN = True


def apply() -> None:
    """Install the fixes (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    RemoteAction._validate_action_result = validate_action_result
    Event.resolve_by_type = staticmethod(resolve_by_type)
    RemoteAction._action_call_format = action_call_format
    ActionExtractSlots._execute_validation_action = execute_validation_action
    _APPLIED = True


__all__ = ["apply", "validate_action_result", "action_response_validator", "resolve_by_type", "ValidationError"]
