#!/usr/bin/env bash
# Installs the dependencies, builds halle and runs one node in the
# foreground on config/dev.conf (store, key and control socket under ./var).
# Drive it from another terminal:
#   build/daemon/hallectl -s var/node/control.sock status
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
mkdir -p var/node
exec build/daemon/halled -c config/dev.conf
