"""`python -m fraiseql.demo`: start an embedded PostgreSQL and say how to reach it.

Grows into the blog demo of the seed document as the GraphQL layer lands.
"""

import signal

from fraiseql.embedded import EmbeddedPostgres


def main() -> None:
    with EmbeddedPostgres() as pg:
        print(f"fraiseql demo: embedded PostgreSQL at {pg.dsn}")
        print(f"try: psql '{pg.dsn}' -c 'select version()'   (Ctrl-C stops and removes it)", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
