-- Generated from fraiseql/examples/blog.py by `make sql-reference`; do not edit.
-- A model's whole script (what `fraiseql makemigrations` writes) runs its parts in order:
-- builder, tv, mv, qm, catalog.

CREATE MATERIALIZED VIEW "public"."mv_user" AS
    SELECT t."id" AS id, "public"."fq_user_doc"(t."id") AS data, t."email" AS "email", t."created_at" AS "created_at" FROM "public"."tb_user" AS t;

CREATE UNIQUE INDEX "mv_user_id" ON "public"."mv_user" (id);

CREATE INDEX "mv_user_data_gin" ON "public"."mv_user" USING gin (data);

CREATE INDEX "mv_user_by_email" ON "public"."mv_user" ("email" ASC, id);

CREATE INDEX "mv_user_by_created_at" ON "public"."mv_user" ("created_at" DESC, id);

CREATE FUNCTION "public"."fq_user_notify"() RETURNS trigger
LANGUAGE plpgsql AS $fq$
BEGIN
    -- Deduplicated per transaction by PostgreSQL; a listener refreshes at most once per interval.
    PERFORM pg_notify('fraiseql_refresh', 'public.mv_user');
    RETURN NULL;
END
$fq$;

CREATE TRIGGER "fq_user_dirty" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "public"."tb_user"
    FOR EACH STATEMENT EXECUTE FUNCTION "public"."fq_user_notify"();

CREATE TRIGGER "fq_user_dirty" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "public"."tb_post"
    FOR EACH STATEMENT EXECUTE FUNCTION "public"."fq_user_notify"();
