"""NLU alone, in-process: messages per second through the trained model's NLU graph and the
time each component takes (so the spaCy step's share is measured, not guessed).

Run in its own process by the bench (`python -m bench.nlu MODEL SECONDS`), so the bench
itself never loads TensorFlow; prints one JSON object.
"""
from __future__ import annotations

import asyncio
import collections
import json
import sys
import time
from typing import Dict, List

import yaml

from bot.config import ROOT


def dev_messages() -> List[str]:
    """The 201 development-set messages (tests/eval/dev.yml)."""
    cases = yaml.safe_load((ROOT / "tests/eval/dev.yml").read_text(encoding="utf-8"))["cases"]
    return [case["text"] for case in cases]


def _time_graph_nodes(totals: Dict[str, float]) -> None:
    """Wrap Rasa's GraphNode.__call__ so each component's run time adds up in `totals`."""
    from rasa.engine.graph import GraphNode

    original = GraphNode.__call__

    def timed(self, *inputs):
        started = time.perf_counter()
        try:
            return original(self, *inputs)
        finally:
            totals[self._node_name] += time.perf_counter() - started

    GraphNode.__call__ = timed


async def measure(model: str, seconds: float) -> Dict[str, object]:
    """Parse dev messages in a loop for `seconds`; messages/s and per-component shares."""
    from rasa.core.agent import Agent

    totals: Dict[str, float] = collections.defaultdict(float)
    agent = Agent.load(model)
    messages = dev_messages()
    for text in messages[:20]:  # warm-up (TensorFlow builds its graph on first call)
        await agent.parse_message(text)
    _time_graph_nodes(totals)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        await agent.parse_message(messages[count % len(messages)])
        count += 1
    elapsed = time.perf_counter() - started
    spacy_nodes = [name for name in totals if "Spacy" in name]
    return {
        "messages": count,
        "msgs_per_s": count / elapsed,
        "ms_per_msg": 1000 * elapsed / count,
        "spacy_nlp_share": sum(v for k, v in totals.items() if "SpacyNLP" in k) / elapsed,
        "spacy_all_share": sum(totals[name] for name in spacy_nodes) / elapsed,
        "components_ms": {name: 1000 * value / count for name, value in sorted(totals.items(), key=lambda kv: -kv[1])},
    }


def main() -> None:
    model, seconds = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 20
    print(json.dumps(asyncio.run(measure(model, seconds))))


if __name__ == "__main__":
    main()
