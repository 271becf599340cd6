"""The crisis kind ids, read from kinds.yml, for tools that need only the ids (bot/evaluate.py).

kinds.py loads and checks the whole taxonomy (services, lines, the help for each kind); this
reads just the ids under `kinds:`, in the file's order, so a mistake in a helpline entry does
not stop an evaluation run.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional, Tuple

import yaml

KINDS_FILE = Path(__file__).with_name("kinds.yml")


def kind_ids(path: Optional[Path] = None) -> Tuple[str, ...]:
    """The kind ids under `kinds:` in `path` (default: the shipped kinds.yml, read once), in order.

    Raises ValueError when the file cannot be read or names no kinds.
    """
    return _shipped() if path is None else _read(Path(path))


@lru_cache(maxsize=1)
def _shipped() -> Tuple[str, ...]:
    return _read(KINDS_FILE)


def _read(path: Path) -> Tuple[str, ...]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the crisis kinds: {error}") from error
    kinds = doc.get("kinds") if isinstance(doc, dict) else None
    if not isinstance(kinds, dict) or not kinds:
        raise ValueError(f"{path}: expected a mapping of kinds under 'kinds'")
    return tuple(str(kind) for kind in kinds)
