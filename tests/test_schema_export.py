"""`fraiseql schema module[:attr]`: graphql-core's SDL or introspection result, run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import graphql
import pytest
from support.graphql_model import Store, declare

import fraiseql

TESTS = Path(__file__).parent

PROJECT = {
    # Every form `attr` may take, over the conformance suite's schema (enums, inputs, mutations).
    "api.py": (
        "import fraiseql\n"
        "from support.graphql_model import Store, declare\n"
        "declare(Store())\n"
        "app = fraiseql.create_app()\n"
        "schema = fraiseql.build_schema()\n"
        "executor = fraiseql.Executor(schema)\n"
        "registry = fraiseql.get_registry()\n"
        "number = 7\n"
    ),
    "broken.py": "import fraiseql\n\nvalue = undefined_name + 1\n",
    "imports_missing.py": "import fraiseql\nimport no_such_dependency\n",
    "nothing.py": "import fraiseql\n",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    for name, text in PROJECT.items():
        (root / name).write_text(text)
    return root


@pytest.fixture(scope="module")
def expected() -> graphql.GraphQLSchema:
    fraiseql.reset_registry()
    declare(Store())
    schema = fraiseql.build_schema()
    fraiseql.reset_registry()
    return schema


def run(project: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`fraiseql schema ...` in the project's directory, as a user types it."""
    return subprocess.run(
        [sys.executable, "-m", "fraiseql.cli", "schema", *argv],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(TESTS)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("target", ["api", "api:app", "api:schema", "api:executor", "api:registry"])
def test_prints_graphql_cores_sdl(
    project: Path, expected: graphql.GraphQLSchema, target: str
) -> None:
    proc = run(project, target)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == graphql.print_schema(expected) + "\n"
    assert proc.stderr == ""


def test_json_is_graphql_cores_introspection_result(
    project: Path, expected: graphql.GraphQLSchema
) -> None:
    proc = run(project, "api:app", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result == graphql.introspection_from_schema(expected)
    # What code generators do with it: a client schema equal to the server's.
    client = graphql.build_client_schema(result)
    assert graphql.print_schema(client) == graphql.print_schema(expected)


@pytest.mark.parametrize(
    "target,message,traced",
    [
        (
            "broken",
            "importing broken failed: NameError: name 'undefined_name' is not defined "
            "({project}/broken.py:3)",
            True,
        ),
        (
            "imports_missing:app",
            "importing imports_missing failed: ModuleNotFoundError: No module named "
            "'no_such_dependency' ({project}/imports_missing.py:2)",
            True,
        ),
        (
            "not_there",
            "importing not_there failed: ModuleNotFoundError: No module named 'not_there'",
            True,
        ),
        ("api:nope", "module api has no attribute 'nope'", False),
        (
            "api:number",
            "api:number is of type int; expected an app from fraiseql.create_app(), a GraphQLSchema, "
            "an Executor or a Registry",
            False,
        ),
        ("my-api:app", "'my-api' is not a module name (expected e.g. myproject.api)", False),
        ("api:", "expected module[:attribute], got 'api:'", False),
        (
            "nothing",
            "fraiseql: no @fraiseql.query is declared; a schema needs at least one",
            True,
        ),
    ],
)
def test_bad_targets_get_one_line(project: Path, target: str, message: str, traced: bool) -> None:
    line = f"fraiseql schema: error: {message.format(project=project)}"
    proc = run(project, target)
    assert proc.returncode == 2 and proc.stdout == ""
    hint = " (--debug shows the traceback)" if traced else ""
    assert proc.stderr == line + hint + "\n"
    # --debug: the traceback of what failed, then the same line.
    proc = run(project, target, "--debug")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.endswith(line + "\n")
    assert proc.stderr.startswith("Traceback (most recent call last):") is traced
