#!/usr/bin/env bash
# Fault drill (issue 13): disk full while windows end, Redis hung (SIGSTOP), Redis killed and
# restarted, each against a real server process and a real redis-server. Needs redis-server on PATH,
# and root for the disk part (it mounts a small tmpfs as the data directory; skipped without root
# unless CI=true, where that is a failure). Exit 0 when every expectation held.
#
#   bash scripts/fault-drill.sh                       # all three
#   bash scripts/fault-drill.sh --only disk           # or redis-stop, redis-kill (comma list)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "fault-drill: redis-server is not installed" >&2; exit 1; }
exec npx tsx scripts/fault-drill.ts "$@"
