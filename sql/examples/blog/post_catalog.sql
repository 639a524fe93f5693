-- Generated from fraiseql/examples/blog.py by `make sql-reference`; do not edit.
-- A model's whole script (what `fraiseql makemigrations` writes) runs its parts in order:
-- builder, tv, mv, qm, catalog.

INSERT INTO fraiseql.read_model
    (schema_name, name, root_table, key_column, builder, source_tables, functions, triggers, declaration, version)
VALUES ('public', 'post', 'public.tb_post', 'id',
    'fq_post_doc', ARRAY['public.tb_post', 'public.tb_user', 'public.tb_comment']::text[], ARRAY['fq_post_doc', 'fq_post_docs']::text[],
    '[]'::jsonb, '{"embed": {"author": {"embed": {}, "fields": [["id", "id"], ["first_name", "first_name"], ["last_name", "last_name"]], "fk": "user_id", "kind": "one", "table": "public.tb_user"}, "comments": {"embed": {"author": {"embed": {}, "fields": [["id", "id"], ["first_name", "first_name"], ["last_name", "last_name"]], "fk": "user_id", "kind": "one", "table": "public.tb_user"}}, "fields": [["id", "id"], ["body", "body"], ["created_at", "created_at"]], "fk": "post_id", "kind": "many", "limit": 20, "order_by": [["created_at", true, null], ["id", true, null]], "table": "public.tb_comment"}}, "fields": [["id", "id"], ["title", "title"], ["content", "content"], ["created_at", "created_at"]], "forms": ["tv"], "name": "post", "schema": "public", "table": "public.tb_post"}'::jsonb, 'f9adc4985b9393e3');
INSERT INTO fraiseql.read_model_relation (schema_name, relation, kind, model) VALUES ('public', 'tv_post', 'tv', 'post');
