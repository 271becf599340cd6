#!/usr/bin/env bash
# What the browser tests need, installed when missing: Debian's Chromium and ChromeDriver
# (no browser download by a test tool: this machine reaches only the package registries)
# and axe-core from the npm registry (package-lock.json). Sourced by scripts/test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  echo "==> installing Debian's chromium and chromium-driver for the browser tests"
  APT=(apt-get); [ "$(id -u)" -eq 0 ] || APT=(sudo apt-get)
  export DEBIAN_FRONTEND=noninteractive
  "${APT[@]}" install -y -qq --no-install-recommends chromium chromium-driver >/dev/null \
    || { "${APT[@]}" update -qq && "${APT[@]}" install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; }
fi

NPM_SUM="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$ROOT/node_modules/.lock.sha" 2>/dev/null)" != "$NPM_SUM" ]; then
  echo "==> installing the pinned front-end test tools (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --silent)
  echo "$NPM_SUM" > "$ROOT/node_modules/.lock.sha"
fi
