"""Content negotiation: the Accept header's media ranges and q-values (RFC 9110, 12.5.1).

`negotiate(accept, offers)` picks the offered media type the client prefers: the highest
q-value, each offer taking the q of the most specific range that matches it (a type beats
`type/*`, which beats `*/*`); on a tie the offer a range names explicitly, then the range
listed first, then the order of `offers`. `q=0` means "not acceptable". None when nothing
offered is acceptable; a missing or empty header accepts anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["negotiate"]

# One element of the list: a media range and its parameters; quoted strings may hold , and ;
_ELEMENT = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+')
_PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_QVALUE = re.compile(r"0(?:\.\d{0,3})?|1(?:\.0{0,3})?")
# The charsets a range may ask for and still match our UTF-8 responses.
_UTF8 = {"utf-8", "utf8"}


class _Range(NamedTuple):
    type: str
    subtype: str
    charset: str | None
    q: float
    position: int


def _ranges(accept: str) -> list[_Range]:
    """The well-formed media ranges of the header; malformed elements are ignored."""
    out = []
    for position, match in enumerate(_ELEMENT.finditer(accept)):
        element = match.group().strip()
        media, _, params = element.partition(";")
        kind, slash, subtype = media.strip().lower().partition("/")
        if not slash or not kind or not subtype or (kind == "*" and subtype != "*"):
            continue
        q, charset, valid = 1.0, None, True
        for name, value in _PARAM.findall(";" + params):
            name, value = name.lower(), value.strip().strip('"')
            if name == "q":
                valid = _QVALUE.fullmatch(value) is not None
                q = float(value) if valid else 0.0
            elif name == "charset":
                charset = value.lower()
        if valid:
            out.append(_Range(kind, subtype.strip(), charset, q, position))
    return out


def _specificity(r: _Range, kind: str, subtype: str) -> int:
    """How closely a range matches a media type: 2 exact, 1 `type/*`, 0 `*/*`, -1 not at all."""
    if r.charset is not None and r.charset not in _UTF8:
        return -1
    if r.type == "*":
        return 0
    if r.type != kind:
        return -1
    if r.subtype == "*":
        return 1
    return 2 if r.subtype == subtype else -1


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the Accept header prefers (`offers` in the server's order), or None."""
    if accept is None or not accept.strip():
        return offers[0]
    ranges = _ranges(accept)
    best: tuple[float, int, int, int] | None = None
    chosen = None
    for rank, offer in enumerate(offers):
        kind, _, subtype = offer.partition("/")
        matches = [(_specificity(r, kind, subtype), r) for r in ranges]
        matches = [(s, r) for s, r in matches if s >= 0]
        if not matches:
            continue
        # The most specific range decides the q-value; among equals, the first listed.
        specificity, r = max(matches, key=lambda m: (m[0], -m[1].position))
        if r.q <= 0:
            continue
        key = (r.q, specificity, -r.position, -rank)
        if best is None or key > best:
            best, chosen = key, offer
    return chosen
