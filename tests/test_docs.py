"""The pages of docs/ with code run as written, block by block, so the docs cannot rot.

Each page runs on a fresh database of its own, in a temporary project directory. How the test
reads a page's fenced blocks, by info string (the first word after the fence):

- `sql`: run against a fresh database, as one script.
- `python` whose first line is `# path/to/file.py`: written to that file in the project
  directory (a temporary one); `# path/to/file.py (continued)` appends to it.
- any other `python`: run in one namespace shared by all such blocks, top-level `await`
  allowed (as in `python -m asyncio`), all on one event loop, in the project directory; what
  it prints is its output.
- `sh`: run by bash in the project directory. A block whose one command starts with
  `fraiseql serve ` or `uvicorn ` starts a server instead, in the background (it replaces
  the previous one; all are stopped at the end), and the test waits until it accepts.
- `json` or `text`: the expected output of the block just before it (a `sql` block with an
  output is one query giving one value). `json` compares parsed JSON, key order included;
  `text` compares the text exactly.

Any other info string fails the test: every block is either run or compared.

What the test substitutes, the only differences between the page and what runs: its own
database for the page's placeholder `postgresql://localhost/bookstore` (also set as
DATABASE_URL for every block), a PgBouncer in transaction mode in front of it (Debian's, as
tests/test_pgbouncer.py runs it) for `postgresql://localhost:6432/bookstore` (PGBOUNCER_URL
likewise), and a free port for the default 127.0.0.1:8000 (servers get `--port N` appended).
Every command resolves to this interpreter's environment. Under `make test-asan` (libasan
preloaded), curl runs without the preload, with which it hangs.

Then the page's GraphQL queries (those its curl commands send) are answered once more by
fraiseql's fast path and by graphql-core over the same schema: the page shows what either
path answers.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql
import pytest
from support.cqrs import fresh_database
from support.pgbouncer import PgBouncer
from support.tcp_relay import free_port

import fraiseql
from fraiseql.executor import format_response

DOCS = Path(__file__).parent.parent / "docs"
# The pages with code; every block of each runs.
PAGES = (
    "tutorial.md",
    "read-models.md",
    "permissions.md",
    "schema-export.md",
    "observability.md",
    "pgbouncer.md",
)
# Pages whose GraphQL queries the fast path answers (the others show refusals, and such).
FAST_PAGES = ("tutorial.md", "read-models.md", "observability.md", "pgbouncer.md")
PLACEHOLDER_DSN = "postgresql://localhost/bookstore"
# A page naming this gets a real PgBouncer (transaction pooling) in front of its database.
PLACEHOLDER_PGBOUNCER = "postgresql://localhost:6432/bookstore"
DEFAULT_ADDRESS = "127.0.0.1:8000"
SERVER_COMMANDS = ("fraiseql serve ", "uvicorn ")
RUNNABLE = ("sql", "python", "sh")
OUTPUTS = ("json", "text")
# curl hangs with libasan preloaded (as PostgreSQL's binaries do): the shell runs it without.
ASAN_SHELL_PRELUDE = 'curl() { env -u LD_PRELOAD curl "$@"; }\n'
PROJECT_PACKAGE = "bookstore"  # the tutorial's package, forgotten by this process afterwards

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_FILE_LINE = re.compile(r"# (\S+\.py)( \(continued\))?\n")


@dataclass
class Block:
    lang: str
    text: str
    line: int  # where the block starts in the page, for failure messages
    output: Block | None = None


def read_blocks(page: Path) -> list[Block]:
    """The page's runnable blocks in order, each with the output block that follows it."""
    source = page.read_text()
    blocks: list[Block] = []
    for m in _FENCE.finditer(source):
        lang = m.group(1).split(" ")[0]
        block = Block(lang, m.group(2), source.count("\n", 0, m.start()) + 1)
        if lang in OUTPUTS:
            previous = blocks[-1] if blocks else None
            assert previous is not None and previous.output is None, (
                f"{page.name}:{block.line}: a {lang} block follows no block that runs"
            )
            previous.output = block
        else:
            assert lang in RUNNABLE, f"{page.name}:{block.line}: unknown info string {lang!r}"
            blocks.append(block)
    return blocks


