"""Helpers of the test suite, not tests: databases for the CQRS tests (`cqrs`), the in-memory
blog schema (`graphql_model`) and its query corpus (`graphql_corpus`), a uvicorn runner
(`http_server`), the app that `fraiseql serve` is tested with (`hello_app`), what the
database test modules share (`databases`: a module's database or role) and a real PgBouncer
in front of the server (`pgbouncer`).

Imported as `support.<module>`: pytest's default import mode puts tests/ (which has no
__init__.py) on sys.path, whether it runs from the repository root or from tests/.
"""
