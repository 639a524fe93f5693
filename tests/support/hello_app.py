"""A minimal app for the `fraiseql serve` test (imported by uvicorn in a subprocess)."""

import fraiseql


@fraiseql.query
def hello(info, name: str = "world") -> str:
    return f"hello {name}"


app = fraiseql.create_app()
