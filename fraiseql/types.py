"""Decorators that declare the GraphQL API, and the registry they fill.

`@fraiseql.type`, `@fraiseql.interface`, `@fraiseql.error`, `@fraiseql.input`, `@fraiseql.enum`,
`@fraiseql.query`, `@fraiseql.mutation`, `@fraiseql.subscription` and `@fraiseql.field` only
record what they decorate; `fraiseql.build_schema()` turns the registry into a graphql-core
schema, resolving type hints (forward references included) then. `fraiseql.union()` names a
union of types in a hint.
"""

from __future__ import annotations

import builtins
import contextlib
import enum as py_enum
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Annotated, Any, Generic, NewType, TypeVar, Union, overload

from fraiseql._native import native

ID = NewType("ID", str)
"""GraphQL `ID`: serialized as a string (numbers stored in JSON are turned into strings)."""

JSON = NewType("JSON", object)
"""Any JSON value, emitted as stored (keys inside it are not renamed). `dict` maps here too."""

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Connection(Generic[T]):
    """`-> fraiseql.Connection[User]`: a Relay connection of User documents (User having a
    sql_source), with the arguments first/after/last/before/where/orderBy, served by
    `Repository.paginate()` (fraiseql.relay)."""


_FIELD_MARK = "__fraiseql_field__"
# The kind of root field a function was registered as (fraiseql.requires checks it).
OPERATION_MARK = "__fraiseql_operation__"


def to_camel(name: str) -> str:
    """snake_case Python name -> camelCase GraphQL name (`user_posts` -> `userPosts`): the
    rule the rewriter renames stored keys with (src/_fraiseql/camel.h), so the two agree."""
    return native.camel_name(name)


# What a TypeDef declares: an object type, an interface, an error type (an object type that
# a mutation's result union answers refusals with).
TYPE, INTERFACE, ERROR = "type", "interface", "error"

# The fields every @fraiseql.error declares: what a refusal (fraiseql.CommandError) fills.
ERROR_FIELDS = ("code", "message")
# The class attribute marking @fraiseql.error classes (one getattr tells a result's kind).
ERROR_MARK = "__fraiseql_error__"


@dataclass
class TypeDef:
    """An output type (`@fraiseql.type`, `@fraiseql.interface`, `@fraiseql.error`) or input
    type (`@fraiseql.input`) as declared."""

    cls: type
    name: str
    is_input: bool = False
    sql_source: str | None = None
    jsonb_column: str | None = None  # None: "data" when the view has it, else the whole row
    key: str = "id"  # the unique key: ties in orderBy, cursors, expose's `one` field
    resolvers: dict[str, Callable[..., Any]] = dataclass_field(default_factory=dict)
    description: str | None = None
    # An input type's value as resolvers get it from the dict of the fields given; None:
    # an instance of `cls` (the generated commands take the dict: absent is not null).
    build: Callable[[dict[str, Any]], Any] | None = None
    kind: str = TYPE
    # The discriminator's value marking a stored document as this type (None: its name).
    tag: str | None = None
    # An interface's document key naming each stored document's concrete type.
    discriminator: str | None = None


@dataclass(frozen=True)
class UnionDef:
    """A union named by `fraiseql.union` (the metadata of its Annotated hint)."""

    name: str
    members: tuple[type, ...]
    discriminator: str | None = None


