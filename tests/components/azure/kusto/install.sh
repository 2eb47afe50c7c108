#!/usr/bin/env bash
# Install the Kusto analyzer pinned by package-lock.json (npm registry), once per lock.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.lock-installed
if [[ -f "$stamp" ]] && cmp -s package-lock.json "$stamp"; then exit 0; fi
command -v npm >/dev/null || { echo "tests/components/azure/kusto: npm is required (apt-get install nodejs npm)" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error >&2
cp package-lock.json "$stamp"
