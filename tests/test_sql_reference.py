"""The blog example's reference SQL in sql/examples/blog/ is exactly what the generator emits."""

from __future__ import annotations

from pathlib import Path

from support.cqrs import fresh_database, with_conn

from fraiseql.examples import blog

REFERENCE = Path(__file__).resolve().parents[1] / blog.REFERENCE_DIR
REFRESH = "the generator's output changed: run `make sql-reference` and review the diff"


def test_reference_files_are_what_the_generator_emits(pg_server, pg_dsn) -> None:
    dsn = fresh_database(pg_server, pg_dsn, "sql_reference")
    expected = with_conn(dsn, blog.reference_sql)
    on_disk = {path.name: path.read_text() for path in REFERENCE.glob("*.sql")}
    assert sorted(on_disk) == sorted(expected), f"files of {REFERENCE}: {REFRESH}"
    for name, text in expected.items():
        assert on_disk[name] == text, f"{REFERENCE / name}: {REFRESH}"