def union(name: str, *members: type, discriminator: str | None = None) -> Any:
    """The hint of a GraphQL union named `name` of `@fraiseql.type` classes, for example
    `CreateUserResult = fraiseql.union("CreateUserResult", UserCreated, DuplicateEmail)`.

    `discriminator` names the key of stored documents whose value is the member's `tag`
    (its GraphQL name unless declared): a union read from stored documents needs it. A bare
    `A | B` hint is a union too, named `ResultOf<Mutation>` on a mutation... see
    fraiseql.unions for the names given to unnamed unions.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise TypeError(f"fraiseql.union: the name must be a GraphQL name, got {name!r}")
    if len(members) < 2 or not all(isinstance(m, builtins.type) for m in members):
        raise TypeError(
            f"fraiseql.union({name!r}, ...) takes two or more @fraiseql.type classes, "
            f"got {members!r}"
        )
    return Annotated[Union[members], UnionDef(name, members, discriminator)]  # noqa: UP007


@dataclass
class OperationDef:
    """A root field: a `@fraiseql.query`, `@fraiseql.mutation` or `@fraiseql.subscription`
    function."""

    fn: Callable[..., Any]
    name: str
    description: str | None = None


class Registry:
    """What the decorators declared. Tests call `clear()` (or `fraiseql.reset_registry()`)."""

    def __init__(self) -> None:
        self.types: dict[type, TypeDef] = {}
        self.enums: dict[type, str] = {}
        self.queries: dict[str, OperationDef] = {}
        self.mutations: dict[str, OperationDef] = {}
        self.subscriptions: dict[str, OperationDef] = {}
        # fraiseql.expose's create/update/delete, declared once their table is read
        # (fraiseql.generated_commands.load_commands).
        self.commands: list[Any] = []
        # Bumped on every change so that cached schemas and plans know they are stale.
        self.version = 0

    def clear(self) -> None:
        """Forget every declaration."""
        self.types.clear()
        self.enums.clear()
        self.queries.clear()
        self.mutations.clear()
        self.subscriptions.clear()
        self.commands.clear()
        self.version += 1

    def add_type(self, typedef: TypeDef) -> None:
        self._check_name(typedef.name, typedef.cls)
        self.types[typedef.cls] = typedef
        self.version += 1

    def add_enum(self, cls: type, name: str) -> None:
        self._check_name(name, cls)
        self.enums[cls] = name
        self.version += 1

    def add_operation(self, kind: str, op: OperationDef) -> None:
        table = {"query": self.queries, "mutation": self.mutations}.get(kind, self.subscriptions)
        if op.name in table:
            raise ValueError(f"fraiseql: a {kind} named {op.name!r} is already registered")
        table[op.name] = op
        self.version += 1

    def lookup_names(self) -> dict[str, type]:
        """Class names of every declared type and enum, to resolve forward references."""
        names: dict[str, type] = {cls.__name__: cls for cls in self.types}
        names.update({cls.__name__: cls for cls in self.enums})
        return names

    def _check_name(self, name: str, cls: type) -> None:
        taken = [td.name for c, td in self.types.items() if c is not cls]
        taken += [n for c, n in self.enums.items() if c is not cls]
        if name in taken:
            raise ValueError(f"fraiseql: a GraphQL type named {name!r} is already registered")


_default_registry = Registry()


def get_registry() -> Registry:
    """The registry the decorators fill."""
    return _default_registry


def reset_registry() -> None:
    """Start the default registry afresh (for tests); an app made before keeps its own,
    whose exposed commands it declares when it opens its pool."""
    global _default_registry
    _default_registry.version += 1  # executors of the old one know it changed
    _default_registry = Registry()


def field_names(cls: type) -> tuple[str, ...]:
    """The fields a class declares (its annotations and its bases'), in declaration order."""
    names: dict[str, None] = {}
    for klass in reversed(cls.__mro__):
        for name, hint in vars(klass).get("__annotations__", {}).items():
            text = hint if isinstance(hint, str) else repr(hint)
            if not name.startswith("_") and not text.split("[")[0].endswith("ClassVar"):
                names[name] = None
    return tuple(names)


def _keyword_init(self: Any, **values: Any) -> None:
    # The __init__ of declared output types: UserCreated(user=doc, message="...").
    cls = builtins.type(self)
    names = field_names(cls)
    unknown = [name for name in values if name not in names]
    if unknown:
        raise TypeError(
            f"{cls.__name__}() got unknown field(s) {', '.join(unknown)}; "
            f"its fields are {', '.join(names) or 'none'}"
        )
    missing = [name for name in names if name not in values and not hasattr(cls, name)]
    if missing:
        raise TypeError(
            f"{cls.__name__}() is missing field(s) {', '.join(missing)} (pass None for null)"
        )
    self.__dict__.update(values)


def _declare_type(
    cls: type,
    *,
    is_input: bool,
    sql_source: str | None,
    jsonb_column: str | None,
    key: str = "id",
    kind: str = TYPE,
    tag: str | None = None,
    discriminator: str | None = None,
    registry: Registry | None = None,
) -> type:
    resolvers = {
        attr: value
        for attr, value in vars(cls).items()
        if callable(value) and getattr(value, _FIELD_MARK, False)
    }
    if is_input and resolvers:
        raise TypeError(f"fraiseql: input {cls.__name__} cannot have @fraiseql.field resolvers")
    if kind == ERROR:
        absent = [name for name in ERROR_FIELDS if name not in field_names(cls)]
        if absent:
            raise TypeError(
                f"fraiseql.error {cls.__name__} needs the field(s) "
                f"{', '.join(f'{name}: str' for name in absent)} (what a refusal fills)"
            )
        setattr(cls, ERROR_MARK, True)
    if not is_input and cls.__init__ is object.__init__:  # dataclasses keep their own
        cls.__init__ = _keyword_init  # type: ignore[misc]
    (registry or get_registry()).add_type(
        TypeDef(
            cls=cls,
            name=cls.__name__,
            is_input=is_input,
            sql_source=sql_source,
            jsonb_column=jsonb_column,
            key=key,
            resolvers=resolvers,
            description=inspect.getdoc(cls) if cls.__doc__ else None,
            kind=kind,
            tag=tag,
            discriminator=discriminator,
        )
    )
    return cls


@overload
def type(cls: type[T], /) -> type[T]: ...
@overload
def type(
    *,
    sql_source: str | None = None,
    jsonb_column: str | None = None,
    key: str = "id",
    tag: str | None = None,
) -> Callable[[type[T]], type[T]]: ...


def type(  # noqa: A001 - the public name is fraiseql.type
    cls: type | None = None,
    /,
    *,
    sql_source: str | None = None,
    jsonb_column: str | None = None,
    key: str = "id",
    tag: str | None = None,
) -> Any:
    """Declare a GraphQL object type whose fields are the class's annotations.

    `sql_source` names the read model (`qm_user`, `mv_user`, `tv_user`) holding the
    documents: a Repository call without a view name reads it, and the app's start-up
    checks it exists (`fraiseql.SchemaError` otherwise). `jsonb_column` names the column
    holding each document; left out, it is "data" when the view has that column, and the
    whole row (its columns being the fields) when it has not. `key` is the unique key
    (a column of the view, or a document key): lists are ordered by it when no orderBy is
    given and after their orderBy (so that pages are stable), and cursors end with it.
    `tag` is the value of a union's or interface's discriminator key marking a stored
    document as this type (its GraphQL name by default).

    The class takes its fields as keyword arguments (`UserCreated(user=doc)`) unless it
    defines `__init__`; its bases that are `@fraiseql.interface` classes are the interfaces
    it implements, their fields inherited.
    """
    if cls is not None:
        return _declare_type(cls, is_input=False, sql_source=None, jsonb_column=jsonb_column)
    return lambda c: _declare_type(
        c, is_input=False, sql_source=sql_source, jsonb_column=jsonb_column, key=key, tag=tag
    )


def interface(cls: type | None = None, /, *, discriminator: str | None = None) -> Any:
    """Declare a GraphQL interface whose fields are the class's annotations; the
    `@fraiseql.type` classes deriving from it implement it. `discriminator` names the key of
    stored documents whose value is each concrete type's `tag`: an interface-typed field read
    from stored documents needs it."""

    def declare(c: type) -> type:
        return _declare_type(
            c,
            is_input=False,
            sql_source=None,
            jsonb_column=None,
            kind=INTERFACE,
            discriminator=discriminator,
        )

    return declare if cls is None else declare(cls)


def error(cls: type[T], /) -> type[T]:
    """Declare an error type: an object type with at least `code: str` and `message: str`
    (commonly also `field: str | None = None`). As the member of a mutation's result union
    it answers the mutation's refusals: a `fraiseql.CommandError` raised, or a constraint
    violation of the database, fills it (fraiseql.results); returning one rolls the
    mutation back."""
    return _declare_type(cls, is_input=False, sql_source=None, jsonb_column=None, kind=ERROR)


def declare_output(cls: type[T], kind: str, registry: Registry) -> type[T]:
    """Declare `cls` in `registry` as `@fraiseql.type` (kind TYPE) or `@fraiseql.error`
    (kind ERROR) would: for the classes the framework makes itself."""
    return _declare_type(
        cls, is_input=False, sql_source=None, jsonb_column=None, kind=kind, registry=registry
    )


def input(cls: type[T]) -> type[T]:  # noqa: A001 - the public name is fraiseql.input
    """Declare a GraphQL input type; resolvers receive instances of the class."""
    return _declare_type(cls, is_input=True, sql_source=None, jsonb_column=None)


def enum(cls: type[T]) -> type[T]:
    """Declare a GraphQL enum from a Python `enum.Enum`; GraphQL values are member names."""
    if not (isinstance(cls, builtins.type) and issubclass(cls, py_enum.Enum)):
        raise TypeError(f"fraiseql.enum expects an enum.Enum subclass, got {cls!r}")
    get_registry().add_enum(cls, cls.__name__)
    return cls


def _operation(kind: str, fn: F) -> F:
    if not callable(fn):
        raise TypeError(f"fraiseql.{kind} expects a function, got {fn!r}")
    get_registry().add_operation(
        kind, OperationDef(fn=fn, name=to_camel(fn.__name__), description=inspect.getdoc(fn))
    )
    with contextlib.suppress(AttributeError):  # a bound method takes no attributes
        setattr(fn, OPERATION_MARK, kind)
    return fn


def query(fn: F) -> F:
    """Declare a root query field `name(args) -> T` from `async def name(info, **args) -> T`."""
    return _operation("query", fn)


# How many times a mutation is re-run at most by default after a deadlock or serialization
# failure (retry=True).
DEFAULT_RETRIES = 3
RETRY_MARK = "__fraiseql_retry__"


def marked(fn: Any, mark: str, default: Any = None) -> Any:
    """The `mark` attribute of a declared function, looked up through the wrappers the
    schema puts around it (each names the next as `__wrapped__`)."""
    while fn is not None:
        if hasattr(fn, mark):
            return getattr(fn, mark)
        fn = getattr(fn, "__wrapped__", None)
    return default


def retry_count(retry: int | bool, where: str) -> int:
    """The re-runs `retry=` asks for (True: DEFAULT_RETRIES); TypeError unless valid."""
    count = DEFAULT_RETRIES if retry is True else retry
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise TypeError(f"{where}: retry must be True or an int >= 0, got {retry!r}")
    return count


@overload
def mutation(fn: F, /) -> F: ...
@overload
def mutation(
    *,
    function: str | None = None,
    errors: dict[str, str] | None = None,
    retry: int | bool = 0,
) -> Callable[[F], F]: ...


def mutation(
    fn: Any = None,
    /,
    *,
    function: str | None = None,
    errors: dict[str, str] | None = None,
    retry: int | bool = 0,
) -> Any:
    """Declare a root mutation field; it runs in one transaction when a pool is configured.

    `function="app.fn_create_user"` backs it by that PostgreSQL function (its body then only
    checks, before the call; see fraiseql.function_mutations): the arguments, or the fields of its one
    input argument, are the function's by name; it returns the key(s) of what it wrote,
    read back from the return type's sql_source; `errors` maps SQLSTATEs it raises to
    CommandError codes. `retry=n` (True: 3) re-runs the whole transaction up to n times
    after a deadlock or serialization failure (a CommandError once exhausted).
    """
    retries = retry_count(retry, "fraiseql.mutation")
    if errors is not None and function is None:
        raise TypeError("fraiseql.mutation: errors= maps the SQLSTATEs of a function=")

    def declare(fn: F) -> F:
        target = fn
        if function is not None:
            from fraiseql.function_mutations import function_resolver

            target = function_resolver(fn, function, errors or {})
        if retries:
            setattr(target, RETRY_MARK, retries)
        _operation("mutation", target)
        if target is not fn:
            with contextlib.suppress(AttributeError):
                setattr(fn, OPERATION_MARK, "mutation")
        return fn

    return declare if fn is None else declare(fn)


def subscription(fn: F) -> F:
    """Declare a root subscription field from `async def name(info, **args) -> AsyncIterator[T]`
    (an async generator): each value it yields is one response, executed against the
    subscription's selection. Served over WebSocket (see fraiseql.ws)."""
    return _operation("subscription", fn)


def field(fn: F) -> F:
    """Mark a method of a `@fraiseql.type` class as a computed field.

    It is called as `method(parent, info, **args)`, `parent` being an instance of the class
    whose attributes are the stored document's keys.
    """
    setattr(fn, _FIELD_MARK, True)
    return fn
