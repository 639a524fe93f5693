"""The demo's GraphQL app for bench_graphql.py's wrk runs (uvicorn benchmarks.bench_app:app)."""

import os

import fraiseql
from fraiseql.examples import blog_api  # noqa: F401 - declares the seed's API

app = fraiseql.create_app(database_url=os.environ["FRAISEQL_BENCH_DSN"])
