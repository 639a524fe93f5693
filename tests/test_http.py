"""GraphQL over HTTP against a real uvicorn server: the spec's status codes and bad input."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import graphql
import httpx
import pytest
from support.graphql_model import Store, declare
from support.http_server import serve

import fraiseql

GQL = "application/graphql-response+json"
# Request errors are worded by graphql-core, and 3.3 words these differently (3.2, 3.3).
_V33 = graphql.version_info >= (3, 3)
MISSING_ARGUMENT = (
    "Field 'user' argument 'id' of type 'Int!' is required, but it was not provided.",
    "Argument 'Query.user(id:)' of type 'Int!' is required, but it was not provided.",
)[_V33]
INVALID_VARIABLE = (
    "Variable '$id' got invalid value 'abc'; Int cannot represent non-integer value: 'abc'",
    "Variable '$id' has invalid value: Int cannot represent non-integer value: 'abc'",
)[_V33]
MISSING_VARIABLE = (
    "Variable '$id' of required type 'Int!' was not provided.",
    "Variable '$id' has invalid value: Expected a value of non-null type 'Int!' to be provided.",
)[_V33]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    fraiseql.reset_registry()
    declare(Store())

    @fraiseql.query
    async def whoami(info) -> str:
        return f"{info.context['user']} via {info.context['request'].headers['x-tenant']}"

    def context_getter(request: fraiseql.http.Request) -> dict[str, Any]:
        if "x-explode" in request.headers:  # a bug outside execution: the 500 path
            raise RuntimeError("cannot reach 10.1.2.3:5432 with password hunter2")
        return {"user": request.headers.get("x-user", "anonymous")}

    app = fraiseql.create_app(
        context_getter=context_getter,
        max_depth=5,
        max_aliases=3,
        max_fields=40,
        max_body_bytes=4096,
    )
    fraiseql.reset_registry()
    with serve(app) as base:
        yield base + "/graphql"


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def post(
    client: httpx.Client,
    url: str,
    body: Any,
    accept: str = GQL,
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> httpx.Response:
    return client.post(
        url,
        content=json.dumps(body).encode(),
        headers={"accept": accept, "content-type": "application/json", **(headers or {})},
        **kw,
    )


def error_message(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) <= {"errors", "data"} and body["errors"], body
    return body["errors"][0]["message"]


def assert_still_serving(client: httpx.Client, url: str) -> None:
    r = post(client, url, {"query": "{ user(id: 1) { id } }"})
    assert r.status_code == 200 and r.json() == {"data": {"user": {"id": 1}}}


def test_post_query(client: httpx.Client, url: str) -> None:
    r = post(
        client,
        url,
        {"query": "query($id: Int!) { user(id: $id) { id firstName } }", "variables": {"id": 2}},
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == f"{GQL}; charset=utf-8"
    assert r.content == b'{"data":{"user":{"id":2,"firstName":"First2"}}}'


JSON = "application/json"


@pytest.mark.parametrize(
    "accept,expected",
    [
        (GQL, GQL),
        (JSON, JSON),
        ("*/*", JSON),  # the spec's legacy default, as for a missing Accept
        ("application/*", JSON),
        (f"{JSON};q=0.9, {GQL}", GQL),
        (f"{GQL}, {JSON};q=0.9", GQL),  # what the spec tells clients to send
        (f"{GQL};q=0, {JSON}", JSON),  # q=0: not acceptable
        (f"{GQL};q=0.5, {JSON};q=0.8", JSON),
        (f"{GQL}, {JSON}", GQL),  # equal q: the one listed first
        (f"{JSON}, {GQL}", JSON),
        (f"*/*;q=0.1, {GQL}", GQL),
        (f"*/*, {JSON};q=0", GQL),  # the specific range overrides the wildcard
        (f"{JSON}; charset=utf-8", JSON),
        ("text/html, */*;q=0.8", JSON),
        (f"{GQL};q=bogus, {JSON};q=0.2", JSON),  # a malformed element is ignored
    ],
)
def test_content_negotiation(client: httpx.Client, url: str, accept: str, expected: str) -> None:
    r = post(client, url, {"query": "{ __typename }"}, accept=accept)
    assert r.status_code == 200 and r.headers["content-type"] == f"{expected}; charset=utf-8"
    assert r.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "accept", ["text/csv", f"{GQL};q=0, {JSON};q=0", f"{JSON}; charset=latin1", "*/*;q=0"]
)
def test_nothing_acceptable_is_406(client: httpx.Client, url: str, accept: str) -> None:
    r = post(client, url, {"query": "{ __typename }"}, accept=accept)
    assert r.status_code == 406 and r.headers["content-type"] == f"{JSON}; charset=utf-8"
    assert error_message(r) == (f"Not acceptable: {accept!r}; this server answers {GQL} or {JSON}.")
    assert_still_serving(client, url)


def test_no_accept_header_means_json(client: httpx.Client, url: str) -> None:
    r = client.post(
        url, content=b'{"query": "{ __typename }"}', headers={"content-type": "application/json"}
    )
    assert r.status_code == 200 and r.headers["content-type"] == f"{JSON}; charset=utf-8"
    r = client.get(url, params={"query": "{ __typename }"})
    assert r.status_code == 200 and r.headers["content-type"] == f"{JSON}; charset=utf-8"


@pytest.mark.parametrize("accept,media", [(GQL, GQL), (JSON, JSON), (f"{GQL};q=0, {JSON}", JSON)])
def test_request_errors_in_the_negotiated_type(
    client: httpx.Client, url: str, accept: str, media: str
) -> None:
    ctype = f"{media}; charset=utf-8"
    r = client.post(url, content=b'{"query": ', headers={"content-type": JSON, "accept": accept})
    assert r.status_code == 400 and r.headers["content-type"] == ctype
    assert error_message(r).startswith("Malformed JSON body")
    r = post(client, url, {"variables": {}}, accept=accept)
    assert r.status_code == 400 and r.headers["content-type"] == ctype
    assert error_message(r) == "The request has no 'query'."
    r = client.put(url, json={"query": "{ __typename }"}, headers={"accept": accept})
    assert r.status_code == 405 and r.headers["content-type"] == ctype
    r = client.post(url, content=b"{}", headers={"content-type": "text/plain", "accept": accept})
    assert r.status_code == 415 and r.headers["content-type"] == ctype
    r = client.get(
        url, params={"query": "mutation { deleteUser(id: 1) }"}, headers={"accept": accept}
    )
    assert r.status_code == 405 and r.headers["content-type"] == ctype
    assert_still_serving(client, url)


def test_get_query(client: httpx.Client, url: str) -> None:
    r = client.get(
        url,
        params={
            "query": "query($id: Int!) { user(id: $id) { email } }",
            "variables": json.dumps({"id": 3}),
        },
        headers={"accept": GQL},
    )
    assert r.status_code == 200 and r.json() == {"data": {"user": {"email": "user3@example.com"}}}


def test_mutation_over_get_is_405(client: httpx.Client, url: str) -> None:
    r = client.get(url, params={"query": "mutation { deleteUser(id: 1) }"}, headers={"accept": GQL})
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert "Only queries can be sent with GET" in error_message(r)
    assert_still_serving(client, url)


def test_mutation_over_post(client: httpx.Client, url: str) -> None:
    r = post(
        client,
        url,
        {
            "query": 'mutation { createUser(input: {firstName: "N", lastName: "M", email: "n@m"}) { firstName } }'
        },
    )
    assert r.status_code == 200 and r.json() == {"data": {"createUser": {"firstName": "N"}}}


def test_malformed_json(client: httpx.Client, url: str) -> None:
    r = client.post(
        url, content=b'{"query": ', headers={"content-type": "application/json", "accept": GQL}
    )
    assert r.status_code == 400 and error_message(r).startswith("Malformed JSON body")
    r = client.post(url, content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert r.status_code == 400 and error_message(r).startswith("Malformed JSON body")
    assert_still_serving(client, url)


def nested(levels: int) -> str:
    """`levels` arrays, one in the other."""
    return "[" * levels + "]" * levels


def typename_body(name: str, raw: str) -> str:
    """A `{ __typename }` request whose `name` parameter (variables, extensions) holds `raw`."""
    return '{"query": "{ __typename }", "' + name + '": {"v": ' + raw + "}}"


DEPTH_MESSAGE = "nests arrays and objects deeper than 128 levels."


@pytest.mark.parametrize("accept", [GQL, JSON])
def test_deeply_nested_json_body(client: httpx.Client, url: str, accept: str) -> None:
    """About 990 levels made the stdlib decoder overflow its recursion limit: a 500 before."""
    headers = {"content-type": JSON, "accept": accept}
    for body in (
        nested(990),
        typename_body("variables", nested(990)),
        typename_body("extensions", nested(990)),
        typename_body("variables", nested(127)),  # 129 with the body's object and variables
    ):
        r = client.post(url, content=body.encode(), headers=headers)
        assert r.status_code == 400 and r.headers["content-type"] == f"{accept}; charset=utf-8"
        assert error_message(r) == f"The JSON body {DEPTH_MESSAGE}"
    # 128 levels in all is within the limit, and brackets inside strings are not nesting.
    for body in (
        typename_body("variables", nested(126)),
        typename_body("variables", '"' + "[{" * 900 + '"'),
    ):
        r = client.post(url, content=body.encode(), headers=headers)
        assert r.status_code == 200 and r.json() == {"data": {"__typename": "Query"}}
    assert_still_serving(client, url)


@pytest.mark.parametrize("name", ["variables", "extensions"])
def test_deeply_nested_json_in_the_query_string(client: httpx.Client, url: str, name: str) -> None:
    r = client.get(
        url, params={"query": "{ __typename }", name: nested(990)}, headers={"accept": GQL}
    )
    assert r.status_code == 400 and r.headers["content-type"] == f"{GQL}; charset=utf-8"
    assert error_message(r) == f"'{name}' in the query string {DEPTH_MESSAGE}"
    r = client.get(
        url,
        params={"query": "{ __typename }", name: '{"x": ' + nested(127) + "}"},
        headers={"accept": GQL},
    )
    assert r.status_code == 200 and r.json() == {"data": {"__typename": "Query"}}
    assert_still_serving(client, url)


@pytest.mark.parametrize(
    "body,kind", [([1, 2], "an array"), ("q", "a string"), (None, "null"), (3, "a number")]
)
def test_body_not_an_object(client: httpx.Client, url: str, body: Any, kind: str) -> None:
    r = post(client, url, body)
    assert r.status_code == 400
    assert error_message(r) == f"The JSON body must be an object, got {kind}."


@pytest.mark.parametrize(
    "body,message",
    [
        ({}, "The request has no 'query'."),
        ({"query": 5}, "'query' must be a string, got a number."),
        (
            {"query": "{ __typename }", "variables": [1]},
            "'variables' must be an object or null, got an array.",
        ),
        (
            {"query": "{ __typename }", "operationName": 1},
            "'operationName' must be a string or null, got a number.",
        ),
        (
            {"query": "{ __typename }", "extensions": "x"},
            "'extensions' must be an object or null, got a string.",
        ),
    ],
)
def test_bad_request_parameters(client: httpx.Client, url: str, body: Any, message: str) -> None:
    r = post(client, url, body)
    assert r.status_code == 400 and error_message(r) == message


def test_wrong_content_type(client: httpx.Client, url: str) -> None:
    r = client.post(
        url, content=b"{ __typename }", headers={"content-type": "text/plain", "accept": GQL}
    )
    assert r.status_code == 415 and "Unsupported content type 'text/plain'" in error_message(r)
    r = client.post(
        url,
        content=b"query={ __typename }",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415
    assert_still_serving(client, url)


def test_syntax_error(client: httpx.Client, url: str) -> None:
    r = post(client, url, {"query": "{ user(id: 1) { id "})
    assert r.status_code == 400
    body = r.json()
    assert "data" not in body
    assert body["errors"] == [
        {
            "message": "Syntax Error: Expected Name, found <EOF>.",
            "locations": [{"line": 1, "column": 20}],
        }
    ]
    # application/json: every well-formed request answers 200, with the same errors.
    r = post(client, url, {"query": "{ user(id: 1) { id "}, accept="application/json")
    assert r.status_code == 200 and "Syntax Error" in error_message(r)


@pytest.mark.parametrize(
    "query,message",
    [
        ("{ nope }", "Cannot query field 'nope' on type 'Query'."),
        ("{ user(id: 1, bogus: 2) { id } }", "Unknown argument 'bogus' on field 'Query.user'."),
        ("{ user { id } }", MISSING_ARGUMENT),
    ],
)
def test_unknown_fields_and_arguments(
    client: httpx.Client, url: str, query: str, message: str
) -> None:
    r = post(client, url, {"query": query})
    assert r.status_code == 400 and error_message(r) == message
    assert r.json()["errors"][0]["locations"]


def test_wrong_variable_types(client: httpx.Client, url: str) -> None:
    r = post(
        client,
        url,
        {"query": "query($id: Int!) { user(id: $id) { id } }", "variables": {"id": "abc"}},
    )
    assert r.status_code == 400
    assert error_message(r) == INVALID_VARIABLE
    r = post(client, url, {"query": "query($id: Int!) { user(id: $id) { id } }"})
    assert r.status_code == 400
    assert error_message(r) == MISSING_VARIABLE


def test_operation_name_required_with_several_operations(client: httpx.Client, url: str) -> None:
    body = {"query": "query A { user(id: 1) { id } } query B { user(id: 2) { id } }"}
    r = post(client, url, body)
    assert r.status_code == 400
    assert error_message(r) == "Must provide operation name if query contains multiple operations."
    r = post(client, url, {**body, "operationName": "B"})
    assert r.status_code == 200 and r.json() == {"data": {"user": {"id": 2}}}
    r = post(client, url, {**body, "operationName": "C"})
    assert r.status_code == 400 and error_message(r) == "Unknown operation named 'C'."


@pytest.mark.parametrize(
    "query,message",
    [
        ("{ user(id: 1) { userPosts { comments { id } } bestPost { comments { id } } } }", None),
        (
            "{ a: user(id: 1) { b: id c: id d: id } }",
            "The operation exceeds the maximum query number of aliases: 4 > 3.",
        ),
        (
            "{ user(id: 1) { " + "id " * 41 + "} }",
            "The operation exceeds the maximum query number of fields: 42 > 40.",
        ),
        (
            "query Deep { __schema { types { fields { type { ofType { ofType { name } } } } } } }",
            "Operation 'Deep' exceeds the maximum query depth: 7 > 5.",
        ),
        (
            "{ users(limit: 1000) { id userPosts { id title } } }",
            "The operation exceeds the maximum query cost: 32000 > 20000 (each field counts "
            "once per item of the lists it is in: a list counts its `limit` or `first` "
            "argument, else 10 items; ask for fewer).",
        ),
    ],
)
def test_limits(client: httpx.Client, url: str, query: str, message: str | None) -> None:
    r = post(client, url, {"query": query})
    if message is None:
        assert r.status_code == 200 and "errors" not in r.json()
    else:
        assert r.status_code == 400 and error_message(r) == message


def test_cost_from_variables(client: httpx.Client, url: str) -> None:
    query = "query($n: Int!) { users(limit: $n) { id } }"
    r = post(client, url, {"query": query, "variables": {"n": 2}})
    assert r.status_code == 200 and r.json() == {"data": {"users": [{"id": 1}, {"id": 2}]}}
    r = post(client, url, {"query": query, "variables": {"n": 20_000}})
    assert r.status_code == 400
    assert error_message(r).startswith(
        "The operation exceeds the maximum query cost: 40000 > 20000 ("
    )
    r = post(client, url, {"query": query, "variables": {"n": 1}})  # the plan stays usable
    assert r.status_code == 200 and r.json() == {"data": {"users": [{"id": 1}]}}


def test_oversized_body(client: httpx.Client, url: str) -> None:
    big = {"query": "{ __typename }", "variables": {"pad": "x" * 5000}}
    r = post(client, url, big)
    assert r.status_code == 413 and "exceeds the limit of 4096 bytes" in error_message(r)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        yield b'{"query": "{ __typename }", "variables": {"pad": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}}'

    r = client.post(
        url, content=chunks(), headers={"content-type": "application/json", "accept": GQL}
    )
    assert r.status_code == 413 and "exceeds the limit of 4096 bytes" in error_message(r)
    assert_still_serving(client, url)


def logged_request_ids(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The request ids of the tracebacks the "fraiseql" logger wrote."""
    return [
        r.getMessage().rsplit("(request ", 1)[1].rstrip(")")
        for r in caplog.records
        if r.name == "fraiseql" and r.levelno == logging.ERROR and r.exc_info
    ]


