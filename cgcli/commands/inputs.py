"""What a command reads: the program (EXPR or -f FILE, --output), the bindings
(NAME=VALUE words and --bind FILE.json) and data files; and warnings on stderr."""

import re
import sys

import click

from ..core.errors import UsageError

_BINDING = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.S)


class Source:
    """A command's EXPR or -f FILE, its NAME=VALUE words, --bind FILE.json and --output NAME."""

    def __init__(self, args, file=None, bind_file=None, output=None):
        self.args = list(args)
        self.file = file
        self.bind_file = bind_file
        self.output = output

    def program(self):
        """(Program, the binding words): the program parsed, with --output's output."""
        from ..core.language import parse_program
        if self.file is not None:
            text, words = read_text(self.file), self.args
        elif not self.args:
            raise UsageError("no program: give an expression (EXPR) or -f FILE")
        else:
            text, words = self.args[0], self.args[1:]
        prog = parse_program(text)
        if self.output is not None:
            prog = prog.select(self.output)
        return prog, words

    def load(self):
        """(Program, {name: float})."""
        prog, words = self.program()
        return prog, parse_bindings(words, self.bind_file)

    def bindings(self):
        """Every positional argument as a binding (--lines: the program comes line by line from -f)."""
        return parse_bindings(self.args, self.bind_file)


def read_text(path):
    """The whole of a text file ("-": standard input)."""
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError("cannot read %s: %s" % (path, getattr(e, "strerror", None) or e)) from None


def open_text(path):
    """A text file to read line by line ("-": standard input)."""
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8", newline="")
    except OSError as e:
        raise UsageError("cannot read %s: %s" % (path, e.strerror or e)) from None


def display_name(path):
    return "<stdin>" if path == "-" else path


def open_rows(path, fmt=None):
    """--data ROWS: a CSV or JSON Lines source of rows (features/readers.py)."""
    from ..features.readers import open_rows as rows
    return rows(open_text(path), display_name(path), fmt)


def parse_bindings(words, bind_file=None):
    """NAME=VALUE words (and a --bind JSON file) into {name: float}; the words win."""
    from ..core.numbers import parse_number
    out = {}
    if bind_file is not None:
        import json
        try:
            data = json.loads(read_text(bind_file))
        except ValueError as e:
            raise UsageError("--bind %s: not valid JSON (%s)" % (bind_file, e)) from None
        if not isinstance(data, dict):
            raise UsageError("--bind %s: expected a JSON object of name: number" % bind_file)
        for k, v in data.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise UsageError("--bind %s: %s must be a number, not %s" % (bind_file, k, json.dumps(v)))
            x = float(v) if not isinstance(v, str) else parse_number(v)
            if x is None or not _BINDING.fullmatch("%s=0" % k):
                raise UsageError("--bind %s: malformed binding %s: %s" % (bind_file, json.dumps(k), json.dumps(v)))
            out[k] = x
    for w in words:
        m = _BINDING.fullmatch(w)
        x = parse_number(m.group(2)) if m else None
        if x is None:
            raise UsageError("malformed binding %r: expected NAME=VALUE with a number, such as x=1.5" % w)
        out[m.group(1)] = x
    return out


def split_names(values):
    """--wrt a,b --wrt c -> [a, b, c] (None when not given)."""
    if not values:
        return None
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return names or None


def stderr(text):
    """A message on stderr, control characters (from program text or a file) escaped."""
    from ..core.errors import printable
    click.echo(printable(text, keep_newlines=True), err=True)


def warn(lines):
    """`warning: ...` lines on stderr: each text once per run, none with -q/--quiet."""
    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    if meta.get("cgraph.quiet"):
        return
    shown = meta.setdefault("cgraph.warned", set())
    for w in lines:
        if w not in shown:
            shown.add(w)
            stderr("warning: %s" % w)
