"""Loads the C extension, turning a failed import into an error that says how to fix it."""

try:
    from fraiseql import _fraiseql as native
except ImportError as exc:  # pragma: no cover - exercised only on broken installs
    raise ImportError(
        "fraiseql: the C extension fraiseql._fraiseql could not be loaded "
        f"({exc}). Reinstall with `pip install --force-reinstall fraiseql`; building it "
        "needs a C compiler and libpq-dev (Debian/Ubuntu package names). "
        "In a source checkout, `make test` installs all of that."
    ) from exc

__all__ = ["native"]
