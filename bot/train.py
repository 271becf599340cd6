"""Train the model only when something it is built from has changed.

Rasa 3.6 restores most components from its cache on an unchanged re-train, but always
re-trains DIET (its cache key differs between the "what can be skipped" pass and training),
so `rasa train` with unchanged data still took 75-100 s here. This keeps a fingerprint of
every input next to the model and skips training when they all match: config, domain,
training data, the project's spaCy pipeline, the custom NLU components' code and the Rasa
version.

    python -m bot.train [--out models] [--name pathfinder] [--force]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List, Optional

from bot.config import ROOT

SPACY_STAMP = Path("build") / "spacy" / "en_pathfinder" / "pathfinder-build.json"


def training_inputs(root: Optional[Path] = None) -> List[Path]:
    """Every file the trained model depends on, in a stable order."""
    root = root or ROOT
    files = [root / "config.yml", root / "domain.yml", root / SPACY_STAMP]
    files += sorted((root / "data").rglob("*.yml"))
    files += sorted((root / "bot" / "nlu").glob("*.py"))
    files += sorted((root / "knowledge" / "offers").glob("*.yml"))  # council names: masked by the router
    return files


def fingerprint(files: Iterable[Path], root: Optional[Path] = None) -> str:
    """A hash of the inputs' names and contents, and of the Rasa version."""
    import rasa

    root = root or ROOT
    digest = hashlib.sha256(f"rasa {rasa.__version__}\n".encode())
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"(missing)")
        digest.update(b"\0")
    return digest.hexdigest()


def stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".inputs.json")


def up_to_date(model: Path, current: str) -> bool:
    stamp = stamp_path(model)
    if not model.exists() or not stamp.exists():
        return False
    try:
        return json.loads(stamp.read_text()).get("fingerprint") == current
    except (OSError, ValueError):
        return False


def train(out: Path, name: str, force: bool = False) -> Path:
    """The model at out/name.tar.gz, trained now only if its inputs changed."""
    model = out / f"{name}.tar.gz"
    current = fingerprint(training_inputs())
    if not force and up_to_date(model, current):
        print(f"Model {model} is up to date (no training input changed); re-using it.")
        return model
    stamp_path(model).unlink(missing_ok=True)  # never leave a stamp that vouches for an old model
    command = [sys.executable, "-m", "rasa", "train", "--quiet", "--out", str(out), "--fixed-model-name", name]
    subprocess.run(command, cwd=ROOT, check=True)
    stamp_path(model).write_text(json.dumps({"fingerprint": current}))
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description="Train the Rasa model if (and only if) its inputs changed.")
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    parser.add_argument("--name", default="pathfinder")
    parser.add_argument("--force", action="store_true", help="train even if nothing changed")
    args = parser.parse_args()
    try:
        train(args.out, args.name, args.force)
    except subprocess.CalledProcessError as error:
        print(f"Training failed (rasa train exited {error.returncode}); see the output above.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
