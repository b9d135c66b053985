"""The one exception the core raises; the CLI turns it into `error: ...` and an exit status.

The messages that several modules give are built here, once.
"""

import re
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


MAX_LISTED = 10  # names a message lists before "... and N more"


def name_list(names, limit=MAX_LISTED):
    """`a, b, c`; past `limit` names, `a1, a2, ... and 290 more`."""
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names)
    return "%s, ... and %d more" % (", ".join(names[:limit]), len(names) - limit)


def unbound_inputs(names, hint=None) -> CgraphError:
    """`unbound inputs: a, b (bind each as NAME=VALUE)`; `hint` replaces the advice.
    A long list is shortened: `unbound inputs: a1, ..., a10, ... and 290 more`."""
    names = list(names)
    if hint is None:
        hint = "bind %s as NAME=VALUE" % ("it" if len(names) == 1 else "each")
    return CgraphError("unbound input%s: %s" % ("" if len(names) == 1 else "s", name_list(names)), hint=hint)


# Characters a terminal would act on rather than show: C0 and C1 controls
# (escape sequences start with ESC, \x1b), DEL, bidirectional overrides and
# isolates, line and paragraph separators, the byte order mark. One character
# class: the search is linear.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape_char(m):
    c = m.group(0)
    o = ord(c)
    if c in _SHORT:
        return _SHORT[c]
    return "\\x%02x" % o if o < 0x100 else "\\u%04x" % o


def printable(text, keep_newlines=False):
    """`text` with every control character shown as an escape (`\\x1b`, `\\u202e`),
    so that what a file contains is shown, never acted on by the terminal.
    With keep_newlines, "\\n" stays (a message's own line breaks)."""
    text = str(text)
    if _CONTROL.search(text) is None:
        return text
    if keep_newlines:
        return "\n".join(_CONTROL.sub(_escape_char, line) for line in text.split("\n"))
    return _CONTROL.sub(_escape_char, text)


def not_inputs(option, bad, inputs) -> UsageError:
    """`--wrt: q is not an input of the program (inputs: x, y)`."""
    bad = list(bad)
    return UsageError("%s: %s %s not an input of the program" % (
        option, name_list(bad), "is" if len(bad) == 1 else "are"),
        hint="inputs: %s" % (name_list(inputs) or "none"))
