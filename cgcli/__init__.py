"""cgraph: a command-line expression differentiator, and a library.

    >>> from cgcli import parse, evaluate
    >>> res = evaluate(parse("(x+y)*z"), {"x": 1, "y": 3, "z": -3})
    >>> res.value, res.gradients
    (-12.0, {'x': -3.0, 'y': -3.0, 'z': 4.0})

The names below are loaded on first use (from cgcli.api), so that `import cgcli`
and the `cgraph` command import only what they need: not numpy, Lark, Rich or click.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "__version__", "parse", "parse_program", "evaluate", "differentiate", "columns",
    "Program", "Result", "Node", "ColumnsResult", "Jacobian", "CgraphError", "UsageError",
    "fit", "minimize", "train", "FitResult", "MinimizeResult", "TrainResult",
]

if TYPE_CHECKING:  # pragma: no cover
    from .api import (
        CgraphError,
        ColumnsResult,
        FitResult,
        Jacobian,
        MinimizeResult,
        Node,
        Program,
        Result,
        TrainResult,
        UsageError,
        columns,
        differentiate,
        evaluate,
        fit,
        minimize,
        parse,
        parse_program,
        train,
    )

_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api
        value = getattr(api, name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError("module 'cgcli' has no attribute %r" % name)


def __dir__() -> "list[str]":
    return sorted(set(globals()) | _API)
