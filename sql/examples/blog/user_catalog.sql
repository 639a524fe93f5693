-- Generated from fraiseql/examples/blog.py by `make sql-reference`; do not edit.
-- A model's whole script (what `fraiseql makemigrations` writes) runs its parts in order:
-- builder, tv, mv, qm, catalog.

INSERT INTO fraiseql.read_model
    (schema_name, name, root_table, key_column, builder, source_tables, functions, triggers, declaration, version)
VALUES ('public', 'user', 'public.tb_user', 'id',
    'fq_user_doc', ARRAY['public.tb_user', 'public.tb_post']::text[], ARRAY['fq_user_doc', 'fq_user_docs', 'fq_user_notify', 'fq_user_sync', 'fq_user_sync_all', 'fq_user_on_tb_user', 'fq_user_on_tb_post']::text[],
    '[{"schema": "public", "table": "tb_user", "name": "fq_user_dirty"}, {"schema": "public", "table": "tb_post", "name": "fq_user_dirty"}, {"schema": "public", "table": "tb_user", "name": "fq_user_ins"}, {"schema": "public", "table": "tb_user", "name": "fq_user_upd"}, {"schema": "public", "table": "tb_user", "name": "fq_user_del"}, {"schema": "public", "table": "tb_user", "name": "fq_user_trunc"}, {"schema": "public", "table": "tb_post", "name": "fq_user_ins"}, {"schema": "public", "table": "tb_post", "name": "fq_user_upd"}, {"schema": "public", "table": "tb_post", "name": "fq_user_del"}, {"schema": "public", "table": "tb_post", "name": "fq_user_trunc"}]'::jsonb, '{"embed": {"user_posts": {"embed": {}, "fields": [["id", "id"], ["title", "title"], ["content", "content"], ["created_at", "created_at"]], "fk": "user_id", "kind": "many", "limit": 10, "order_by": [["created_at", true, null], ["id", true, null]], "table": "public.tb_post"}}, "fields": [["id", "id"], ["first_name", "first_name"], ["last_name", "last_name"], ["email", "email"], ["created_at", "created_at"]], "forms": ["mv", "qm", "tv"], "indexed": [["email", false, null], ["created_at", true, null]], "name": "user", "notify": true, "schema": "public", "table": "public.tb_user"}'::jsonb, '45db25fecfc6368b');
INSERT INTO fraiseql.read_model_relation (schema_name, relation, kind, model) VALUES ('public', 'tv_user', 'tv', 'user');
INSERT INTO fraiseql.read_model_relation (schema_name, relation, kind, model) VALUES ('public', 'mv_user', 'mv', 'user');
INSERT INTO fraiseql.read_model_relation (schema_name, relation, kind, model) VALUES ('public', 'qm_user', 'qm', 'user');
