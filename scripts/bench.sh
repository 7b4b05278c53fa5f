#!/usr/bin/env bash
# npm run bench: the minimal server and the product, closed loop (wrk) and open loop (direct and
# through nginx), on this machine; see scripts/bench.ts for the options.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || [[ " $* " == *" --no-closed "* ]] || { echo "bench needs wrk (apt-get install wrk), or pass --no-closed" >&2; exit 1; }
command -v nginx >/dev/null || [[ " $* " == *" --direct "* || " $* " == *" --no-paced "* ]] || { echo "bench needs nginx (apt-get install nginx), or pass --direct" >&2; exit 1; }
# The product runs as in production: the compiled build (dist/).
npm run build --silent
exec node --import tsx scripts/bench.ts "$@"
