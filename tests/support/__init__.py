"""Helpers of the test suite, not tests: databases for the CQRS tests (`cqrs`), the in-memory
blog schema (`graphql_model`) and its query corpus (`graphql_corpus`), a uvicorn runner
(`http_server`), the app that `fraiseql serve` is tested with (`hello_app`) and what the
database test modules share (`databases`).

Imported as `support.<module>`: pytest's default import mode puts tests/ (which has no
__init__.py) on sys.path, whether it runs from the repository root or from tests/.
"""
