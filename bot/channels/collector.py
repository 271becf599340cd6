"""The reply collector every Pathfinder channel uses."""
from __future__ import annotations

from rasa.core.channels.channel import CollectingOutputChannel


class ChannelCollector(CollectingOutputChannel):
    """Collects a turn's replies under the channel's own name (Rasa's collector calls itself
    "collector"), so the domain's `channel: rest` / `channel: sms` response variants apply."""

    channel = "collector"

    @classmethod
    def name(cls) -> str:
        return cls.channel
