#!/usr/bin/env bash
# Installs Debian's headless Chromium for the console's Playwright tests (idempotent, quiet when
# already there). Playwright itself comes from the locked environment; it never downloads a
# browser (`playwright install` is never run).
set -euo pipefail
if command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SHARED="$(dirname "$0")/../../shared/browser/install.sh"
if [ -f "$SHARED" ]; then
  exec bash "$SHARED" --apt-only
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no apt-get; install Chromium yourself (browser tests skip without it)" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium-headless-shell fonts-liberation >/dev/null
