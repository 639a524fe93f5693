"""Queries for the differential tests: hand-written cases plus generated selections.

Each case is (query, variables, operation_name). The generator is seeded, so the corpus is
the same on every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

Case = tuple[str, "dict[str, Any] | None", "str | None"]

HAND_WRITTEN: list[Case] = [
    # plain selections, nesting, lists, nulls
    ("{ user(id: 1) { id firstName lastName email } }", None, None),
    ("{ user(id: 2) { id userPosts { id title content createdAt } } }", None, None),
    ("{ user(id: 4) { id userPosts { id } } }", None, None),  # null list
    ("{ user(id: 3) { score birthday bestPost { id title } } }", None, None),
    ("{ user(id: 1) { bestPost { id } } }", None, None),  # null object
    ("{ user(id: 2) { tags profile externalId balance code } }", None, None),
    # stored text: a Decimal's scale and a Float's digits kept on both paths (20.50, 3)
    ("{ storedUser(id: 2) { balance score code } }", None, None),
    ("{ storedUser(id: 2) { balance score fullName } }", None, None),  # via graphql-core
    ("{ a: storedUser(id: 4) { balance } b: storedUser(id: 3) { score } }", None, None),
    ("{ user(id: 5) { userPosts { comments { id body likes } } } }", None, None),
    ("{ users { id } }", None, None),
    ("{ users(limit: 2, offset: 1) { id firstName } }", None, None),
    ("{ users(limit: 0) { id } }", None, None),
    ("{ maybeUser(id: 42) { id } }", None, None),
    ("{ maybeUser(id: 2) { id status } }", None, None),
    ("{ postsOf(userId: 3) { id title comments { body } } }", None, None),
    ("{ postsOf(userId: 4) { id } }", None, None),
    ("{ postsOf(userId: 99) { id } }", None, None),
    ("{ user(id: 1) { status } }", None, None),
    ("{ user(id: 1) { role } }", None, None),  # enum stored as values: graphql-core path
    ("{ users { id role status } }", None, None),
    ("{ usersByStatus(status: BANNED) { id status } }", None, None),
    ("{ search { id } }", None, None),
    ("{ search(filter: {minId: 3}) { id } }", None, None),
    ("{ search(filter: {status: ACTIVE, minId: 2}) { id status } }", None, None),
    # aliases
    ("{ a: user(id: 1) { x: id y: firstName } b: user(id: 2) { x: id } }", None, None),
    ("{ user(id: 1) { id ID: id firstName first: firstName } }", None, None),
    ("{ user(id: 2) { posts: userPosts { t: title i: id } } }", None, None),
    ("{ one: users(limit: 1) { id } two: users(limit: 2) { id } }", None, None),
    # merging of repeated fields
    ("{ user(id: 2) { id userPosts { id } userPosts { title } id } }", None, None),
    (
        "{ user(id: 2) { ... on User { id } id firstName ... on User { firstName lastName } } }",
        None,
        None,
    ),
    # fragments
    ("fragment F on User { id email } { user(id: 1) { ...F firstName } }", None, None),
    (
        "fragment P on Post { id title } fragment U on User { id userPosts { ...P } } { user(id: 3) { ...U } }",
        None,
        None,
    ),
    ("fragment P on Post { id } { user(id: 2) { userPosts { ...P ...P title } } }", None, None),
    ("{ user(id: 1) { ... { id } ... on User { email } } }", None, None),
    ("query Q { user(id: 1) { ...F } } fragment F on User { id __typename }", None, "Q"),
    # __typename
    ("{ __typename }", None, None),
    ("{ __typename user(id: 1) { __typename id } }", None, None),
    (
        "{ user(id: 2) { __typename userPosts { __typename id comments { __typename } } } }",
        None,
        None,
    ),
    ("{ user(id: 1) { t: __typename tt: __typename } }", None, None),
    # variables
    ("query($id: Int!) { user(id: $id) { id firstName } }", {"id": 3}, None),
    ("query($id: Int!) { maybeUser(id: $id) { id } }", {"id": 77}, None),
    ("query($l: Int = 2) { users(limit: $l) { id } }", None, None),
    ("query($l: Int = 2) { users(limit: $l) { id } }", {"l": 4}, None),
    ("query($f: UserFilter) { search(filter: $f) { id } }", {"f": {"minId": 4}}, None),
    ("query($f: UserFilter) { search(filter: $f) { id } }", {"f": None}, None),
    ("query($s: Status!) { usersByStatus(status: $s) { id } }", {"s": "ACTIVE"}, None),
    ("query($n: String) { greeting(name: $n) }", {"n": "you"}, None),
    ("query($n: String) { greeting(name: $n) }", {}, None),
    # directives
    ("query($x: Boolean!) { user(id: 1) { id email @include(if: $x) } }", {"x": True}, None),
    ("query($x: Boolean!) { user(id: 1) { id email @include(if: $x) } }", {"x": False}, None),
    ("query($x: Boolean!) { user(id: 1) { id email @skip(if: $x) } }", {"x": True}, None),
    (
        "query($x: Boolean!) { user(id: 2) { userPosts @skip(if: $x) { id } id } }",
        {"x": False},
        None,
    ),
    (
        "{ user(id: 1) { id @skip(if: true) email @include(if: false) firstName @include(if: true) } }",
        None,
        None,
    ),
    (
        "query($x: Boolean!) { a: user(id: 1) @include(if: $x) { id } b: user(id: 2) { id } }",
        {"x": False},
        None,
    ),
    (
        "query($x: Boolean!) { a: user(id: 1) @include(if: $x) { id } b: user(id: 2) { id } }",
        {"x": True},
        None,
    ),
    (
        "query($x: Boolean!) { user(id: 1) { ... on User @include(if: $x) { email } id } }",
        {"x": True},
        None,
    ),
    (
        "query($x: Boolean!, $y: Boolean!) { user(id: 1) { ...F @skip(if: $y) id } }"
        " fragment F on User { email @include(if: $x) }",
        {"x": True, "y": False},
        None,
    ),
    (
        "query($x: Boolean!, $y: Boolean!) { user(id: 1) { ...F @skip(if: $y) id } }"
        " fragment F on User { email @include(if: $x) }",
        {"x": True, "y": True},
        None,
    ),
    ("{ user(id: 1) { id email @skip(if: false) @include(if: true) } }", None, None),
    # A null `if` (a defaulted nullable variable set to null): graphql-core's error, not the
    # variant compiled for false.
    ("query($x: Boolean = true) { user(id: 1) { id email @include(if: $x) } }", {"x": False}, None),
    ("query($x: Boolean = true) { user(id: 1) { id email @include(if: $x) } }", {"x": None}, None),
    ("query($x: Boolean = false) { user(id: 1) @skip(if: $x) { id } }", {}, None),
    # multiple root fields, mixed paths
    ("{ user(id: 1) { id } users(limit: 2) { id } maybeUser(id: 9) { id } }", None, None),
    ("{ greeting user(id: 1) { id } }", None, None),
    ("{ user(id: 1) { fullName } }", None, None),
    ('{ user(id: 1) { fullName(separator: "-") id } }', None, None),
    ("{ users { id fullName } }", None, None),
    # operation names
    ("query A { user(id: 1) { id } } query B { user(id: 2) { id } }", None, "B"),
    ("query A { user(id: 1) { id } } query B { user(id: 2) { id } }", None, None),
    ("query A { user(id: 1) { id } }", None, "C"),
    # introspection
    ('{ __type(name: "User") { name fields { name } } }', None, None),
    ("{ __schema { queryType { name } mutationType { name } } }", None, None),
    # request errors
    ("{ user(id: 1) { id ", None, None),
    ("{ nope }", None, None),
    ("{ user(id: 1) { nope } }", None, None),
    ("{ user(id: 1, extra: 2) { id } }", None, None),
    ("{ user { id } }", None, None),
    ('{ user(id: "x") { id } }', None, None),
    ("{ user(id: 1) }", None, None),
    ("{ user(id: 1) { id { x } } }", None, None),
    ("query($id: Int!) { user(id: $id) { id } }", {"id": "abc"}, None),
    ("query($id: Int!) { user(id: $id) { id } }", {}, None),
    ("query($id: Int!) { user(id: $id) { id } }", {"id": None}, None),
    ("query($f: UserFilter) { search(filter: $f) { id } }", {"f": {"minId": "x"}}, None),
    ("query($f: UserFilter) { search(filter: $f) { id } }", {"f": {"bogus": 1}}, None),
    ("query($s: Status!) { usersByStatus(status: $s) { id } }", {"s": "NOPE"}, None),
    ("fragment F on User { id } { user(id: 1) { id } }", None, None),
    ("{ user(id: 1) { ...Missing } }", None, None),
    ("query($x: Boolean!) { user(id: 1) { id } }", {"x": "yes"}, None),
    ("{ user(id: 1) { id @include } }", None, None),
    ("subscription { user(id: 1) { id } }", None, None),
    ("", None, None),
    # field errors and null propagation
    ("{ failing(id: 3) { id } }", None, None),
    ("{ failing(id: 3) { id } user(id: 1) { id } }", None, None),
    ("{ failingRequired { id } }", None, None),
    ("{ refused(id: 3) { id } user(id: 1) { id } }", None, None),  # a GraphQLError: kept
    ("{ conflicting { id } refused(id: 1) { id } failing(id: 2) { id } }", None, None),
    ("{ user(id: 2) { id } conflicting { firstName } }", None, None),
    # fast root next to graphql-core's roots (computed field): their errors join the fast data
    (
        "{ user(id: 1) { id } c: conflicting { fullName } r: refused(id: 4) { fullName } }",
        None,
        None,
    ),
    ("{ user(id: 1) { id } failingRequired { id } }", None, None),
    ("{ user(id: 42) { id } }", None, None),  # null in a non-null root
    ("{ brokenUser { id firstName } }", None, None),
    ("{ brokenUser { id userPosts { id title } } }", None, None),
    ("{ brokenUser { id } }", None, None),
    ("{ brokenUser { userPosts { id } } }", None, None),
    ("{ brokenUser { id tags } }", None, None),  # a null item in a [String!]! list
    # mutations
    (
        'mutation { createUser(input: {firstName: "Ann", lastName: "Lee", email: "a@x"}) { id firstName tags } }',
        None,
        None,
    ),
    (
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id email tags userPosts { id } } }",
        {"i": {"firstName": "B", "lastName": "C", "email": "b@x", "tags": ["x"]}},
        None,
    ),
    (
        'mutation { a: createUser(input: {firstName: "A", lastName: "A", email: "a"}) { id }'
        ' b: createUser(input: {firstName: "B", lastName: "B", email: "b"}) { id } }',
        None,
        None,
    ),
    ("mutation { deleteUser(id: 2) }", None, None),
    ("mutation { deleteUser(id: 2) again: deleteUser(id: 2) }", None, None),
    ("mutation { failingMutation(id: 1) { id } }", None, None),
    ('mutation { createUser(input: {firstName: "A"}) { id } }', None, None),
    (
        "mutation M($i: CreateUserInput!) { createUser(input: $i) { id } }",
        {"i": {"firstName": 1}},
        "M",
    ),
    (
        'mutation { createUser(input: {firstName: "Z", lastName: "Z", email: "z"}) { id fullName __typename } }',
        None,
        None,
    ),
    # the field skipped, a lone __typename left: the Mutation type's name
    (
        "mutation($go: Boolean!) { createUser(input: {firstName: "
        '"S", lastName: "S", email: "s"}) @include(if: $go) { id } __typename }',
        {"go": False},
        None,
    ),
]

# ---------------------------------------------------------------- generated cases


@dataclass(frozen=True)
class Shape:
    """What the generator may select: leaf and object fields per type, root fields."""

    leaves: dict[str, list[str]]
    objects: dict[str, dict[str, str]]  # field -> its type
    roots: list[tuple[str, str]]  # (field with arguments, "{n}" a small int; its type)
    computed: dict[str, str] = field(default_factory=dict)  # type -> a computed field


TEST_SHAPE = Shape(
    leaves={
        "User": [
            "id",
            "firstName",
            "lastName",
            "email",
            "createdAt",
            "birthday",
            "status",
            "score",
            "tags",
            "profile",
            "externalId",
            "balance",
            "code",
        ],
        "Post": ["id", "title", "content", "createdAt"],
        "Comment": ["id", "body", "likes"],
    },
    objects={
        "User": {"userPosts": "Post", "bestPost": "Post"},
        "Post": {"comments": "Comment"},
        "Comment": {},
    },
    roots=[
        ("user(id: {n})", "User"),
        ("maybeUser(id: {n})", "User"),
        ("users(limit: {n})", "User"),
        ("users(offset: {n})", "User"),
        ("search(filter: {{minId: {n}}})", "User"),
        ("postsOf(userId: {n})", "Post"),
    ],
    computed={"User": "fullName"},
)

# The seed's API (fraiseql.examples.blog_api) over the blog example.
SEED_SHAPE = Shape(
    leaves={
        "User": ["id", "firstName", "lastName", "email", "createdAt"],
        "Post": ["id", "title", "content", "createdAt"],
    },
    objects={"User": {"userPosts": "Post"}, "Post": {}},
    roots=[("user(id: {n})", "User"), ("users(limit: {n})", "User")],
)


class _Generator:
    def __init__(self, rng: random.Random, shape: Shape) -> None:
        self.rng = rng
        self.shape = shape
        self.fragments: list[str] = []
        self.flags: dict[str, bool] = {}

    def selection(self, typename: str, depth: int) -> str:
        rng = self.rng
        leaves = self.shape.leaves[typename]
        fields = rng.sample(leaves, rng.randint(1, min(4, len(leaves))))
        parts = []
        for name in fields:
            text = name
            if rng.random() < 0.2:
                text = f"{name}_{rng.randint(0, 9)}: {name}"
            parts.append(text + self.directive())
        if depth < 3:
            for name, child in self.shape.objects[typename].items():
                if rng.random() < 0.5:
                    alias = f"{name}A: " if rng.random() < 0.2 else ""
                    parts.append(
                        f"{alias}{name}{self.directive()} {{ {self.selection(child, depth + 1)} }}"
                    )
        if rng.random() < 0.25:
            parts.append("__typename")
        if typename in self.shape.computed and rng.random() < 0.05:
            parts.append(self.shape.computed[typename])
        rng.shuffle(parts)
        if len(parts) > 1 and rng.random() < 0.3:  # move a part into a fragment
            moved = parts.pop()
            if rng.random() < 0.5:
                parts.append(f"... on {typename}{self.directive()} {{ {moved} }}")
            else:
                name = f"F{len(self.fragments)}"
                self.fragments.append(f"fragment {name} on {typename} {{ {moved} }}")
                parts.append(f"...{name}{self.directive()}")
        return " ".join(parts)

    def directive(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.9:
            return ""
        if roll < 0.95:
            return f" @{rng.choice(['include', 'skip'])}(if: {rng.choice(['true', 'false'])})"
        var = f"v{len(self.flags)}"
        self.flags[var] = rng.random() < 0.5
        return f" @{rng.choice(['include', 'skip'])}(if: ${var})"

    def case(self) -> Case:
        rng = self.rng
        roots = []
        for i in range(1 if rng.random() < 0.7 else rng.randint(2, 3)):
            template, typename = rng.choice(self.shape.roots)
            alias = f"r{i}: " if i or rng.random() < 0.2 else ""
            field = template.format(n=rng.randint(0, 6))
            roots.append(f"{alias}{field} {{ {self.selection(typename, 0)} }}")
        if rng.random() < 0.1:
            roots.append("__typename")
        header = ""
        if self.flags:
            header = "query(" + ", ".join(f"${v}: Boolean!" for v in self.flags) + ") "
        query = header + "{ " + " ".join(roots) + " } " + " ".join(self.fragments)
        return query.strip(), (dict(self.flags) if self.flags else None), None


def generated(count: int, seed: int = 4, shape: Shape = TEST_SHAPE) -> list[Case]:
    """`count` random well-formed queries over `shape`."""
    rng = random.Random(seed)
    return [_Generator(rng, shape).case() for _ in range(count)]


CORPUS: list[Case] = HAND_WRITTEN + generated(200)

# Fields and root fields behind fraiseql.requires (see graphql_model), run under each of its
# request contexts: allowed ones take the fast path, a refusal hands the request over.
PERMISSION_CASES: list[Case] = [
    ("{ user(id: 1) { id phone } }", None, None),  # non-null: the null reaches the root
    ("{ maybeUser(id: 1) { id phone } }", None, None),
    ("{ users { id salary userPosts { id draftNotes } } }", None, None),  # async, in lists
    ("{ user(id: 3) { bestPost { draftNotes } userPosts { draftNotes } } }", None, None),
    ("{ user(id: 4) { userPosts { draftNotes } } }", None, None),  # null list: never asked
    ("{ user(id: 2) { bestPost { draftNotes } } }", None, None),  # null object: never asked
    ("{ user(id: 1) { id audit } }", None, None),  # the predicate raises: masked
    ("{ user(id: 1) { p: phone q: phone s: salary } }", None, None),
    ("fragment F on User { phone salary } { users(limit: 2) { id ...F } }", None, None),
    ("query($p: Boolean!) { user(id: 1) { id phone @include(if: $p) } }", {"p": False}, None),
    ("query($p: Boolean!) { user(id: 1) { id phone @include(if: $p) } }", {"p": True}, None),
    ("{ staffUser(id: 1) { id phone } }", None, None),  # nullable root
    ("{ me { id salary } }", None, None),  # non-null root, async predicate
    ("{ a: me { id } b: user(id: 3) { id } c: maybeUser(id: 1) { salary } }", None, None),
    ("{ user(id: 1) { id initials } }", None, None),  # computed field
    ("{ searched: search(filter: {minId: 4}) { id salary fullName } }", None, None),
    ("mutation { banUser(id: 1) { id status phone } }", None, None),
]

# The generated corpus with the guarded fields among the leaves.
PERMISSION_SHAPE = Shape(
    leaves={
        **TEST_SHAPE.leaves,
        "User": [*TEST_SHAPE.leaves["User"], "phone", "salary"],
        "Post": [*TEST_SHAPE.leaves["Post"], "draftNotes"],
    },
    objects=TEST_SHAPE.objects,
    roots=[*TEST_SHAPE.roots, ("staffUser(id: {n})", "User")],
)
PERMISSION_CORPUS: list[Case] = PERMISSION_CASES + generated(60, seed=13, shape=PERMISSION_SHAPE)
