"""The SQL shipped with fraiseql, installed as the package `fraiseql.sql` (see pyproject.toml).

A regular package, not a bare data directory, so that importlib.resources finds it in a wheel
and in an editable install alike: fraiseql's own migrations (NNNN_name.sql, applied in order by
`fraiseql migrate`), the bootstrap run before them (migration_table.sql) and, in examples/, the
generated SQL of fraiseql.examples as reference files.
"""
