#!/usr/bin/env bash
# Checks each module imports only what docs/architecture.md's layer table allows.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail=0
check() {  # folder, allowed imports (regex)
  local folder=$1 allowed=$2
  while IFS= read -r line; do
    file=${line%%:*}
    module=$(echo "${line#*:}" | sed -E 's/^[[:space:]]*(@[A-Za-z_()]+[[:space:]]+)*import[[:space:]]+([A-Za-z0-9_]+).*/\2/')
    if ! echo "$module" | grep -qE "^($allowed)$"; then
      echo "$file imports $module, which its layer may not import"
      fail=1
    fi
  done < <(grep -rHE '^[[:space:]]*(@[A-Za-z_()]+[[:space:]]+)*import[[:space:]]' "$folder" --include='*.swift' || true)
}
check Sources/QuiverKernels 'CQuiverKernels|Swift'
check Sources/QuiverStorage 'CLMDB|CLZ4|Glibc|Darwin|Synchronization'
check Sources/QuiverFiles 'Foundation|Glibc|Darwin|Musl|FoundationEssentials'
check Sources/Quiver 'QuiverStorage|QuiverKernels|Foundation|Dispatch|Synchronization|Glibc|Darwin'
check Tools/quiver 'Quiver|QuiverFiles|ArgumentParser|Foundation|Dispatch|Glibc|Darwin|Synchronization'
exit $fail
