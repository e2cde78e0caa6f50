#!/usr/bin/env bash
# Start the real backend for the end-to-end tests: embedded defaults, a fresh data folder, admin from env.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR=$(mktemp -d -t promethium-e2e-XXXXXX)
trap 'rm -rf "$DATA_DIR"' EXIT
export PROMETHIUM_DATA_DIR="$DATA_DIR"
export PROMETHIUM_ADMIN_USERNAME="${E2E_USERNAME:-e2e-admin}"
export PROMETHIUM_ADMIN_PASSWORD="${E2E_PASSWORD:-e2e-password-long-enough}"
export PROMETHIUM_WEB_DIR="$PWD/dist/frontend/browser"
export PYTHONPATH="$PWD/../src${PYTHONPATH:+:$PYTHONPATH}"
PROMETHIUM="${E2E_PROMETHIUM:-../.venv/bin/promethium}"
exec "$PROMETHIUM" serve --host 127.0.0.1 --port "${E2E_PORT:-8765}"
