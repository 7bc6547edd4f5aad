#!/usr/bin/env bash
# Installs the system libraries Quiver links (Debian: liblmdb-dev, liblz4-dev) when missing.
# Sourced by demo.sh and test.sh; prints the exact command when it cannot install them itself.
set -euo pipefail
if [ -f /usr/include/lmdb.h ] && [ -f /usr/include/lz4.h ]; then
  exit 0
fi
packages="liblmdb-dev liblz4-dev pkg-config"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing $packages ..." >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >&2
elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "Installing $packages with sudo ..." >&2
  sudo apt-get update -qq >&2
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >&2
else
  echo "error: Quiver needs LMDB and LZ4 headers. Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y $packages" >&2
  exit 1
fi
