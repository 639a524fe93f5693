"""Rewrites the blog example's reference SQL (`make sql-reference`): what the generator emits
today for fraiseql.examples.blog, checked against the tables of a throwaway PostgreSQL."""

import asyncio
from pathlib import Path

from fraiseql.cqrs.connect import connect
from fraiseql.embedded import EmbeddedPostgres
from fraiseql.examples import blog

TARGET = Path(__file__).resolve().parents[1] / blog.REFERENCE_DIR


async def render(dsn: str) -> dict[str, str]:
    conn = await connect(dsn)
    try:
        return await blog.reference_sql(conn)
    finally:
        await conn.close()


def main() -> None:
    with EmbeddedPostgres() as pg:
        files = asyncio.run(render(pg.dsn))
    TARGET.mkdir(parents=True, exist_ok=True)
    for stale in TARGET.glob("*.sql"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (TARGET / name).write_text(text)
    print(f"sql-reference: {len(files)} files in {TARGET}")


if __name__ == "__main__":
    main()
