-- Generated from fraiseql/examples/blog.py by `make sql-reference`; do not edit.
-- A model's whole script (what `fraiseql makemigrations` writes) runs its parts in order:
-- builder, tv, mv, qm, catalog.

CREATE VIEW "public"."tv_user" AS
    SELECT t."id" AS id, "public"."fq_user_doc"(t."id") AS data, t."email" AS "email", t."created_at" AS "created_at" FROM "public"."tb_user" AS t;
