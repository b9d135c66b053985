"""Numbers for people and for programs: shortest round-trip text, "inf"/"nan", rounding."""

import math
import re

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_SPECIAL = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "nan": math.nan,
            "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf}


def fmt(x: float) -> str:
    """Shortest text that reads back to the same double: 4.0 -> '4', 0.1 -> '0.1', inf -> 'inf'."""
    r = repr(float(x))
    if r.endswith(".0"):
        return r[:-2]
    return r  # 'inf', '-inf', 'nan' and exponent forms are already what we want


def fmt_precision(x: float, digits) -> str:
    """`digits` significant digits for people (table and tree); None means shortest round-trip."""
    if digits is None or not math.isfinite(x):
        return fmt(x)
    return format(float(x), ".%dg" % digits)


def json_number(x: float):
    """A float for RFC 8259 JSON: non-finite numbers become the strings "inf", "-inf", "nan"."""
    if math.isfinite(x):
        return x
    return fmt(x)


def parse_number(text: str):
    """A number the user typed (a binding or a data cell), or None if it is not one.

    Accepts the language's number syntax with an optional sign, and inf/-inf/nan.
    """
    t = text.strip()
    if _NUMBER.fullmatch(t):
        return float(t)
    return _SPECIAL.get(t.lower())
