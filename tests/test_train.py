"""bot.train re-uses the model when no training input changed, and trains when one did."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot import train


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the inputs' layout in a temporary folder, and a fake `rasa train`."""
    for name in ["config.yml", "domain.yml", "data/nlu/a.yml", "bot/nlu/x.py", str(train.SPACY_STAMP)]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"{name} v1\n")
    monkeypatch.setattr(train, "ROOT", tmp_path)
    runs = []

    def fake_rasa(command, cwd, check):
        runs.append(command)
        out = Path(command[command.index("--out") + 1])
        out.mkdir(parents=True, exist_ok=True)
        (out / "pathfinder.tar.gz").write_bytes(b"model")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(train.subprocess, "run", fake_rasa)
    return tmp_path, runs


def test_unchanged_inputs_reuse_the_model(project):
    root, runs = project
    train.train(root / "models", "pathfinder")
    train.train(root / "models", "pathfinder")
    assert len(runs) == 1


@pytest.mark.parametrize("changed", ["domain.yml", "data/nlu/a.yml", "bot/nlu/x.py", "data/nlu/new.yml", str(train.SPACY_STAMP)])
def test_any_changed_input_trains_again(project, changed):
    root, runs = project
    train.train(root / "models", "pathfinder")
    (root / changed).write_text("changed\n")
    train.train(root / "models", "pathfinder")
    assert len(runs) == 2


def test_a_missing_model_is_trained_even_with_a_matching_stamp(project):
    root, runs = project
    model = train.train(root / "models", "pathfinder")
    model.unlink()
    train.train(root / "models", "pathfinder")
    assert len(runs) == 2


def test_force_always_trains(project):
    root, runs = project
    train.train(root / "models", "pathfinder")
    train.train(root / "models", "pathfinder", force=True)
    assert len(runs) == 2


def test_the_real_inputs_cover_config_domain_data_and_the_spacy_build():
    from bot.config import ROOT

    names = {str(path.relative_to(ROOT)) for path in train.training_inputs(ROOT)}
    assert {"config.yml", "domain.yml", "build/spacy/en_pathfinder/pathfinder-build.json"} <= names
    assert any(name.startswith("data/nlu/") for name in names) and any(name.startswith("data/rules/") for name in names)
    assert "bot/nlu/crisis_layer.py" in names
