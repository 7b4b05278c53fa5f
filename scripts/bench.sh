#!/usr/bin/env bash
# npm run bench: app + nginx + load on this machine; see scripts/bench.ts for the options.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nginx >/dev/null || { echo "bench needs nginx (apt-get install nginx), or pass --direct" >&2; [[ " $* " == *" --direct "* ]] || exit 1; }
exec node --import tsx scripts/bench.ts "$@"
