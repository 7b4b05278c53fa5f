#!/usr/bin/env bash
# Brings a backup back into a data directory (issue 24). Refuses while a process (a running server,
# a job) holds the directory's databases open, unless --force; moves what was there aside into
# DATA_DIR/pre-restore-<UTC time>/ (nothing is deleted) and says what it did. See scripts/restore.ts.
#
#   systemctl stop tap-backend
#   scripts/restore.sh /var/backups/tap-backend /var/lib/tap-backend                  # the newest backup
#   scripts/restore.sh /var/backups/tap-backend/20261207T113500Z /var/lib/tap-backend  # that one
#   systemctl start tap-backend
set -euo pipefail
# Paths are the caller's: stay in its directory, run the repository's tsx.
root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/node_modules/.bin/tsx" "$root/scripts/restore.ts" "$@"
