"""Migrations: generated SQL in ordered, reviewable files, applied once each, recorded.

`make_migration` compares the declarations with the state the migrations directory already
describes (each generated file ends with a `-- fraiseql:state {...}` line) and writes the
next file: CREATE for a new model, drop-and-recreate for a changed one, drop for a removed
one. `migrate` applies fraiseql's own migrations (the source tree's `sql/`, installed as the
package `fraiseql.sql`), then the directory's files in numeric order, each in its own
transaction, recorded with a checksum in `fraiseql.migration`. `install` does the same for
declarations without files (tests, demo).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fraiseql.cqrs.catalog import resolve
from fraiseql.cqrs.declare import DeclarationError, ReadModel
from fraiseql.cqrs.generate import drop_sql, generate

__all__ = ["Migration", "MigrationError", "install", "make_migration", "migrate", "read_directory"]

_FILE = re.compile(r"(\d+)_[A-Za-z0-9_]+\.sql\Z")
_STATE = re.compile(r"^-- fraiseql:state (\{.*\})\s*$", re.MULTILINE)
_LOCK_KEY = 0x66726169  # pg_advisory_lock key of fraiseql migrate ("frai")


class MigrationError(RuntimeError):
    """A migration could not be applied, or an applied one was edited afterwards."""


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def _package_sql(name: str) -> str:
    return (resources.files("fraiseql.sql") / name).read_text()


def _package_migrations() -> list[Migration]:
    files = [f.name for f in resources.files("fraiseql.sql").iterdir() if _FILE.match(f.name)]
    return [Migration(f"fraiseql/{name}", _package_sql(name)) for name in sorted(files)]


def read_directory(directory: str | Path) -> list[Migration]:
    """The migrations of `directory` (files NNNN_name.sql), in numeric order."""
    path = Path(directory)
    if not path.is_dir():
        raise MigrationError(f"migrations directory {str(path)!r} does not exist")
    files = sorted((int(m.group(1)), p.name) for p in path.iterdir() if (m := _FILE.match(p.name)))
    numbers = [n for n, _ in files]
    if len(set(numbers)) != len(numbers):
        dup = sorted({n for n in numbers if numbers.count(n) > 1})
        raise MigrationError(f"migrations in {path} share the number(s) {dup}")
    return [Migration(name, (path / name).read_text()) for _, name in files]


async def migrate(conn: Any, directory: str | Path | None = None) -> list[str]:
    """Apply fraiseql's own and then `directory`'s pending migrations; return the names applied."""
    pending = _package_migrations() + (read_directory(directory) if directory is not None else [])
    applied_now = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)  # two deploys at once take turns
    try:
        await conn.execute(_package_sql("migration_table.sql"))
        done = {
            r["name"]: r["checksum"]
            for r in await conn.fetch("SELECT name, checksum FROM fraiseql.migration")
        }
        for m in pending:
            if m.name in done:
                if done[m.name] != m.checksum:
                    raise MigrationError(
                        f"migration {m.name} was edited after it was applied; "
                        "write a new migration instead"
                    )
                continue
            try:
                async with conn.transaction():
                    await conn.execute(m.sql)
                    await conn.execute(
                        "INSERT INTO fraiseql.migration (name, checksum) VALUES ($1, $2)",
                        m.name,
                        m.checksum,
                    )
            except Exception as exc:  # the driver's error: name the file, keep the cause
                raise MigrationError(
                    f"migration {m.name} failed and was rolled back: {exc}"
                ) from exc
            applied_now.append(m.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now


def _check_unique(models: Sequence[ReadModel]) -> None:
    seen = set()
    for m in models:
        if not isinstance(m, ReadModel):
            raise DeclarationError(f"expected ReadModel declarations, got {type(m).__name__}")
        if (m.schema, m.name) in seen:
            raise DeclarationError(f"read model {m.schema}.{m.name} declared twice")
        seen.add((m.schema, m.name))


async def install(conn: Any, models: Sequence[ReadModel]) -> list[str]:
    """Create or update the read models in the database directly; return the ones (re)created.

    Unchanged models (same declaration version in the catalog) are left alone.
    """
    _check_unique(models)
    await migrate(conn)
    resolved = [await resolve(conn, m) for m in models]  # every check passes before any DDL runs
    changed = []
    for r in resolved:
        m = r.model
        current = await conn.fetchval(
            "SELECT version FROM fraiseql.read_model WHERE schema_name = $1 AND name = $2",
            m.schema,
            m.name,
        )
        if current == r.version:
            continue
        async with conn.transaction():
            await conn.execute(drop_sql(m.schema, m.name) + generate(r).create)
        changed.append(f"{m.schema}.{m.name}")
    return changed


def _last_state(migrations: list[Migration]) -> dict[str, str]:
    state: dict[str, str] = {}
    for m in migrations:
        found = _STATE.findall(m.sql)
        if found:
            state = json.loads(found[-1])
    return state


async def make_migration(
    conn: Any, models: Sequence[ReadModel], directory: str | Path
) -> Path | None:
    """Write the next migration file bringing the directory's state to `models`; None if nothing changed.

    `conn` is a database with the tables the models read (checked against its catalog).
    """
    _check_unique(models)
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    existing = read_directory(path)
    before = _last_state(existing)
    resolved = {f"{m.schema}.{m.name}": await resolve(conn, m) for m in models}
    parts, labels = [], []
    for key in sorted(set(before) - set(resolved)):
        schema, name = key.split(".")
        parts.append(f"-- drop read model {key}\n" + drop_sql(schema, name))
        labels.append(f"drop_{name}")
    for key, r in resolved.items():
        if before.get(key) == r.version:
            continue
        if key in before:
            parts.append(
                f"-- read model {key} changed: drop and recreate\n"
                + drop_sql(r.model.schema, r.model.name)
            )
            labels.append(f"change_{r.model.name}")
        else:
            labels.append(f"create_{r.model.name}")
        parts.append(generate(r).create)
    if not parts:
        return None
    number = max((int(_FILE.match(m.name).group(1)) for m in existing), default=0) + 1  # type: ignore[union-attr]
    label = "_".join(labels)[:60].rstrip("_")
    state = json.dumps({k: r.version for k, r in sorted(resolved.items())}, sort_keys=True)
    text = (
        "-- generated by `fraiseql makemigrations`; review it, then apply with `fraiseql migrate`\n\n"
        + "\n".join(parts)
        + f"\n-- fraiseql:state {state}\n"
    )
    target = path / f"{number:04d}_{label}.sql"
    target.write_text(text)
    return target
