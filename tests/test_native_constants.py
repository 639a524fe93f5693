"""The driver's constants come from the C module, the one place they are defined."""

from fraiseql import FIELD_ID, ITEMS_NON_NULL, NON_NULL
from fraiseql._native import native


def test_state_machine_constants_are_exported() -> None:
    assert (native.WANT_READ, native.WANT_WRITE) == (1, 2)  # bits: want may be both
    states = [native.STATE_CONNECTING, native.STATE_READY, native.STATE_BROKEN]
    assert len({*states, native.STATE_CLOSED}) == 4
    modes = [native.MODE_ROWS, native.MODE_ROW, native.MODE_VAL, native.MODE_STATUS]
    modes += [native.MODE_JSON, native.MODE_JSON_MANY, native.MODE_SCRIPT]
    assert len(set(modes)) == 7
    trans = [native.TRANS_IDLE, native.TRANS_ACTIVE, native.TRANS_INTRANS, native.TRANS_INERROR]
    assert len({*trans, native.TRANS_UNKNOWN}) == 5


def test_field_flags_are_the_rewriters() -> None:
    assert (FIELD_ID, NON_NULL, ITEMS_NON_NULL) == (
        native.ID,
        native.NON_NULL,
        native.ITEMS_NON_NULL,
    )
    assert len({FIELD_ID, NON_NULL, ITEMS_NON_NULL}) == 3