def ordered(text: str) -> Any:
    """JSON with key order kept (objects become lists of pairs)."""
    return json.loads(text, object_pairs_hook=list)


def check_output(block: Block, got: str) -> None:
    expected = block.output
    if expected is None:
        return
    where = f"line {expected.line}"
    if expected.lang == "json":
        assert ordered(got) == ordered(expected.text), f"{where}: got {got}"
    else:
        assert got.rstrip("\n") == expected.text.rstrip("\n"), f"{where}: got\n{got}"


class PageRun:
    """Runs a page's blocks: the project directory, the environment, the namespace, the servers."""

    def __init__(self, page: Path, project: Path, dsn: str) -> None:
        self.page = page
        self.project = project
        self.dsn = dsn
        self.port = free_port()
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "DATABASE_URL": dsn,
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        }
        self.shell_prelude = ASAN_SHELL_PRELUDE if "LD_PRELOAD" in os.environ else ""
        self.namespace: dict[str, Any] = {"__name__": "tutorial"}
        self.loop = asyncio.new_event_loop()
        self.server: subprocess.Popen[bytes] | None = None
        self.server_log = project / "server.log"
        self.pgbouncer: PgBouncer | None = None
        if PLACEHOLDER_PGBOUNCER in page.read_text():
            self.pgbouncer = PgBouncer(dsn, {"bookstore": 4}).start()
            self.env["PGBOUNCER_URL"] = self.pgbouncer.dsn("bookstore")

    def substitute(self, text: str) -> str:
        if self.pgbouncer is not None:
            text = text.replace(PLACEHOLDER_PGBOUNCER, self.pgbouncer.dsn("bookstore"))
        return text.replace(PLACEHOLDER_DSN, self.dsn).replace(
            DEFAULT_ADDRESS, f"127.0.0.1:{self.port}"
        )

    def run(self, block: Block) -> None:
        text = self.substitute(block.text)
        getattr(self, f"run_{block.lang}")(block, text)

    def run_sql(self, block: Block, text: str) -> None:
        async def go() -> str:
            conn = await fraiseql.connect(self.dsn)
            try:
                if block.output is None:
                    await conn.execute(text)
                    return ""
                value = await conn.fetchval(text)
                return value if isinstance(value, str) else json.dumps(value)
            finally:
                await conn.close()

        check_output(block, self.loop.run_until_complete(go()))

    def run_python(self, block: Block, text: str) -> None:
        file = _FILE_LINE.match(text)
        if file:
            path = self.project / file.group(1)
            with path.open("a" if file.group(2) else "w") as f:
                f.write(text[file.end() :] if file.group(2) else text)
            return
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        code = compile(text, f"{self.page.name}:{block.line}", "exec", flags=flags)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = eval(code, self.namespace)  # noqa: S307 - the page's own code, on purpose
            if asyncio.iscoroutine(result):
                self.loop.run_until_complete(result)
        check_output(block, out.getvalue())

    def run_sh(self, block: Block, text: str) -> None:
        if text.startswith(SERVER_COMMANDS):
            assert "\n" not in text.strip(), f"line {block.line}: a server block is one command"
            self.start_server(shlex.split(text) + ["--port", str(self.port)])
            return
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", self.shell_prelude + text],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"line {block.line}: exit {done.returncode}\n{done.stderr}"
        check_output(block, done.stdout)

    def start_server(self, argv: list[str]) -> None:
        self.stop_server()
        with self.server_log.open("wb") as log:
            self.server = subprocess.Popen(
                argv, cwd=self.project, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.server.poll() is None, self.server_log.read_text()
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.1)

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(30)
            self.server = None

    def close(self) -> None:
        self.stop_server()
        self.loop.close()
        if self.pgbouncer is not None:
            self.pgbouncer.close()


