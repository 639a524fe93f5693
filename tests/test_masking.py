"""Unexpected errors are masked and logged with a request id; deliberate ones keep their words.

Both paths word errors through fraiseql.masking (the corpus of tests/test_conformance.py
checks they agree byte for byte); here: what the words are, the log line, and debug mode.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from support.graphql_model import Store, declare

import fraiseql


@pytest.fixture(scope="module")
def executors() -> Any:
    fraiseql.reset_registry()
    declare(Store())
    schema = fraiseql.build_schema()
    yield fraiseql.Executor(schema), fraiseql.Executor(schema, debug=True)
    fraiseql.reset_registry()


def run(executor: fraiseql.Executor, query: str, **kw: Any) -> dict[str, Any]:
    return json.loads(asyncio.run(executor.execute(query, **kw)))


def test_plain_and_database_errors_are_masked(
    executors: Any, caplog: pytest.LogCaptureFixture
) -> None:
    masked, _ = executors
    query = "{ user(id: 1) { id } c: conflicting { fullName } f: failing(id: 2) { fullName } }"
    with caplog.at_level(logging.ERROR, logger="fraiseql"):
        body = run(masked, query)
    assert masked.fast_runs == 1  # `user` answered by the fast path, the others by graphql-core
    request_id = body["errors"][0]["extensions"]["requestId"]
    assert len(request_id) == 32
    extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert body == {
        "errors": [
            {
                "message": "Internal server error",
                "locations": [{"line": 1, "column": 22}],
                "path": ["c"],
                "extensions": extensions,
            },
            {
                "message": "Internal server error",
                "locations": [{"line": 1, "column": 50}],
                "path": ["f"],
                "extensions": extensions,
            },
        ],
        "data": {"user": {"id": 1}, "c": None, "f": None},
    }
    assert "tb_user_email_key" not in json.dumps(body)
    # The server log has what the client does not: the traceback, under the same id.
    records = [r for r in caplog.records if r.name == "fraiseql"]
    assert [r.levelno for r in records] == [logging.ERROR, logging.ERROR]
    assert all(request_id in r.getMessage() for r in records)
    assert "at c" in records[0].getMessage() and "at f" in records[1].getMessage()
    assert records[0].exc_info[0] is fraiseql.IntegrityError
    assert "tb_user_email_key" in caplog.text and "Traceback" in caplog.text


def test_graphql_errors_keep_their_message(executors: Any) -> None:
    masked, _ = executors
    body = run(masked, "{ refused(id: 3) { id } }")
    assert body == {
        "errors": [
            {
                "message": "user 3 is not yours",
                "locations": [{"line": 1, "column": 3}],
                "path": ["refused"],
                "extensions": {"code": "FORBIDDEN"},
            }
        ],
        "data": {"refused": None},
    }
    # graphql-core's own field errors are its spec'd words, not internals.
    body = run(masked, "{ brokenUser { id firstName } }")
    assert (
        body["errors"][0]["message"] == "Cannot return null for non-nullable field User.firstName."
    )


def test_request_id_given_by_the_caller(executors: Any) -> None:
    masked, _ = executors
    body = run(masked, "{ failingRequired { id } }", request_id="req-42")
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "req-42",
    }


def test_debug_shows_everything(executors: Any) -> None:
    masked, debug = executors
    for body in (
        run(debug, "{ conflicting { id } }"),
        run(masked, "{ conflicting { id } }", debug=True),
    ):
        error = body["errors"][0]
        assert error["message"] == (
            'duplicate key value violates unique constraint "tb_user_email_key"\n'
            "DETAIL: Key (email)=(a@x) already exists."
        )
        exception = error["extensions"]["exception"]
        assert exception["type"] == "fraiseql.errors.IntegrityError"
        assert any("raise fraiseql.IntegrityError" in line for line in exception["stacktrace"])
    assert run(debug, "{ failing(id: 1) { id } }", debug=False)["errors"][0]["message"] == (
        "Internal server error"
    )


def test_module_level_execute_masks_too() -> None:
    fraiseql.reset_registry()
    try:
        declare(Store())
        body = json.loads(asyncio.run(fraiseql.execute("{ failing(id: 1) { id } }")))
        assert body["errors"][0]["message"] == "Internal server error"
        body = json.loads(asyncio.run(fraiseql.execute("{ failing(id: 1) { id } }", debug=True)))
        assert body["errors"][0]["message"] == "no luck with user 1"
    finally:
        fraiseql.reset_registry()
