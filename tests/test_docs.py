"""The examples in README.md and docs/*.md run as written, so they cannot rot.

- Every ```python block runs in a fresh interpreter (sys.executable) from a
  temporary directory; a block written as a `>>>` session is run by doctest, so
  its printed outputs are checked too. A block that imports a package that is
  not installed (polars, dask, ray, ...) is skipped.
- In every ```sh / ```console / ```bash block, every command that starts with
  `cgraph ` (as `$ cgraph ...` or a bare `cgraph ...` line) runs through bash and
  must exit 0, or the status a trailing comment `# exits N` gives. Where `$ `
  lines are followed by output, the output (stdout and stderr) must match: a
  line `...` stands for any number of lines. A block right after the comment
  `<!-- terminal -->` runs its commands with a terminal as standard output (for
  the tables people see); the others run with a pipe, as in a script.

The commands run in a temporary directory that holds a link to every top-level
entry of the repository, so that paths such as samples/neuron.cg work as from
the repository root and the files a command writes (--save, --trace) land in the
temporary directory. A page's commands run in order in one directory, so that a
later command can read what an earlier one wrote.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

PAGES = ["README.md"] + sorted(os.path.join("docs", p) for p in os.listdir(os.path.join(ROOT, "docs"))
                               if p.endswith(".md"))
SHELLS = ("sh", "console", "bash", "shell")
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
_STATUS = re.compile(r"#\s*exits\s+(\d+)\s*$")


def blocks(page):
    """(language, text, terminal?, line number) for each fenced block of a page."""
    with open(os.path.join(ROOT, page), encoding="utf-8") as fh:
        text = fh.read()
    for m in _FENCE.finditer(text):
        before = text[:m.start()].rstrip().splitlines()[-1:] or [""]
        yield m.group(1), m.group(2), before[0].strip() == "<!-- terminal -->", text.count("\n", 0, m.start()) + 1


def commands(text):
    """[(command, expected output lines or None)] of a shell block."""
    lines = text.splitlines()
    if any(line.startswith("$ ") for line in lines):
        out = []
        for line in lines:
            if line.startswith("$ "):
                out.append([line[2:], []])
            elif out:
                out[-1][1].append(line)
        return [(c, o if o else None) for c, o in out if c.startswith("cgraph ")]
    return [(line, None) for line in lines if line.startswith("cgraph ")]


def matches(expected, actual):
    """Line by line, trailing spaces and blank lines at the ends ignored; a line `...`
    matches any number of lines."""
    exp = [line.rstrip() for line in expected]
    act = [line.rstrip() for line in actual]
    for lines in (exp, act):  # blank lines at either end do not count
        while lines and not lines[-1]:
            lines.pop()
        while lines and not lines[0]:
            lines.pop(0)

    def match(i, j):
        if i == len(exp):
            return j == len(act)
        if exp[i].strip() == "...":
            return any(match(i + 1, k) for k in range(j, len(act) + 1))
        return j < len(act) and exp[i] == act[j] and match(i + 1, j + 1)
    return match(0, 0)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A directory that looks like the repository root, a fresh one per page."""
    made = {}

    def get(page):
        if page not in made:
            d = tmp_path_factory.mktemp("docs")
            for entry in os.listdir(ROOT):
                if not entry.startswith("."):
                    os.symlink(os.path.join(ROOT, entry), d / entry)
            made[page] = d
        return made[page]
    return get


def _env():
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.pop("FORCE_COLOR", None)
    env.update(NO_COLOR="1", TERM="dumb", COLUMNS="100", LC_ALL="C.UTF-8")
    return env


def run_shell(cmd, cwd, terminal):
    if not terminal:
        r = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=_env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        return r.returncode, r.stdout
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen(["bash", "-c", cmd + " 2>&1"], cwd=cwd, env=_env(), stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    status = p.wait(timeout=120)
    return status, b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def _cases():
    for page in PAGES:
        for _k, (lang, text, terminal, line) in enumerate(blocks(page)):
            if lang == "python":
                yield pytest.param(page, lang, text, terminal, id="%s:%d:python" % (page, line))
            elif lang in SHELLS and commands(text):
                yield pytest.param(page, lang, text, terminal, id="%s:%d:%s" % (page, line, lang))


def _imports(code):
    return {m.group(1) for m in re.finditer(r"^\s*(?:>>> )?(?:import|from)\s+(\w+)", code, re.M)}


@pytest.mark.parametrize("page, lang, text, terminal", list(_cases()))
def test_example(page, lang, text, terminal, workdir, tmp_path):
    cwd = workdir(page)
    if lang == "python":
        missing = sorted(m for m in _imports(text) if importlib.util.find_spec(m) is None)
        if missing:
            pytest.skip("needs %s" % ", ".join(missing))
        if text.lstrip().startswith(">>>"):
            path = tmp_path / "example.txt"
            path.write_text(text)
            argv = [sys.executable, "-m", "doctest", "-o", "NORMALIZE_WHITESPACE", str(path)]
        else:
            path = tmp_path / "example.py"
            path.write_text(text)
            argv = [sys.executable, str(path)]
        r = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, "%s: the python block fails:\n%s%s" % (page, r.stdout, r.stderr)
        return
    for cmd, expected in commands(text):
        if re.search(r"\|\s*dot\b|--format html", cmd) and shutil.which("dot") is None:
            continue  # Graphviz is not installed (graph --format html lays out with dot)
        m = _STATUS.search(cmd)
        want = int(m.group(1)) if m else 0
        status, out = run_shell(cmd, cwd, terminal)
        assert status == want, "%s: `%s` exits %d, not %d:\n%s" % (page, cmd, status, want, out)
        if expected is not None:
            assert matches(expected, out.splitlines()), "%s: `%s` prints\n%s\nnot\n%s" % (
                page, cmd, out, "\n".join(expected))


def test_the_examples_are_found():
    """The README has the seed example, a python block and a command per command."""
    readme = list(blocks("README.md"))
    cmds = [c for lang, text, _, _ in readme if lang in SHELLS for c, _ in commands(text)]
    for sub in ["eval", "graph", "explain", "check", "diff", "minimize", "train"]:
        assert any(c.startswith("cgraph %s " % sub) for c in cmds), sub
    assert any("--data" in c for c in cmds) and any("--lines" in c for c in cmds)
    assert any(lang == "python" for lang, _, _, _ in readme)


def test_matches():
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "d"], ["a", "d"])
    assert not matches(["a", "d"], ["a", "b", "d"])
    assert matches(["a  ", ""], ["a"])


def test_nothing_refers_to_files_outside_the_repository():
    bad = re.compile(r"\.\./shared|SPEC\.md|DESIGN\.md|\bthe SPEC\b|\bSPEC\b")
    found = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "out", "build", "dist")]
        for f in files:
            if not f.endswith((".py", ".md", ".toml", ".cg", ".txt", ".lark")) or f == "_parser.py":
                continue
            path = os.path.join(top, f)
            with open(path, encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    if bad.search(line) and "bad = re.compile" not in line:
                        found.append("%s:%d: %s" % (os.path.relpath(path, ROOT), n, line.strip()))
    assert not found, "\n".join(found)