def graphql_requests(blocks: list[Block]) -> list[tuple[str, dict[str, Any] | None]]:
    """The (query, variables) of every query (not mutation) the page's curl commands send."""
    found = []
    for block in blocks:
        if block.lang != "sh" or "curl " not in block.text:
            continue
        words = shlex.split(block.text.replace("\\\n", " "))
        for flag, body in zip(words, words[1:], strict=False):
            if flag == "-d":
                request = json.loads(body)
                if not request["query"].lstrip().startswith("mutation"):
                    found.append((request["query"], request.get("variables")))
    return found


@pytest.fixture(params=PAGES)
def page(
    request: pytest.FixtureRequest,
    pg_server: Any,
    pg_dsn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PageRun]:
    name = request.param
    dsn = fresh_database(pg_server, pg_dsn, "docs_" + name.removesuffix(".md").replace("-", "_"))
    monkeypatch.setenv("DATABASE_URL", dsn)  # the page's Python reads it too
    monkeypatch.chdir(tmp_path)  # and runs in the project directory, as its shell does
    fraiseql.reset_registry()
    sys.path.insert(0, str(tmp_path))  # the tutorial's `import bookstore.api`
    runner = PageRun(DOCS / name, tmp_path, dsn)
    if runner.pgbouncer is not None:  # the page's own export of it, for its Python
        monkeypatch.setenv("PGBOUNCER_URL", runner.env["PGBOUNCER_URL"])
    try:
        yield runner
    finally:
        runner.close()
        sys.path.remove(str(tmp_path))
        for module in [n for n in sys.modules if n.partition(".")[0] == PROJECT_PACKAGE]:
            del sys.modules[module]
        fraiseql.reset_registry()


@pytest.mark.parametrize("name", PAGES)
def test_blocks_follow_the_convention(name: str) -> None:
    blocks = read_blocks(DOCS / name)
    assert blocks and all(b.lang in RUNNABLE for b in blocks)
    assert any(b.output is not None for b in blocks)


def test_every_page_with_code_runs() -> None:
    with_code = {p.name for p in DOCS.glob("*.md") if "```" in p.read_text()}
    assert with_code == set(PAGES)


_LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_relative_links_resolve(page: str) -> None:
    for target in _LINK.findall((DOCS / page).read_text()):
        if "://" in target:
            continue
        path, _, anchor = target.partition("#")
        linked = (DOCS / path).resolve() if path else DOCS / page
        assert linked.is_file(), f"{page}: {target} names no file"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.MULTILINE)
            assert anchor in {slug(h) for h in headings}, f"{page}: {target} names no heading"


def test_the_tutorial_covers_the_path_to_a_served_api() -> None:
    blocks = read_blocks(DOCS / "tutorial.md")
    assert {b.lang for b in blocks} == set(RUNNABLE)
    assert len(graphql_requests(blocks)) >= 3
    text = "".join(b.text for b in blocks)
    for step in (
        "CREATE TABLE tb_",
        "ReadModel(",
        "fraiseql migrate",
        "@fraiseql.type(sql_source=",
        "Repository(",
        "@fraiseql.mutation",
        "fraiseql serve ",
        "app.mount(",
    ):
        assert step in text, step


def test_page_runs_as_written(page: PageRun) -> None:
    blocks = read_blocks(page.page)
    for block in blocks:
        page.run(block)
    requests = graphql_requests(blocks)
    if not requests:
        return
    # The page's queries: the fast path answers each, byte for byte as graphql-core does.
    schema = fraiseql.build_schema()
    executor = fraiseql.Executor(schema)

    async def both() -> list[tuple[bytes, bytes]]:
        answers = []
        async with fraiseql.create_pool(page.dsn) as pool:
            for query, variables in requests:
                ours = await executor.execute(query, variables, context={"db": pool})
                theirs = await graphql.graphql(
                    schema, query, variable_values=variables, context_value={"db": pool}
                )
                answers.append((ours, format_response(theirs.data, theirs.errors)))
        return answers

    for ours, theirs in page.loop.run_until_complete(both()):
        assert ours == theirs
    if page.page.name in FAST_PAGES:
        assert executor.fast_runs == len(requests)
