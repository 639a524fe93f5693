-- fraiseql's own indexes on the qm_user read model for `make bench-peers` (issue 10 item 7).
-- This file is the one place they are declared: benchmarks/peers/dataset.py runs it after the
-- load, and the read API's work replaces its statements with the indexes its SQL uses.
CREATE INDEX IF NOT EXISTS qm_user_email ON qm_user ((data ->> 'email'));
