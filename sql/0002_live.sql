-- Live queries: tables of documents say which keys a statement changed (NOTIFY, sent at
-- commit), mv_ models say when they were refreshed; fraiseql.live listens on one channel.
-- Payload: {"relation": "schema.name", "keys": ["1", ...]} (keys as text), "keys": null for
-- "any row may have changed" (TRUNCATE, a refresh, a key too long to send).

-- Statement-level, with transition tables: one notification per statement and table, split
-- so that each payload stays under NOTIFY's limit of 8000 bytes. TG_ARGV[0]: the key column.
CREATE FUNCTION fraiseql.live_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_head text := '{"relation":' || to_jsonb(format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME))::text;
    v_keys text := '';
    v_key text;
    v_rows text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT %1$I AS k FROM fq_new'
        WHEN 'DELETE' THEN 'SELECT %1$I AS k FROM fq_old'
        ELSE 'SELECT %1$I AS k FROM fq_new UNION SELECT %1$I FROM fq_old' END;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('fraiseql_live', v_head || ',"keys":null}');
        RETURN NULL;
    END IF;
    FOR v_key IN EXECUTE format('SELECT DISTINCT to_jsonb(s.k::text)::text FROM (' || v_rows || ') AS s', TG_ARGV[0]) LOOP
        IF octet_length(v_head) + octet_length(v_key) > 7900 THEN
            PERFORM pg_notify('fraiseql_live', v_head || ',"keys":null}');
            RETURN NULL;
        END IF;
        IF octet_length(v_head) + octet_length(v_keys) + octet_length(v_key) > 7900 THEN
            PERFORM pg_notify('fraiseql_live', v_head || ',"keys":[' || v_keys || ']}');
            v_keys := '';
        END IF;
        v_keys := v_keys || CASE WHEN v_keys = '' THEN '' ELSE ',' END || v_key;
    END LOOP;
    IF v_keys <> '' THEN
        PERFORM pg_notify('fraiseql_live', v_head || ',"keys":[' || v_keys || ']}');
    END IF;
    RETURN NULL;
END
$$;

-- Installs (again: idempotent) the notifying triggers on a table whose rows are documents
-- identified by p_key: generated qm_ tables get them, and hand-written ones through
-- fraiseql.cqrs.enable_live / `fraiseql live`.
CREATE FUNCTION fraiseql.enable_live(p_relation regclass, p_key text DEFAULT 'id') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_kind "char";
    v_events text[][] := ARRAY[
        ['ins', 'INSERT', 'REFERENCING NEW TABLE AS fq_new'],
        ['upd', 'UPDATE', 'REFERENCING OLD TABLE AS fq_old NEW TABLE AS fq_new'],
        ['del', 'DELETE', 'REFERENCING OLD TABLE AS fq_old'],
        ['trunc', 'TRUNCATE', '']];
    i int;
BEGIN
    SELECT relkind INTO v_kind FROM pg_class WHERE oid = p_relation;
    IF v_kind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION 'fraiseql: % is not a table; mv_ read models notify after each fraiseql.refresh(), tv_ views cannot', p_relation
            USING ERRCODE = 'wrong_object_type';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = p_relation AND attname = p_key
                   AND attnum > 0 AND NOT attisdropped) THEN
        RAISE EXCEPTION 'fraiseql: % has no column %', p_relation, quote_ident(p_key)
            USING ERRCODE = 'undefined_column';
    END IF;
    FOR i IN 1 .. array_length(v_events, 1) LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'fq_live_' || v_events[i][1], p_relation);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s %s FOR EACH STATEMENT EXECUTE FUNCTION fraiseql.live_notify(%L)',
                       'fq_live_' || v_events[i][1], v_events[i][2], p_relation, v_events[i][3], p_key);
    END LOOP;
END
$$;

-- fraiseql.refresh of 0001, now also telling live queries that the mv_ changed.
CREATE OR REPLACE FUNCTION fraiseql.refresh(p_schema text, p_relation text, p_concurrently boolean DEFAULT true)
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
    PERFORM pg_notify('fraiseql_live',
                      '{"relation":' || to_jsonb(format('%I.%I', p_schema, p_relation))::text || ',"keys":null}');
END
$$;
