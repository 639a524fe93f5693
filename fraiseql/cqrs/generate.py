"""SQL generated from a resolved read model: builder functions, tv_/mv_/qm_, sync triggers.

Every identifier written here has passed the strict pattern of `declare.check_ident` and is
double-quoted as well; document keys match [A-Za-z_][A-Za-z0-9_]*; the only free text, the
declaration JSON recorded in the catalog, goes through `literal()`.

The shape is defined once, in `fq_<name>_doc(key)`; the view, the materialized view, the
backfill and the sync triggers all call it.

Concurrency of the qm_ sync (READ COMMITTED): a statement's trigger collects the root keys
its rows touch, locks those qm_ rows in key order, and only then rebuilds, in statements
whose fresh snapshot includes whatever the writer it waited for committed. Writers of
single statements therefore neither lose updates nor deadlock on documents. Models with
keys found through joins (grandchildren, to-one parents) also take one advisory lock per
model first (see `_qm`). A transaction of several statements holds its locks until commit,
like any row lock: two such transactions touching the same documents in opposite orders can
deadlock, PostgreSQL aborts one (SQLSTATE 40P01) and the application retries it; the
concurrency test does exactly that.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

from fraiseql.cqrs.catalog import IndexedKey, Node, Resolved
from fraiseql.cqrs.declare import DeclarationError, Sql

__all__ = ["ModelSql", "SECTIONS", "generate", "drop_sql", "literal", "NOTIFY_CHANNEL"]

NOTIFY_CHANNEL = "fraiseql_refresh"
# The parts of a model's script, in the order it runs them: the builder functions, each form
# declared (tv/mv/qm), the catalog entries. A part the model does not declare is left out.
SECTIONS = ("builder", "tv", "mv", "qm", "catalog")
_MAX_PAIRS = 50  # jsonb_build_object takes at most 100 arguments


def literal(text: str) -> str:
    """A standard-conforming SQL string literal (standard_conforming_strings is on since 9.1)."""
    if "\x00" in text:
        raise ValueError("NUL byte in SQL literal")
    return "'" + text.replace("'", "''") + "'"


def q(*names: str) -> str:
    """Quote validated identifiers and join them with dots."""
    return ".".join(f'"{n}"' for n in names)


@dataclass
class ModelSql:
    """The generated SQL of one read model, plus the names the catalog records."""

    schema: str
    name: str
    sections: dict[str, str]  # section (of SECTIONS) -> its statements
    functions: list[str]
    triggers: list[tuple[str, str, str]]  # (schema, table, trigger)
    relations: dict[str, str]  # form -> relation name

    @property
    def create(self) -> str:
        """The whole CREATE script: the sections in order."""
        return "\n\n".join(self.sections.values()) + "\n"


# -- the document ---------------------------------------------------------------------------


def _value(node: Node, source: str | Sql) -> str:
    return source.render(node.alias) if isinstance(source, Sql) else f'{node.alias}."{source}"'


def _object(pairs: list[tuple[str, str]], pad: str) -> str:
    """jsonb_build_object over the pairs, split in chunks joined with || past 50 keys."""
    chunks = []
    for i in range(0, len(pairs), _MAX_PAIRS):
        body = f",\n{pad}    ".join(f"'{k}', {v}" for k, v in pairs[i : i + _MAX_PAIRS])
        chunks.append(f"jsonb_build_object(\n{pad}    {body})")
    return f"\n{pad}|| ".join(chunks)


def doc_expr(node: Node, pad: str = "        ") -> str:
    """The JSONB document of the current row of `node` (its alias is in scope)."""
    pairs = [(key, _value(node, src)) for key, src in node.fields]
    for child in node.embeds:
        pairs.append((child.doc_key, _embed_expr(child, pad + "    ")))
    return _object(pairs, pad)


def _embed_expr(child: Node, pad: str) -> str:
    parent = child.parent
    assert parent is not None and child.fk and child.ref
    a = child.alias
    inner = pad + "    "
    if child.kind == "one":
        return (
            f"(SELECT {doc_expr(child, inner)}\n{pad} FROM {child.qualified} AS {a}"
            f' WHERE {a}."{child.ref}" = {parent.alias}."{child.fk}")'
        )
    where = f'{a}."{child.fk}" = {parent.alias}."{child.ref}"'
    order = ", ".join(t.sql(a) for t in child.order)
    if child.limit is None:
        return (
            f"COALESCE((SELECT jsonb_agg({doc_expr(child, inner)}\n{pad} ORDER BY {order})"
            f"\n{pad} FROM {child.qualified} AS {a} WHERE {where}), '[]'::jsonb)"
        )
    # LIMIT belongs inside the ordered subquery: on the aggregate it would limit one row
    # (the seed's bug).
    s = "s" + a[1:]
    outs = ", ".join(f'{a}."{t.column}" AS o{i}' for i, t in enumerate(child.order))
    agg_order = ", ".join(t.sql(s, f"{s}.o{i}") for i, t in enumerate(child.order))
    return (
        f"COALESCE((SELECT jsonb_agg({s}.doc ORDER BY {agg_order})"
        f"\n{pad} FROM (SELECT {doc_expr(child, inner)} AS doc, {outs}"
        f"\n{pad}       FROM {child.qualified} AS {a} WHERE {where}"
        f"\n{pad}       ORDER BY {order} LIMIT {int(child.limit)}) AS {s}), '[]'::jsonb)"
    )


# -- which documents a write touches, and how writers are serialized ------------------------

_LOCK_CLASS = 0x66716C00  # first key of fraiseql's advisory locks ("fql")


def _lock_key(schema: str, name: str) -> int:
    """Second advisory lock key of a model: a signed 32-bit hash of its qualified name."""
    value = zlib.crc32(f"{schema}.{name}".encode())
    return value - (1 << 32) if value >= 1 << 31 else value


def _needs_join(node: Node) -> bool:
    """Whether root keys of this occurrence's rows are found through another table's rows."""
    if node.parent is None:
        return False
    return not (node.kind == "many" and node.parent.parent is None and node.ref == node.parent.key)


def _root_keys(node: Node, source: str) -> str:
    """SELECT of the root keys whose documents contain rows of `source` as occurrence `node`."""
    cur, cur_alias, joins, n = node, "x", [], 0
    while cur.parent is not None:
        up = cur.parent
        if cur.kind == "many" and up.parent is None and cur.ref == up.key:
            # Children of the root point at its key directly: no join (and a deleted root still counts).
            return f'SELECT {cur_alias}."{cur.fk}" FROM {source} AS x' + "".join(joins)
        n += 1
        alias = f"u{n}"
        if cur.kind == "many":
            joins.append(
                f'\n                 JOIN {up.qualified} AS {alias} ON {alias}."{cur.ref}" = {cur_alias}."{cur.fk}"'
            )
        else:
            joins.append(
                f'\n                 JOIN {up.qualified} AS {alias} ON {alias}."{cur.fk}" = {cur_alias}."{cur.ref}"'
            )
        cur, cur_alias = up, alias
    return f'SELECT {cur_alias}."{cur.key}" FROM {source} AS x' + "".join(joins)


# -- indexed keys ----------------------------------------------------------------------------


def _key_indexes(resolved: Resolved, relation: str) -> list[str]:
    """A btree on (key, id) per indexed key: the id ascending is where.py's tie-breaker, so
    `ORDER BY key, id` (or its reverse) and keyset pages after (key, id) walk the index."""
    out = []
    for k in resolved.indexed:
        index = f"{relation}_by_{k.key}"
        if len(index) > 63:
            raise DeclarationError(
                f"read model {resolved.model.name}: index name {index!r} is longer than 63 "
                "bytes; shorten the model name or the key"
            )
        term = k.order.sql("", f'"{k.key}"')
        out.append(f'CREATE INDEX "{index}" ON {q(resolved.model.schema, relation)} ({term}, id);')
    return out


def _key_column(k: IndexedKey) -> str:
    return f'    "{k.key}" {k.sql_type}{" NOT NULL" if k.not_null else ""},\n'


# -- the script -----------------------------------------------------------------------------


def generate(resolved: Resolved) -> ModelSql:
    """CREATE script of the read model `resolved` (forms as declared) with its catalog entries."""
    model, root = resolved.model, resolved.root
    schema, name = model.schema, model.name
    key_type = root.key_type
    fn = {k: f"fq_{name}_{k}" for k in ("doc", "docs", "sync", "sync_all", "notify")}
    doc_fn, docs_fn = q(schema, fn["doc"]), q(schema, fn["docs"])
    keyed = "".join(f', t."{k.column}" AS "{k.key}"' for k in resolved.indexed)
    rows = f'SELECT t."{root.key}" AS id, {doc_fn}(t."{root.key}") AS data{keyed} FROM {root.qualified} AS t'
    typed = "".join(f', "{k.key}" {k.sql_type}' for k in resolved.indexed)
    header = f"-- read model {schema}.{name}, declaration version {resolved.version}, generated by fraiseql"
    builder = [
        "\n".join([header, *(f"-- WARNING: {w}" for w in resolved.warnings)]),
        f"""CREATE FUNCTION {doc_fn}({key_type}) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $fq$
