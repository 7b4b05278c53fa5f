-- Deploys and crashes (issue 24 part 1): the writer's lease (storage/lease.ts). Of several core
-- processes on one data directory only the holder writes money, resolves, archives and runs the
-- feeds and jobs; every writing transaction of a process started with LEASE=on checks its row.
CREATE TABLE IF NOT EXISTS leases (
  name        TEXT    PRIMARY KEY,
  holder      TEXT    NOT NULL,
  pid         INTEGER,
  pid_started TEXT,
  epoch       INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
