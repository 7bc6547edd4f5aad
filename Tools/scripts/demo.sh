#!/usr/bin/env bash
# The README's first command: installs what is missing, builds in release mode and runs
# `quiver demo` on an embedded default store made from generated data.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tools/scripts/install-deps.sh
swift build -c release --product quiver 2>&1 | tail -n 3
exec .build/release/quiver demo "$@"
