-- Weekly archiver (issue 6): closed stale gaps are archived by the week they ended in.
CREATE INDEX stale_gaps_by_end ON stale_gaps (end_at) WHERE end_at IS NOT NULL;