def test_resolver_that_raises(
    client: httpx.Client, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="fraiseql"):
        r = post(client, url, {"query": "{ failing(id: 7) { id } user(id: 1) { id } }"})
    assert r.status_code == 200 and r.headers["content-type"] == f"{GQL}; charset=utf-8"
    request_id = r.json()["errors"][0]["extensions"]["requestId"]
    assert r.json() == {
        "errors": [
            {
                "message": "Internal server error",
                "locations": [{"line": 1, "column": 3}],
                "path": ["failing"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ],
        "data": {"failing": None, "user": {"id": 1}},
    }
    assert logged_request_ids(caplog) == [request_id] and "no luck with user 7" in caplog.text
    r = post(client, url, {"query": "{ failingRequired { id } }"})
    assert r.status_code == 200 and r.json()["data"] is None
    assert error_message(r) == "Internal server error"
    r = post(client, url, {"query": "{ refused(id: 2) { id } }"})
    assert r.status_code == 200 and error_message(r) == "user 2 is not yours"
    assert_still_serving(client, url)


def test_internal_error_outside_execution_is_masked(
    client: httpx.Client, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    for accept, media in ((GQL, GQL), ("application/json", "application/json")):
        with caplog.at_level(logging.ERROR, logger="fraiseql"):
            r = post(
                client, url, {"query": "{ __typename }"}, accept=accept, headers={"x-explode": "1"}
            )
        assert r.status_code == 500 and r.headers["content-type"] == f"{media}; charset=utf-8"
        (error,) = r.json()["errors"]
        assert error["message"] == "Internal server error" and "hunter2" not in r.text
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert logged_request_ids(caplog)[-1] == error["extensions"]["requestId"]
    assert "hunter2" in caplog.text  # the server's log has the whole story
    assert_still_serving(client, url)


def test_debug_app_shows_internal_errors() -> None:
    fraiseql.reset_registry()
    declare(Store())

    def context_getter(request: fraiseql.http.Request) -> dict[str, Any]:
        if "x-explode" in request.headers:
            raise RuntimeError("cannot reach 10.1.2.3:5432")
        return {}

    app = fraiseql.create_app(debug=True, context_getter=context_getter)
    fraiseql.reset_registry()
    with serve(app) as base, httpx.Client(timeout=30) as c:
        r = post(c, base + "/graphql", {"query": "{ conflicting { id } }"})
        assert r.status_code == 200
        error = r.json()["errors"][0]
        assert error["message"].startswith(
            'duplicate key value violates unique constraint "tb_user_email_key"'
        )
        assert error["extensions"]["exception"]["type"] == "fraiseql.errors.IntegrityError"
        r = post(c, base + "/graphql", {"query": "{ __typename }"}, headers={"x-explode": "1"})
        assert r.status_code == 500 and error_message(r) == "cannot reach 10.1.2.3:5432"
        r = post(c, base + "/graphql", {"query": "{ user(id: 1) { id } }"})
        assert r.status_code == 200 and r.json() == {"data": {"user": {"id": 1}}}


def test_context_getter(client: httpx.Client, url: str) -> None:
    r = client.post(url, json={"query": "{ whoami }"}, headers={"x-user": "ann", "x-tenant": "t1"})
    assert r.json() == {"data": {"whoami": "ann via t1"}}


def test_persisted_queries(client: httpx.Client, url: str) -> None:
    query = "{ user(id: 5) { lastName } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    ext = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    r = post(client, url, {"extensions": ext})
    assert r.status_code == 200
    assert r.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    r = post(client, url, {"query": query, "extensions": ext})
    assert r.json() == {"data": {"user": {"lastName": "Last5"}}}
    r = post(client, url, {"extensions": ext})
    assert r.json() == {"data": {"user": {"lastName": "Last5"}}}
    r = client.get(url, params={"extensions": json.dumps(ext)})
    assert r.json() == {"data": {"user": {"lastName": "Last5"}}}
    r = post(client, url, {"query": "{ __typename }", "extensions": ext})
    assert r.status_code == 400 and "does not match" in error_message(r)
    # Hex is case-insensitive: registered in one case, found in the other.
    for registered, sent, user_id in (
        (str.upper, str.upper, 4),
        (str.upper, str.lower, 3),
        (str.lower, str.upper, 2),
    ):
        query = f"{{ user(id: {user_id}) {{ lastName }} }}"
        digest = hashlib.sha256(query.encode()).hexdigest()
        ext = {"persistedQuery": {"version": 1, "sha256Hash": registered(digest)}}
        expected = {"data": {"user": {"lastName": f"Last{user_id}"}}}
        assert post(client, url, {"query": query, "extensions": ext}).json() == expected
        ext = {"persistedQuery": {"version": 1, "sha256Hash": sent(digest)}}
        r = post(client, url, {"extensions": ext})
        assert r.status_code == 200 and r.json() == expected
        r = client.get(url, params={"extensions": json.dumps(ext)}, headers={"accept": GQL})
        assert r.status_code == 200 and r.json() == expected
    r = post(client, url, {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": digest}}})
    assert r.status_code == 400 and "Unsupported persistedQuery" in error_message(r)


def test_graphiql_page_health_and_routing(client: httpx.Client, url: str) -> None:
    r = client.get(url, headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "GraphiQL" in r.text and '"endpoint": "/graphql"' in r.text
    r = client.get(url, headers={"accept": "text/html;q=0, application/json"})
    assert r.status_code == 400 and r.headers["content-type"] == f"{JSON}; charset=utf-8"
    assert error_message(r) == "The request has no 'query'."
    r = client.get(url.replace("/graphql", "/health"))
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = client.get(url.replace("/graphql", "/elsewhere"))
    assert r.status_code == 404
    r = client.put(url, json={"query": "{ __typename }"})
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    r = client.get(url, params={"variables": "{"}, headers={"accept": GQL})
    assert (
        r.status_code == 400
        and "'variables' in the query string is not valid JSON" in error_message(r)
    )


def test_introspection_can_be_disabled() -> None:
    fraiseql.reset_registry()
    declare(Store())
    app = fraiseql.create_app(introspection=False)
    fraiseql.reset_registry()
    with serve(app) as base, httpx.Client() as c:
        r = c.post(
            base + "/graphql",
            json={"query": "{ __schema { types { name } } }"},
            headers={"accept": GQL},
        )
        assert r.status_code == 400
        assert "introspection" in error_message(r)
        r = c.post(base + "/graphql", json={"query": "{ __typename }"}, headers={"accept": GQL})
        assert r.json() == {"data": {"__typename": "Query"}}
