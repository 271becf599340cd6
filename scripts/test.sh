#!/usr/bin/env bash
# Set up everything and run the whole test suite (trains one small model per session).
# Extra arguments go to pytest, e.g. scripts/test.sh -k content
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
source "$ROOT/scripts/setup-browser.sh"
exec .venv/bin/python -m pytest "$@"
