-- One row the readiness check rewrites through the writer (GET /readyz "db"): a real write, so a
-- full disk or an I/O error shows as "degraded" before a player meets it.
CREATE TABLE health_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at INTEGER NOT NULL
);
INSERT INTO health_probe (id, at) VALUES (1, 0);
