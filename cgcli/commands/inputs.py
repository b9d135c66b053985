"""What a command reads: the program (EXPR or -f FILE, --output), the bindings
(NAME=VALUE words and --bind FILE.json) and data files; and warnings on stderr."""

import re
import sys

import click

from ..core.errors import UsageError

_BINDING = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.S)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAMES = re.compile(r"[A-Za-z_][A-Za-z0-9_]*+(?:\n[A-Za-z_][A-Za-z0-9_]*+)*+")  # names, one a line


class Source:
    """A command's EXPR or -f FILE, its NAME=VALUE words, --bind FILE.json and --output NAME."""

    def __init__(self, args, file=None, bind_file=None, output=None):
        self.args = list(args)
        self.file = file
        self.bind_file = bind_file
        # --output's names: a list (several outputs: eval, graph, explain, diff), or one name or None
        self.outputs = [output] if isinstance(output, str) else list(output or [])
        self.output = self.outputs[0] if len(self.outputs) == 1 else None

    @property
    def several(self):
        """True when --output names more than one output."""
        return len(self.outputs) > 1

    def one_output(self, command):
        """A usage error when --output names several outputs and `command` takes one."""
        if self.several:
            raise UsageError("--output %s: %s takes one output (several go with eval, graph, explain and diff)"
                             % (",".join(self.outputs), command))

    def text_and_words(self):
        """(the program's text, the words after it: its NAME=VALUE bindings)."""
        if self.file is not None:
            return read_text(self.file), self.args
        if not self.args:
            raise UsageError("no program: give an expression (EXPR) or -f FILE")
        return self.args[0], self.args[1:]

    def program(self, several=False):
        """(Program, the binding words): the program parsed, with --output's output
        (with `several` and several outputs: the program's own; the caller takes them)."""
        from ..core.language import parse_program
        text, words = self.text_and_words()
        prog = parse_program(text)
        if several and self.several:
            for name in self.outputs:
                prog.select(name)  # an unknown name: the usage error of --output NAME
            return prog, words
        ctx = click.get_current_context(silent=True)
        self.one_output(ctx.info_name if ctx is not None and ctx.info_name else "this command")
        if self.output is not None:
            prog = prog.select(self.output)
        return prog, words

    def load(self):
        """(Program, {name: float})."""
        prog, words = self.program()
        return prog, parse_bindings(words, self.bind_file)

    def load_several(self):
        """(Program, {name: float}) with the program's own output when --output names
        several (the caller takes them from `outputs`)."""
        prog, words = self.program(several=True)
        return prog, parse_bindings(words, self.bind_file)

    def bindings(self):
        """Every positional argument as a binding (--lines: the program comes line by line from -f)."""
        return parse_bindings(self.args, self.bind_file)


def _utf8_stdin():
    """Standard input read as the files are: UTF-8, a byte-order mark dropped, and
    a byte that is not UTF-8 kept (surrogateescape) for its message to name its line."""
    try:
        sys.stdin.reconfigure(encoding="utf-8-sig", errors="surrogateescape", newline="")
    except (AttributeError, ValueError, OSError):  # not a TextIOWrapper, or already read from
        pass
    return sys.stdin


def read_text(path):
    """The whole of a text file ("-": standard input), UTF-8 with or without a
    byte-order mark; a byte that is not UTF-8 is a usage error naming its line."""
    from ..features.readers import text_problem
    try:
        if path == "-":
            text = _utf8_stdin().read().replace("\r\n", "\n").replace("\r", "\n")
        else:
            with open(path, encoding="utf-8-sig", errors="surrogateescape") as fh:
                text = fh.read()
    except OSError as e:
        raise UsageError("cannot read %s: %s" % (path, e.strerror or e)) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = text_problem(text)
    if bad is not None and text[bad[0]] != "\x00":
        raise UsageError("%s line %d: %s" % (display_name(path), text.count("\n", 0, bad[0]) + 1, bad[1]))
    return text


