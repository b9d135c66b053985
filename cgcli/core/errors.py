"""The one exception the core raises; the CLI turns it into `error: ...` and an exit status.

The messages that several modules give are built here, once.
"""

from typing import Optional

USAGE = 2  # a usage or syntax error
EVAL = 1  # an evaluation or data error


class CgraphError(Exception):
    """An error to show the user: `message` is the text after `error: `.

    `reason` is what went wrong and `hint`, if any, what to do about it;
    `message` is both, the hint in parentheses. A caller that quotes an
    error inside its own sentence takes `reason`."""

    def __init__(self, message: str, status: int = EVAL, hint: Optional[str] = None):
        self.reason = message
        self.hint = hint
        if hint:
            message = "%s (%s)" % (message, hint)
        super().__init__(message)
        self.message = message
        self.status = status


class UsageError(CgraphError):
    def __init__(self, message: str, hint: Optional[str] = None):
        super().__init__(message, USAGE, hint)


def unbound_inputs(names, hint=None) -> CgraphError:
    """`unbound inputs: a, b (bind each as NAME=VALUE)`; `hint` replaces the advice."""
    names = list(names)
    if hint is None:
        hint = "bind %s as NAME=VALUE" % ("it" if len(names) == 1 else "each")
    return CgraphError("unbound input%s: %s" % ("" if len(names) == 1 else "s", ", ".join(names)), hint=hint)


def not_inputs(option, bad, inputs) -> UsageError:
    """`--wrt: q is not an input of the program (inputs: x, y)`."""
    bad = list(bad)
    return UsageError("%s: %s %s not an input of the program" % (
        option, ", ".join(bad), "is" if len(bad) == 1 else "are"),
        hint="inputs: %s" % (", ".join(inputs) or "none"))
