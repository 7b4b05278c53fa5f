#!/usr/bin/env bash
# npm run bench:audience: watchers + bets against a minimal server, the app, and a core with two edges
# behind nginx; see scripts/bench-audience.ts for the options. 20 000 watchers need ~60 000 file
# descriptors in all (watchers, nginx, edges): the per-process limit is raised here (to nr_open with
# CAP_SYS_RESOURCE, else to the hard limit); the script spreads watchers and nginx workers under it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nginx >/dev/null || { echo "bench:audience needs nginx (apt-get install nginx)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "bench:audience needs redis-server (apt-get install redis-server)" >&2; exit 1; }
ulimit -n "$(cat /proc/sys/fs/nr_open 2>/dev/null || echo 1048576)" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "file descriptors per process: $(ulimit -n)" >&2
# The app runs as in production: the compiled build (dist/).
npm run build --silent
exec node --import tsx scripts/bench-audience.ts "$@"
