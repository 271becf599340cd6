"""The reply collector every Pathfinder channel uses."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel

from knowledge.safety.reply import SAFETY


class ChannelCollector(CollectingOutputChannel):
    """Collects a turn's replies under the channel's own name (Rasa's collector calls itself
    "collector"), so the domain's `channel: rest` / `channel: sms` response variants apply.

    It also keeps a message's safety mark (`safety: crisis`, set by the actions), which Rasa's
    collector drops: the SMS channel keeps a crisis reply whole and flags it by that mark,
    not by the words in it."""

    channel = "collector"

    @classmethod
    def name(cls) -> str:
        return cls.channel

    @staticmethod
    def _marked(message: Dict[Text, Any], safety: Optional[str]) -> Dict[Text, Any]:
        if isinstance(safety, str) and safety:
            message[SAFETY] = safety
        return message

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in text.strip().split("\n\n"):  # as Rasa's collector splits it
            await self._persist_message(self._marked(self._message(recipient_id, text=part), kwargs.get(SAFETY)))

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        await self._persist_message(self._marked(self._message(recipient_id, text=text, buttons=buttons), kwargs.get(SAFETY)))
