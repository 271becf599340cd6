"""Training time: from scratch (empty Rasa cache, no previous model) and again with the
same data (bot.train must find nothing changed and re-use the model)."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Dict

from tests.conftest import PYTHON, ROOT, base_env


def _train(out: Path, cache: Path) -> float:
    """One training as scripts/run.sh runs it (bot.train: skipped when no input changed); seconds taken."""
    env = base_env(RASA_CACHE_DIRECTORY=str(cache))
    started = time.monotonic()
    result = subprocess.run(
        [PYTHON, "-m", "bot.train", "--out", str(out), "--name", "pathfinder"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"rasa train failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return time.monotonic() - started


def measure_training(folder: Path) -> Dict[str, object]:
    """Train from scratch, then again unchanged; the model is left at folder/models."""
    subprocess.run([PYTHON, "-m", "bot.nlu.spacy_pipeline"], cwd=ROOT, env=base_env(), check=True, capture_output=True)
    out, cache = folder / "models", folder / "rasa-cache"
    scratch = _train(out, cache)
    unchanged = _train(out, cache)
    return {"scratch_s": scratch, "unchanged_s": unchanged, "model": out / "pathfinder.tar.gz"}
