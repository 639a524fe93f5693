-- Generated from fraiseql/examples/blog.py by `make sql-reference`; do not edit.
-- A model's whole script (what `fraiseql makemigrations` writes) runs its parts in order:
-- builder, tv, mv, qm, catalog.

CREATE TABLE "public"."qm_user" (
    id integer PRIMARY KEY,
    version bigint NOT NULL DEFAULT 1,
    data jsonb NOT NULL,
    "email" text NOT NULL,
    "created_at" timestamp with time zone NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX "qm_user_data_gin" ON "public"."qm_user" USING gin (data);

CREATE INDEX "qm_user_updated_at" ON "public"."qm_user" (updated_at);

CREATE INDEX "qm_user_by_email" ON "public"."qm_user" ("email" ASC, id);

CREATE INDEX "qm_user_by_created_at" ON "public"."qm_user" ("created_at" DESC, id);

SELECT fraiseql.enable_live('"public"."qm_user"'::regclass, 'id');

CREATE FUNCTION "public"."fq_user_sync"(integer[], prune boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql AS $fq$
DECLARE
    v_keys integer[] := ARRAY(SELECT DISTINCT k FROM unnest($1) AS k WHERE k IS NOT NULL ORDER BY k);
BEGIN
    IF cardinality(v_keys) = 0 THEN
        RETURN;
    END IF;
    -- Lock the documents in key order (no deadlock between writers), then rebuild: the next
    -- statements take a fresh snapshot, so they see what the writer we waited for committed.
    PERFORM 1 FROM "public"."qm_user" AS q WHERE q.id = ANY (v_keys) ORDER BY q.id FOR UPDATE;
    IF prune THEN  -- only deletes and key changes of root rows remove documents
        DELETE FROM "public"."qm_user" AS q WHERE q.id = ANY (v_keys)
            AND NOT EXISTS (SELECT 1 FROM "public"."tb_user" AS t WHERE t."id" = q.id);
    END IF;
    INSERT INTO "public"."qm_user" AS q (id, data, "email", "created_at")
        SELECT id, data, "email", "created_at" FROM "public"."fq_user_docs"(v_keys)
        ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, "email" = EXCLUDED."email", "created_at" = EXCLUDED."created_at", version = q.version + 1, updated_at = now()
        WHERE q.data IS DISTINCT FROM EXCLUDED.data;
END
$fq$;

CREATE FUNCTION "public"."fq_user_sync_all"() RETURNS void
LANGUAGE plpgsql AS $fq$
BEGIN
    -- TRUNCATE and backfill: rebuild everything, other writers of qm_user wait (readers do not).
    LOCK TABLE "public"."qm_user" IN EXCLUSIVE MODE;
    DELETE FROM "public"."qm_user" AS q WHERE NOT EXISTS (SELECT 1 FROM "public"."tb_user" AS t WHERE t."id" = q.id);
    INSERT INTO "public"."qm_user" AS q (id, data, "email", "created_at")
        SELECT t."id" AS id, "public"."fq_user_doc"(t."id") AS data, t."email" AS "email", t."created_at" AS "created_at" FROM "public"."tb_user" AS t
        ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, "email" = EXCLUDED."email", "created_at" = EXCLUDED."created_at", version = q.version + 1, updated_at = now()
        WHERE q.data IS DISTINCT FROM EXCLUDED.data;
END
$fq$;

CREATE FUNCTION "public"."fq_user_on_tb_user"() RETURNS trigger
LANGUAGE plpgsql AS $fq$
BEGIN
    -- Statement-level: a bulk write rebuilds each affected document once.
    IF TG_OP = 'INSERT' THEN
        PERFORM "public"."fq_user_sync"(ARRAY(SELECT x."id" FROM fq_new AS x)::integer[]);
    ELSIF TG_OP = 'UPDATE' THEN
        -- Old and new rows: a row moved to another parent rebuilds both parents.
        PERFORM "public"."fq_user_sync"(ARRAY(SELECT x."id" FROM fq_new AS x
                 UNION ALL SELECT x."id" FROM fq_old AS x)::integer[], true);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM "public"."fq_user_sync"(ARRAY(SELECT x."id" FROM fq_old AS x)::integer[], true);
    ELSE
        PERFORM "public"."fq_user_sync_all"();
    END IF;
    RETURN NULL;
END
$fq$;

CREATE TRIGGER "fq_user_ins" AFTER INSERT ON "public"."tb_user"
    REFERENCING NEW TABLE AS fq_new FOR EACH STATEMENT EXECUTE FUNCTION "public"."fq_user_on_tb_user"();

CREATE TRIGGER "fq_user_upd" AFTER UPDATE ON "public"."tb_user"
    REFERENCING OLD TABLE AS fq_old NEW TABLE AS fq_new FOR EACH STATEMENT EXECUTE FUNCTION "public"."fq_user_on_tb_user"();

CREATE TRIGGER "fq_user_del" AFTER DELETE ON "public"."tb_user"
    REFERENCING OLD TABLE AS fq_old FOR EACH STATEMENT EXECUTE FUNCTION "public"."fq_user_on_tb_user"();

CREATE TRIGGER "fq_user_trunc" AFTER TRUNCATE ON "public"."tb_user"
    FOR EACH STATEMENT EXECUTE FUNCTION "public"."fq_user_on_tb_user"();

CREATE FUNCTION "public"."fq_user_on_tb_post"() RETURNS trigger
LANGUAGE plpgsql AS $fq$
BEGIN
    -- Statement-level: a bulk write rebuilds each affected document once.
    IF TG_OP = 'INSERT' THEN
        PERFORM "public"."fq_user_sync"(ARRAY(SELECT x."user_id" FROM fq_new AS x)::integer[]);
    ELSIF TG_OP = 'UPDATE' THEN
        -- Old and new rows: a row moved to another parent rebuilds both parents.
        PERFORM "public"."fq_user_sync"(ARRAY(SELECT x."user_id" FROM fq_new AS x
                 UNION ALL SELECT x."user_id" FROM fq_old AS x)::integer[]);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM "public"."fq_user_sync"(ARRAY(SELECT x."user_id" FROM fq_old AS x)::integer[]);
    ELSE
        PERFORM "public"."fq_user_sync_all"();
    END IF;
    RETURN NULL;
END
$fq$;

CREATE TRIGGER "fq_user_ins" AFTER INSERT ON "public"."tb_post"
    REFERENCING NEW TABLE AS fq_new FOR EACH STATEMENT EXECUTE FUNCTION "public"."fq_user_on_tb_post"();

CREATE TRIGGER "fq_user_upd" AFTER UPDATE ON "public"."tb_post"
    REFERENCING OLD TABLE AS fq_old NEW TABLE AS fq_new FOR EACH STATEMENT EXECUTE FUNCTION "public"."fq_user_on_tb_post"();

CREATE TRIGGER "fq_user_del" AFTER DELETE ON "public"."tb_post"
    REFERENCING OLD TABLE AS fq_old FOR EACH STATEMENT EXECUTE FUNCTION "public"."fq_user_on_tb_post"();

CREATE TRIGGER "fq_user_trunc" AFTER TRUNCATE ON "public"."tb_post"
    FOR EACH STATEMENT EXECUTE FUNCTION "public"."fq_user_on_tb_post"();

SELECT "public"."fq_user_sync_all"();  -- backfill