def open_text(path):
    """A text file to read line by line ("-": standard input): UTF-8, a byte-order
    mark dropped; a byte that is not UTF-8 comes as a surrogate, for the readers
    to report with its line number (features/readers.py text_problem)."""
    if path == "-":
        return _utf8_stdin()
    try:
        return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as e:
        raise UsageError("cannot read %s: %s" % (path, e.strerror or e)) from None


def display_name(path):
    return "<stdin>" if path == "-" else path


def open_data(path, fmt=None, delimiter=None, columns=None, csv_out=False):
    """--data ROWS: Parquet or Arrow IPC (features/columnar.py), else CSV, TSV or JSON
    Lines. `csv_out`: the records are written as CSV (a CSV file may then take the fast path)."""
    from ..features.columnar import binary_format, open_columnar
    binary = binary_format(path, fmt)
    if binary is not None:
        if delimiter is not None or columns is not None:
            raise UsageError("--delimiter, --no-header and --columns are for CSV input, not %s" % binary)
        return open_columnar(path, binary)
    return open_rows(path, fmt, delimiter, columns, csv_out)


def open_rows(path, fmt=None, delimiter=None, columns=None, fast=False):
    """--data ROWS: a CSV or JSON Lines source of rows (features/readers.py); `delimiter`
    and `columns` (no header line) for CSV. `fast`: the records are CSV, so a CSV file may
    take the fast path (features/fastcsv.py)."""
    from ..features.readers import open_rows as rows
    return rows(open_text(path), display_name(path), fmt, delimiter, columns,
                path if fast and path != "-" else None)


def _unique_keys(pairs):
    d = dict(pairs)
    if len(d) == len(pairs):  # the usual case, in linear time
        return d
    seen: set = set()
    dup = sorted({k for k, _ in pairs if k in seen or seen.add(k)})  # not empty: a key repeats
    raise ValueError("%s appear%s more than once" % (", ".join(map(json_text, dup)), "s" if len(dup) == 1 else ""))


def json_text(v, limit=40):
    """A JSON value as a message quotes it, cut short when it is long."""
    import json
    try:
        t = json.dumps(v)
    except (ValueError, RecursionError):
        return "a value"
    return t if len(t) <= limit else "%s... (%d characters)" % (t[:limit], len(t))


def read_bind_file(bind_file):
    """--bind FILE.json: {name: float}. A key that is not a name, a value that is
    not a number (or numeric text) and a repeated key are usage errors naming the key."""
    import json

    from ..core.numbers import int_to_float, parse_number
    try:
        data = json.loads(read_text(bind_file), object_pairs_hook=_unique_keys)
    except RecursionError:
        raise UsageError("--bind %s: not valid JSON (nested too deeply)" % bind_file) from None
    except ValueError as e:
        raise UsageError("--bind %s: not valid JSON (%s)" % (bind_file, e)) from None
    if not isinstance(data, dict):
        raise UsageError("--bind %s: expected a JSON object of name: number" % bind_file)
    # the usual file, checked in bulk: every key a name (one linear-time match over the
    # keys joined by a newline, which no name holds: a key holding one adds a newline
    # to the count) and every value a float; else key by key, for the first bad one
    keys = "\n".join(data)
    if (not data or (keys.count("\n") == len(data) - 1 and _NAMES.fullmatch(keys))) \
            and all(type(v) is float for v in data.values()):
        return data
    out = {}
    for k, v in data.items():
        if not _NAME.fullmatch(k):
            raise UsageError("--bind %s: %s is not a name" % (bind_file, json_text(k)),
                             hint="a name is a letter or _, then letters, digits and _")
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            x = None
        elif isinstance(v, int):
            x = int_to_float(v)  # beyond the doubles: +-inf, as 1e999 reads
        elif isinstance(v, float):
            x = v
        else:
            x = parse_number(v)
        if x is None:
            raise UsageError("--bind %s: %s must be a number, not %s" % (bind_file, k, json_text(v)))
        out[k] = x
    return out


def parse_bindings(words, bind_file=None):
    """NAME=VALUE words (and a --bind JSON file) into {name: float}; the words win."""
    from ..core.numbers import parse_number
    out = read_bind_file(bind_file) if bind_file is not None else {}
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
