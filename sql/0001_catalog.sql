-- The catalog of read models fraiseql created: verify, refresh and advise work from it alone.

CREATE TABLE fraiseql.read_model (
    schema_name   text NOT NULL,
    name          text NOT NULL,
    root_table    text NOT NULL,           -- schema.table of the document's root rows
    key_column    text NOT NULL,           -- the root key; qm_/mv_/tv_ expose it as "id"
    builder       text NOT NULL,           -- function (in schema_name) building one document from a key
    source_tables text[] NOT NULL,         -- schema.table of every table the document reads
    functions     text[] NOT NULL,         -- every generated function (in schema_name)
    triggers      jsonb NOT NULL,          -- [{"schema", "table", "name"}] of every generated trigger
    declaration   jsonb NOT NULL,          -- the canonical declaration
    version       text NOT NULL,           -- its hash
    installed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema_name, name)
);

CREATE TABLE fraiseql.read_model_relation (
    schema_name  text NOT NULL,
    relation     text NOT NULL,            -- tv_x, mv_x or qm_x
    kind         text NOT NULL CHECK (kind IN ('tv', 'mv', 'qm')),
    model        text NOT NULL,
    refreshed_at timestamptz,              -- mv_ only: end of the last fraiseql.refresh()
    PRIMARY KEY (schema_name, relation),
    FOREIGN KEY (schema_name, model) REFERENCES fraiseql.read_model (schema_name, name) ON DELETE CASCADE
);

-- Drops exactly what the catalog recorded: no CASCADE, so a user's object depending on a read
-- model makes the drop fail loudly instead of disappearing with it.
CREATE FUNCTION fraiseql.drop_read_model(p_schema text, p_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    m fraiseql.read_model;
    r record;
    f text;
BEGIN
    SELECT * INTO m FROM fraiseql.read_model WHERE schema_name = p_schema AND name = p_name;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    FOR r IN SELECT relation, kind FROM fraiseql.read_model_relation
             WHERE schema_name = p_schema AND model = p_name LOOP
        EXECUTE format(CASE r.kind WHEN 'tv' THEN 'DROP VIEW IF EXISTS %I.%I'
                                   WHEN 'mv' THEN 'DROP MATERIALIZED VIEW IF EXISTS %I.%I'
                                   ELSE 'DROP TABLE IF EXISTS %I.%I' END, p_schema, r.relation);
    END LOOP;
    FOR r IN SELECT * FROM jsonb_to_recordset(m.triggers) AS t(schema text, "table" text, name text) LOOP
        IF to_regclass(format('%I.%I', r.schema, r."table")) IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', r.name, r.schema, r."table");
        END IF;
    END LOOP;
    FOREACH f IN ARRAY m.functions LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %I.%I', p_schema, f);
    END LOOP;
    DELETE FROM fraiseql.read_model WHERE schema_name = p_schema AND name = p_name;
END
$$;

-- Refreshes a materialized view fraiseql created and records when; pg_cron jobs call this.
CREATE FUNCTION fraiseql.refresh(p_schema text, p_relation text, p_concurrently boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM fraiseql.read_model_relation
                   WHERE schema_name = p_schema AND relation = p_relation AND kind = 'mv') THEN
        RAISE EXCEPTION 'fraiseql: %.% is not a materialized view in the fraiseql catalog', p_schema, p_relation
            USING ERRCODE = 'undefined_object';
    END IF;
    EXECUTE format('REFRESH MATERIALIZED VIEW %s %I.%I',
                   CASE WHEN p_concurrently THEN 'CONCURRENTLY' ELSE '' END, p_schema, p_relation);
    UPDATE fraiseql.read_model_relation SET refreshed_at = clock_timestamp()
    WHERE schema_name = p_schema AND relation = p_relation;
END
$$;
