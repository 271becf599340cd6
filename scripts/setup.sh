#!/usr/bin/env bash
# Set up everything Pathfinder needs, idempotently: Python 3.10 venv with pinned packages,
# the project's spaCy pipeline, and the offer content in the database.
# Sourced by scripts/run.sh and scripts/test.sh; safe to run again (re-uses what is there).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export RASA_TELEMETRY_ENABLED=false          # a children's service reports nothing to third parties
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# Third-party deprecation noise (TensorFlow, pkg_resources, click) hides the real log lines.
export TF_CPP_MIN_LOG_LEVEL=2 PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}" SQLALCHEMY_SILENCE_UBER_WARNING=1
PY_VERSION="$(cat .python-version)"

find_python() {
  # Rasa 3.6 needs Python 3.10 exactly; take it from PATH, pyenv, or install it with pyenv.
  for candidate in "python${PY_VERSION%.*}" "$HOME/.pyenv/versions/$PY_VERSION/bin/python"; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
      command -v "$candidate"; return
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    pyenv install -s "$PY_VERSION" >&2 && echo "$(pyenv root)/versions/$PY_VERSION/bin/python"; return
  fi
  echo "Pathfinder needs Python 3.10 (Rasa 3.6 does not run on 3.11). Install it, e.g. 'pyenv install $PY_VERSION'." >&2
  exit 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  echo "==> creating .venv with Python $PY_VERSION"
  rm -rf .venv
  "$(find_python)" -m venv .venv
fi

LOCK_SUM="$(sha256sum requirements.lock | cut -d' ' -f1)"
if [ "$(cat .venv/.requirements.sha 2>/dev/null)" != "$LOCK_SUM" ]; then
  echo "==> installing pinned Python packages (first time takes a few minutes)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
  echo "$LOCK_SUM" > .venv/.requirements.sha
fi

eval "$(.venv/bin/python -m bot.env)"
echo "==> building the spaCy pipeline (skipped when unchanged)"
.venv/bin/python -m bot.nlu.spacy_pipeline
