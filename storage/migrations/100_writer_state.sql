-- Performance (issue 23: bet placement at the machine's limit): the per-player, per-cell and exposure
-- limits are checked against figures the single writer keeps in memory (services/bets/writer-state.ts),
-- rebuilt from the open bets whenever they may differ from them, instead of four statements per bet.
--
-- bets_generation counts the transactions that opened or settled bets. Each writer bumps it in every
-- such transaction and compares it at the start of the next one: a different value means that another
-- writer changed open bets meanwhile, and the figures are loaded again from the database. Anything
-- that writes open bets outside the writer's commands must bump it too.
CREATE TABLE bets_generation (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL
);
INSERT INTO bets_generation (id, generation) VALUES (1, 0);

-- The exposure rows of migration 030 were those figures kept in the database; nothing reads them now.
DROP TABLE cell_exposure;
DROP TABLE column_exposure;
