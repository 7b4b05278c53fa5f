#!/usr/bin/env bash
# Runs the weekly archiver by hand (ADR-006): first an online backup of both databases, then the
# archive job once. Safe while the server runs: the backup reads a consistent snapshot, and the
# archiver is idempotent and deletes in small chunks through SQLite's locking.
#
#   DATA_DIR=/var/lib/tap scripts/archive.sh            # backups go to $DATA_DIR/backups/<UTC time>
#   BACKUP_DIR=/mnt/backups/tap scripts/archive.sh
set -euo pipefail

cd "$(dirname "$0")/.."
DATA_DIR="${DATA_DIR:-./data}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
TARGET="${BACKUP_DIR:-$DATA_DIR/backups}/$STAMP"

echo "archive.sh: backing up $DATA_DIR to $TARGET"
npx tsx scripts/backup-db.ts "$DATA_DIR" "$TARGET"

echo "archive.sh: running the archiver"
# The job prints its report as JSON and exits 2 when a week failed (the backup above is then the way back).
set +e
DATA_DIR="$DATA_DIR" npm run --silent job -- archive
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "archive.sh: the archiver failed (exit $status); backup kept in $TARGET" >&2
  exit "$status"
fi
echo "archive.sh: done; backup kept in $TARGET"
