"""The layout is the architecture: dependencies point one way (README, "What each folder is for").

knowledge/ knows nothing of Rasa, the action server or the bot; services/ builds on knowledge
only; bot/ (the Rasa server's process among others) never imports the action server's code,
which depends on bot.config and friends, not the other way round.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Set

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "knowledge": {"rasa", "rasa_sdk", "actions", "bot", "services"},
    "services": {"rasa", "rasa_sdk", "actions", "bot"},
    "bot": {"actions"},
}


def top_level_imports(path: Path) -> Set[str]:
    """Every absolute module a file imports, at any depth (function-level imports count)."""
    imported: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    return imported


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_one_way(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(top_level_imports(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {file: names for file, names in offenders.items() if names} == {}
