#!/usr/bin/env bash
# Run Pathfinder's benchmark (not a test): starts its own servers on free ports, prints the
# table and writes bench/results/bench-<date>.md and .png. About 12 minutes in full mode.
#   scripts/bench.sh            full run (what the README quotes)
#   scripts/bench.sh --quick    development run (about 3 minutes with --model)
#   scripts/bench.sh --help
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh" >&2
exec .venv/bin/python -m bench "$@"
