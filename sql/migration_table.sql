-- fraiseql's own schema and its record of applied migrations; run before anything else, idempotent.
CREATE SCHEMA IF NOT EXISTS fraiseql;

CREATE TABLE IF NOT EXISTS fraiseql.migration (
    name       text PRIMARY KEY,           -- 'fraiseql/0001_catalog.sql' or the user's file name
    checksum   text NOT NULL,              -- sha256 of the file: an applied file must not change
    applied_at timestamptz NOT NULL DEFAULT now()
);