BEGIN
    -- The one definition of the document's shape: views, backfill and triggers all call this.
    RETURN (
        SELECT {doc_expr(root)}
        FROM {root.qualified} AS {root.alias}
        WHERE {root.alias}."{root.key}" = $1);
END
$fq$;""",
        f"""CREATE FUNCTION {docs_fn}({key_type}[]) RETURNS TABLE (id {key_type}, data jsonb{typed})
LANGUAGE sql STABLE AS $fq$
    {rows} WHERE t."{root.key}" = ANY ($1)
$fq$;""",
    ]
    sections: dict[str, list[str]] = {"builder": builder}
    functions = [fn["doc"], fn["docs"]]
    triggers: list[tuple[str, str, str]] = []
    relations = {form: model.relation(form) for form in ("tv", "mv", "qm") if form in model.forms}

    if "tv" in relations:
        sections["tv"] = [f"CREATE VIEW {q(schema, relations['tv'])} AS\n    {rows};"]
    if "mv" in relations:
        mv = relations["mv"]
        mv_sql = sections["mv"] = [f"CREATE MATERIALIZED VIEW {q(schema, mv)} AS\n    {rows};"]
        # REFRESH ... CONCURRENTLY needs a unique index over all rows.
        mv_sql.append(f'CREATE UNIQUE INDEX "{mv}_id" ON {q(schema, mv)} (id);')
        if model.gin:
            mv_sql.append(f'CREATE INDEX "{mv}_data_gin" ON {q(schema, mv)} USING gin (data);')
        mv_sql += _key_indexes(resolved, mv)
        if model.notify:
            mv_sql.append(f"""CREATE FUNCTION {q(schema, fn["notify"])}() RETURNS trigger
