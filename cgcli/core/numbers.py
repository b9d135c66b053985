"""Numbers for people and for programs: shortest round-trip text, "inf"/"nan", rounding."""

import json
import math
import re

# The language's number syntax with a sign. Only ASCII digits, and no nested
# ambiguity: after the digits comes a "." (then digits), an exponent or the end,
# so a failed match backtracks at most once per character (linear time).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "nan": math.nan,
            "+nan": math.nan, "-nan": math.nan,
            "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf}
_BLANK = " \t\r\n\f\v"  # ASCII white space around a number; float() would also take Unicode's


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

    Accepts the language's number syntax with an optional sign (ASCII digits only),
    and inf/-inf/nan in any case; not what else float() takes (1_000, Unicode
    digits and spaces). White space around it is ASCII's.
    """
    t = text.strip(_BLANK)
    if _NUMBER.fullmatch(t):
        return float(t)
    if len(t) <= 9 and t.isascii():
        return _SPECIAL.get(t.lower())
    return None


def int_to_float(n: int) -> float:
    """A JSON integer as a double: the nearest one, or +-inf beyond the range of
    doubles (as a JSON 1e999 reads), where float() would raise OverflowError."""
    try:
        return float(n)
    except OverflowError:
        return math.inf if n > 0 else -math.inf


def finite_json(v):
    """`v` with every non-finite float in it as the string "inf", "-inf" or "nan"
    (valid RFC 8259 JSON: json.dumps would write Infinity and NaN)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else fmt(v)
    if isinstance(v, dict):
        return {k: finite_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [finite_json(x) for x in v]
    return v


def json_text(v):
    """json.dumps(v) as valid RFC 8259 JSON: non-finite numbers as strings."""
    try:
        return json.dumps(v, allow_nan=False)
    except ValueError:
        return json.dumps(finite_json(v))
