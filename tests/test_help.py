"""Every `--help` shows examples, and every example runs as shown.

An epilog's examples are the indented lines after `Examples:` (a line ending in
a backslash goes on on the next one). What follows a command after two or more
spaces, outside quotes, is a comment for the reader (`cgraph diff "x^3" --wrt x
--order 2           6*x`), and is not run. A comment that says `exit N` is the
status the example shows; every other example must exit 0.

Each example runs in bash with `cgraph` the command under test (this Python's
`-m cgcli`), pipes and redirections as written (`set -o pipefail`), in a
scratch directory that sees the repository's samples/ as the repository root
does; a command's examples run in order in one directory, so that one may read
what an earlier one wrote (train --save, then eval --bind). An example that pipes
into a program this machine lacks (Graphviz's dot) is left out, with a warning.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings

import pytest
from conftest import ROOT, run

from cgcli.cli import cli


def _epilogs():
    """(label, epilog) for the group and every command."""
    out = [("cgraph", cli.epilog)]
    out += [("cgraph %s" % name, cmd.epilog) for name, cmd in cli.commands.items()]
    return out


def examples(epilog):
    """The example commands in an epilog: [(command, expected exit status)]."""
    lines = (epilog or "").replace("\b\n", "").splitlines()
    out, inside, pending = [], False, ""
    for line in lines:
        if line.strip() == "Examples:":
            inside = True
            continue
        if not inside:
            continue
        if not line.startswith(" ") and not pending:
            inside = False
            continue
        line = pending + line.strip()
        if line.endswith("\\"):
            pending = line[:-1].rstrip() + " "
            continue
        pending = ""
        command, comment = _split_comment(line)
        m = re.search(r"\bexit (\d+)\b", comment)
        out.append((command, int(m.group(1)) if m else 0))
    return out


def _split_comment(line):
    """(command, comment): split at the first run of two spaces outside quotes."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif line.startswith("  ", i):
            return line[:i], line[i:].strip()
    return line, ""


def _programs(command):
    """The programs an example runs: the first word of each stage of its pipeline."""
    programs = [shlex.split(stage)[0] for stage in re.split(r"\|", command) if stage.strip()]
    return programs + (["dot"] if "--format html" in command else [])  # the page is laid out by dot


EPILOGS = _epilogs()


def test_the_examples_are_found():
    found = {label: examples(e) for label, e in EPILOGS}
    assert all(found.values()), [k for k, v in found.items() if not v]
    assert ('cgraph check "relu(x)" x=0 --strict', 1) in found["cgraph check"]
    assert ('cgraph diff "x^3" --wrt x --order 2', 0) in found["cgraph diff"]
    assert any(c.startswith("echo ") and "| cgraph eval -f -" in c for c, _ in found["cgraph eval"])
    train = [c for c, _ in found["cgraph train"]]
    assert "--init-seed 1 --lr 0.5 --epochs 2000 --batch-size 4 --save xor.json" in train[1]


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_with_examples(name):
    r = run(name, "--help")
    assert r.exit_code == 0, r.stderr
    assert "Examples:" in r.stdout and ("cgraph %s" % name) in r.stdout
    assert examples(cli.commands[name].epilog)


def test_the_group_has_help_with_examples():
    r = run("--help")
    assert r.exit_code == 0 and "Examples:" in r.stdout
    for name in cli.commands:
        assert name in r.stdout


@pytest.mark.parametrize("label,epilog", EPILOGS, ids=[label for label, _ in EPILOGS])
def test_every_example_runs_as_shown(label, epilog, tmp_path):
    os.symlink(os.path.join(ROOT, "samples"), tmp_path / "samples")
    prelude = 'set -o pipefail\ncgraph() { %s -m cgcli "$@"; }\n' % shlex.quote(sys.executable)
    env = dict(os.environ, COLUMNS="100", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    skipped = []
    for command, status in examples(epilog):
        missing = [p for p in _programs(command) if p != "cgraph" and shutil.which(p) is None]
        if missing:
            skipped.append((command, missing))
            continue
        r = subprocess.run(["bash", "-c", prelude + command], cwd=tmp_path, env=env, capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=120)
        assert r.returncode == status, "%s\nexit %d, expected %d\n%s" % (command, r.returncode, status, r.stderr)
        assert "Traceback" not in r.stderr, (command, r.stderr)
    for command, missing in skipped:
        warnings.warn("not run, %s not installed: %s" % (", ".join(missing), command), stacklevel=1)
