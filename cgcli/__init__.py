"""cgraph: a command-line expression differentiator.

The core is a library too::

    >>> from cgcli import parse_program, evaluate
    >>> prog = parse_program("(x+y)*z")
    >>> res = evaluate(prog, {"x": 1, "y": 3, "z": -3})
    >>> res.value, res.gradients
    (-12.0, {'x': -3.0, 'y': -3.0, 'z': 4.0})
"""

__version__ = "0.1.0"

__all__ = ["__version__", "CgraphError", "parse_program", "evaluate"]


def __getattr__(name):
    # Lazy, so that `python -m cgcli` and the CLI import only what they use.
    if name == "CgraphError":
        from .core.errors import CgraphError
        return CgraphError
    if name == "parse_program":
        from .core.language import parse_program
        return parse_program
    if name == "evaluate":
        from .core.passes import evaluate
        return evaluate
    raise AttributeError(name)