LANGUAGE plpgsql AS $fq$
BEGIN
    -- Deduplicated per transaction by PostgreSQL; a listener refreshes at most once per interval.
    PERFORM pg_notify({literal(NOTIFY_CHANNEL)}, {literal(f"{schema}.{mv}")});
    RETURN NULL;
END
$fq$;""")
            functions.append(fn["notify"])
            for sch, table in resolved.source_tables:
                trig = f"fq_{name}_dirty"
                mv_sql.append(
                    f'CREATE TRIGGER "{trig}" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {q(sch, table)}\n'
                    f"    FOR EACH STATEMENT EXECUTE FUNCTION {q(schema, fn['notify'])}();"
                )
                triggers.append((sch, table, trig))
    if "qm" in relations:
        sections["qm"] = _qm(resolved, relations["qm"], fn, rows, functions, triggers)
    sections["catalog"] = [_register(resolved, functions, triggers, relations)]
    joined = {
        section: "\n\n".join(sections[section]) for section in SECTIONS if section in sections
    }
    return ModelSql(schema, name, joined, functions, triggers, relations)


def _qm(
    resolved: Resolved,
    qm: str,
    fn: dict[str, str],
    rows: str,
    functions: list[str],
    triggers: list[tuple[str, str, str]],
) -> list[str]:
    """The statements of the qm_ table, its sync functions and triggers, and its backfill."""
    model, root = resolved.model, resolved.root
    schema, name, key_type = model.schema, model.name, root.key_type
    qm_q = q(schema, qm)
    keys = [f'"{k.key}"' for k in resolved.indexed]  # the typed columns, taken with the document
    columns = ", ".join(["id", "data", *keys])
    upsert = (
        "ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, "
        + "".join(f"{c} = EXCLUDED.{c}, " for c in keys)
        + "version = q.version + 1, updated_at = now()\n"
        "        WHERE q.data IS DISTINCT FROM EXCLUDED.data"
    )  # a no-op write leaves row and version alone
    out = [
        f"""CREATE TABLE {qm_q} (
    id {key_type} PRIMARY KEY,
    version bigint NOT NULL DEFAULT 1,
    data jsonb NOT NULL,
{"".join(map(_key_column, resolved.indexed))}    updated_at timestamptz NOT NULL DEFAULT now()
);"""
    ]
    if model.gin:
        out.append(f'CREATE INDEX "{qm}_data_gin" ON {qm_q} USING gin (data);')
    out.append(f'CREATE INDEX "{qm}_updated_at" ON {qm_q} (updated_at);')
    out += _key_indexes(resolved, qm)
    # Live queries learn which documents a statement changed (fraiseql.live).
    out.append(f"SELECT fraiseql.enable_live({literal(qm_q)}::regclass, 'id');")
    out.append(f"""CREATE FUNCTION {q(schema, fn["sync"])}({key_type}[], prune boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql AS $fq$
DECLARE
    v_keys {key_type}[] := ARRAY(SELECT DISTINCT k FROM unnest($1) AS k WHERE k IS NOT NULL ORDER BY k);
BEGIN
    IF cardinality(v_keys) = 0 THEN
        RETURN;
    END IF;
    -- Lock the documents in key order (no deadlock between writers), then rebuild: the next
    -- statements take a fresh snapshot, so they see what the writer we waited for committed.
    PERFORM 1 FROM {qm_q} AS q WHERE q.id = ANY (v_keys) ORDER BY q.id FOR UPDATE;
    IF prune THEN  -- only deletes and key changes of root rows remove documents
        DELETE FROM {qm_q} AS q WHERE q.id = ANY (v_keys)
            AND NOT EXISTS (SELECT 1 FROM {root.qualified} AS t WHERE t."{root.key}" = q.id);
    END IF;
    INSERT INTO {qm_q} AS q ({columns})
        SELECT {columns} FROM {q(schema, fn["docs"])}(v_keys)
        {upsert};
END
$fq$;""")
    out.append(f"""CREATE FUNCTION {q(schema, fn["sync_all"])}() RETURNS void
LANGUAGE plpgsql AS $fq$
BEGIN
    -- TRUNCATE and backfill: rebuild everything, other writers of {qm} wait (readers do not).
    LOCK TABLE {qm_q} IN EXCLUSIVE MODE;
    DELETE FROM {qm_q} AS q WHERE NOT EXISTS (SELECT 1 FROM {root.qualified} AS t WHERE t."{root.key}" = q.id);
    INSERT INTO {qm_q} AS q ({columns})
        {rows}
        {upsert};
END
$fq$;""")
    functions += [fn["sync"], fn["sync_all"]]
    by_table: dict[tuple[str, str], list[Node]] = {}
    for node in root.walk():
        by_table.setdefault((node.schema, node.table), []).append(node)
    sync = q(schema, fn["sync"])
    # Keys found by joining through other tables' current rows can miss a concurrent change to
    # those rows (write skew: a post moving to user 5 while user 5 is renamed). Such models
    # serialize their syncs on one advisory lock: exclusive where a join derives the keys, shared
    # elsewhere; keys are computed after the lock, with a fresh snapshot. Models whose keys come
    # straight from the changed rows need only the per-document row locks of the sync function.
    serialize = any(_needs_join(n) for n in root.walk())
    lock_key = _lock_key(schema, name)
    for (sch, table), nodes in by_table.items():
        lock = ""
        if serialize:
            mode = "" if any(_needs_join(n) for n in nodes) else "_shared"
            lock = f"\n    PERFORM pg_advisory_xact_lock{mode}({_LOCK_CLASS}, {lock_key});"
        prune = ", true" if (sch, table) == (root.schema, root.table) else ""
        trig_fn = f"fq_{name}_on_{table}"
        if len(trig_fn) > 63 or trig_fn in functions:
            raise DeclarationError(
                f"read model {name}: table name {sch}.{table} too long or ambiguous for "
                f"the trigger function name {trig_fn!r}; shorten the model name"
            )
        new = "\n                 UNION ALL ".join(_root_keys(n, "fq_new") for n in nodes)
        old = "\n                 UNION ALL ".join(_root_keys(n, "fq_old") for n in nodes)
        out.append(f"""CREATE FUNCTION {q(schema, trig_fn)}() RETURNS trigger
LANGUAGE plpgsql AS $fq$
BEGIN
    -- Statement-level: a bulk write rebuilds each affected document once.{lock}
    IF TG_OP = 'INSERT' THEN
        PERFORM {sync}(ARRAY({new})::{key_type}[]);
    ELSIF TG_OP = 'UPDATE' THEN
        -- Old and new rows: a row moved to another parent rebuilds both parents.
        PERFORM {sync}(ARRAY({new}
                 UNION ALL {old})::{key_type}[]{prune});
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM {sync}(ARRAY({old})::{key_type}[]{prune});
    ELSE
        PERFORM {q(schema, fn["sync_all"])}();
    END IF;
    RETURN NULL;
END
$fq$;""")
        functions.append(trig_fn)
        target, call = q(sch, table), f"FOR EACH STATEMENT EXECUTE FUNCTION {q(schema, trig_fn)}()"
        for suffix, event, refs in (
            ("ins", "INSERT", "REFERENCING NEW TABLE AS fq_new"),
            ("upd", "UPDATE", "REFERENCING OLD TABLE AS fq_old NEW TABLE AS fq_new"),
            ("del", "DELETE", "REFERENCING OLD TABLE AS fq_old"),
            ("trunc", "TRUNCATE", ""),
        ):
            trig = f"fq_{name}_{suffix}"
            out.append(
                f'CREATE TRIGGER "{trig}" AFTER {event} ON {target}\n    {refs + " " if refs else ""}{call};'
            )
            triggers.append((sch, table, trig))
    out.append(f"SELECT {q(schema, fn['sync_all'])}();  -- backfill")
    return out


def _register(
    resolved: Resolved,
    functions: list[str],
    triggers: list[tuple[str, str, str]],
    relations: dict[str, str],
) -> str:
    model, root = resolved.model, resolved.root
    sources = ", ".join(literal(f"{s}.{t}") for s, t in resolved.source_tables)
    trig = json.dumps([{"schema": s, "table": t, "name": n} for s, t, n in triggers])
    decl = json.dumps(resolved.declaration, sort_keys=True)
    lines = [
        f"""INSERT INTO fraiseql.read_model
    (schema_name, name, root_table, key_column, builder, source_tables, functions, triggers, declaration, version)
VALUES ({literal(model.schema)}, {literal(model.name)}, {literal(f"{root.schema}.{root.table}")}, {literal(root.key)},
    {literal(functions[0])}, ARRAY[{sources}]::text[], ARRAY[{", ".join(map(literal, functions))}]::text[],
    {literal(trig)}::jsonb, {literal(decl)}::jsonb, {literal(resolved.version)});"""
    ]
    for form, rel in relations.items():
        lines.append(
            f"INSERT INTO fraiseql.read_model_relation (schema_name, relation, kind, model) "
            f"VALUES ({literal(model.schema)}, {literal(rel)}, {literal(form)}, {literal(model.name)});"
        )
    return "\n".join(lines)


def drop_sql(schema: str, name: str) -> str:
    """SQL dropping what the catalog recorded for a read model (nothing if it is not there)."""
    return f"SELECT fraiseql.drop_read_model({literal(schema)}, {literal(name)});\n"
