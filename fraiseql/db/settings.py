"""PostgreSQL settings a connection applies: at connect (output formats the C decoder parses,
server settings, statement_timeout) and per call (`timeout=`, `context=`), transaction-local
and, inside a transaction block, set back right after the call in the same request.

Behind a transaction pooler (prepared_statements=False) a connection's settings cannot live
in its session, which PgBouncer shares between clients (and whose startup `options` it
refuses): they are applied to every transaction instead, ahead of the call's own."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fraiseql.errors import InterfaceError

# Output formats the C decoder parses; set on every connection.
_FORCED_SETTINGS = {
    "DateStyle": "ISO",
    "IntervalStyle": "postgres",
    "bytea_output": "hex",
    "client_encoding": "UTF8",
}
_GUC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_PREFIX_SQL: dict[tuple[int, int, bool], str] = {}
# Inside an explicit transaction set_config(..., true) would outlive the call: the prefix
# keeps the values it replaces (as the server has them) here, and this restores them.
_SAVED_GUC = "fraiseql.saved_settings"
_RESTORE_SQL = (
    f"SELECT set_config(key, value, true) FROM "
    f"json_each_text(nullif(current_setting('{_SAVED_GUC}', true), '')::json)"
)


def check_session_settings(session_settings: Mapping[str, str] | None) -> dict[str, str]:
    """session_settings (context key -> setting name) as a dict; each name is checked, since
    it is sent as a bind parameter of set_config and must name a setting."""
    out = dict(session_settings or {})
    for key, guc in out.items():
        if not isinstance(guc, str) or not _GUC_NAME.match(guc):
            raise InterfaceError(
                f"session setting for {key!r} must be a setting name like "
                f"'app.tenant_id', got {guc!r}"
            )
    return out


def connection_settings(
    server_settings: Mapping[str, str] | None, statement_timeout: float | None
) -> dict[str, str]:
    """What every statement of a connection runs under: the server settings given,
    statement_timeout and the forced output formats."""
    settings = {**(server_settings or {}), **_FORCED_SETTINGS}
    if statement_timeout is not None:
        settings["statement_timeout"] = _timeout_ms(statement_timeout)
    return settings


def startup_options(settings: Mapping[str, str]) -> tuple[str, str]:
    """client_encoding and the libpq `options` string applying connection_settings() to a
    new session."""
    rest = dict(settings)
    client_encoding = rest.pop("client_encoding")
    return client_encoding, _options(rest)


def transaction_settings(settings: Mapping[str, str]) -> tuple[str, ...]:
    """connection_settings() as call_settings' `base` (name, value, name, value, ...), for a
    connection that applies them to each transaction; client_encoding stays a startup
    parameter (PgBouncer keeps it per client)."""
    return tuple(v for k, val in settings.items() if k != "client_encoding" for v in (k, val))


def call_settings(
    session_settings: Mapping[str, str],
    timeout: float | None,
    context: Mapping[str, Any] | None,
    in_block: bool,
    base: tuple[str, ...] = (),
) -> tuple[str | None, tuple, str | None]:
    """The statements around one call applying the connection's base settings (pairs from
    transaction_settings, not set back), then its timeout and the settings its context names:
    (prefix SQL or None, its arguments, restore SQL or None). Inside a transaction block
    (in_block) the prefix saves the values the call's own settings replace and the restore
    sets them back."""
    args: list[str] = []
    if context and session_settings:
        for key, guc in session_settings.items():
            value = context.get(key)
            if value is not None:
                args += (guc, str(value))
    if timeout is not None:
        args += ("statement_timeout", _timeout_ms(timeout))
    if not args and not base:
        return None, (), None
    saving = in_block and bool(args)
    sql = _prefix_sql(len(base) // 2, len(args) // 2, saving)
    return sql, (*base, *args), _RESTORE_SQL if saving else None


def _prefix_sql(n_base: int, n: int, saving: bool) -> str:
    """One statement applying n_base + n settings transaction-locally (names are bind
    parameters too); when saving, it first stores the values the last n replace for
    _RESTORE_SQL (a materialized CTE runs before the outer select list)."""
    sql = _PREFIX_SQL.get((n_base, n, saving))
    if sql is None:
        calls = ", ".join(
            f"set_config(${2 * i + 1}, ${2 * i + 2}, true)" for i in range(n_base + n)
        )
        sql = f"SELECT {calls}"
        if saving:
            old = ", ".join(
                f"${2 * i + 1}::text, current_setting(${2 * i + 1}, true)"
                for i in range(n_base, n_base + n)
            )
            sql = (
                f"WITH saved AS MATERIALIZED (SELECT set_config('{_SAVED_GUC}', "
                f"json_build_object({old})::text, true)) {sql} FROM saved"
            )
        _PREFIX_SQL[(n_base, n, saving)] = sql
    return sql


def _options(settings: Mapping[str, str]) -> str:
    """libpq's `options` connection parameter: `-c name=value` each, spaces escaped."""

    def esc(v: str) -> str:
        return str(v).replace("\\", "\\\\").replace(" ", "\\ ")

    return " ".join(f"-c {esc(k)}={esc(v)}" for k, v in settings.items())


def _timeout_ms(timeout: float) -> str:
    """A timeout in seconds as statement_timeout's milliseconds (at least 1: 0 means none)."""
    if timeout <= 0:
        raise InterfaceError(f"timeout must be positive, got {timeout!r}")
    return str(max(1, int(timeout * 1000)))
