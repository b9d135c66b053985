"""The layers, as folders: imports point one way, and each heavy dependency stays in its layer.

    cgcli/cli.py         the group, main() and the one error funnel
    cgcli/commands/      one module per command (click lives here)
    cgcli/present/       renderers (Rich lives here, imported lazily)
    cgcli/features/      rows, derivatives, explanation, checking, learning
    cgcli/core/          the language (Lark lives here), the tape, the passes
    cgcli/api.py         the public library API, over core and features

The test reads every module's source (imports inside functions included), so a lazy
import in the wrong layer fails as surely as a top-level one.
"""

import ast
import pathlib
import re
import subprocess
import sys

import pytest

PKG = pathlib.Path(__file__).resolve().parent.parent / "cgcli"

# layer -> how low it sits; a module may import only its own layer or lower ones
RANK = {"core": 0, "features": 1, "api": 1, "present": 2, "commands": 3, "cli": 4, "regenerate": 5, "__main__": 5, "__init__": 5}
# third-party packages and the layers allowed to import them
ONLY_IN = {"click": {"commands", "cli"}, "rich": {"present"}, "lark": {"core", "regenerate"},
           "polars": {"features"}, "dask": {"features"}, "distributed": {"features"}}


def _layer(path):
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _modules():
    return [p for p in sorted(PKG.rglob("*.py")) if p.name != "_parser.py"]


def _imports(path):
    """(top-level package or cgcli layer, line) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.relative_to(PKG).parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                yield (("cgcli:" + parts[1]) if parts[0] == "cgcli" and len(parts) > 1 else parts[0]), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] == "cgcli":
                    targets = [parts[1]] if len(parts) > 1 else [a.name for a in node.names]
                    for t in targets:
                        yield "cgcli:" + t, node.lineno
                else:
                    yield parts[0], node.lineno
            else:
                base = list(here[: len(here) - (node.level - 1)]) if node.level > 1 else list(here)
                mod = base + (node.module.split(".") if node.module else [])
                if mod:
                    yield "cgcli:" + mod[0], node.lineno
                else:  # `from . import x` at the package's top
                    for a in node.names:
                        yield "cgcli:" + a.name, node.lineno


def test_every_module_is_in_a_known_layer():
    assert {_layer(p) for p in _modules()} <= set(RANK)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_imports_point_down(path):
    layer = _layer(path)
    bad = []
    for target, line in _imports(path):
        if target.startswith("cgcli:"):
            t = target[6:]
            if t in ("__version__",):
                continue
            if t not in RANK:  # a module at the top of the package
                t = t if t in RANK else "core"
            if RANK[t] > RANK[layer]:
                bad.append("line %d imports the %s layer" % (line, t))
        elif target in ONLY_IN and layer not in ONLY_IN[target]:
            bad.append("line %d imports %s" % (line, target))
    assert not bad, "%s (%s layer): %s" % (path.relative_to(PKG), layer, "; ".join(bad))


@pytest.mark.parametrize("path", [p for p in _modules() if _layer(p) in ("core", "api")],
                         ids=lambda p: str(p.relative_to(PKG)))
def test_library_never_prints_or_exits(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("print", "exit", "input"):
            bad.append("line %d calls %s" % (node.lineno, node.func.id))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "sys" \
                and node.attr in ("stdout", "stderr", "stdin", "exit"):
            bad.append("line %d uses sys.%s" % (node.lineno, node.attr))
    assert not bad, "%s: %s" % (path.relative_to(PKG), "; ".join(bad))


def test_no_hand_written_module_over_400_lines():
    long = {str(p.relative_to(PKG)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long


def _loaded_by(statement):
    code = "import sys; %s; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))" % statement
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       cwd=str(PKG.parent))
    return set(r.stdout.split())


def test_cli_import_loads_no_heavy_module():
    loaded = _loaded_by("import cgcli.cli")
    assert not loaded & {"rich", "numpy", "lark"}, loaded & {"rich", "numpy", "lark"}


def test_library_import_is_light():
    loaded = _loaded_by("import cgcli")
    assert not loaded & {"rich", "numpy", "lark", "click"}


def test_every_command_module_imports_without_rich_numpy_or_lark():
    from cgcli.cli import COMMANDS
    loaded = _loaded_by("import cgcli.cli; " + "; ".join("import cgcli.commands.%s" % m for m in COMMANDS.values()))
    assert not loaded & {"rich", "numpy", "lark"}


def test_eval_plain_loads_no_rich_and_only_its_own_command():
    code = ("import sys; from cgcli.cli import cli; "
            "cli.main(['eval', '(x+y)*z', 'x=1', 'y=3', 'z=-3', '--format', 'plain'], standalone_mode=False); "
            "print(' '.join(m for m in sys.modules if m.startswith(('cgcli.commands.', 'rich', 'numpy', 'lark'))),"
            " file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=str(PKG.parent))
    loaded = set(r.stderr.split())
    assert loaded == {"cgcli.commands.eval", "cgcli.commands.options", "cgcli.commands.inputs"}


def test_readme_tree_names_every_module():
    """README's "How it works" has a line per module: a new module must be added to it."""
    readme = (PKG.parent / "README.md").read_text(encoding="utf-8")
    tree = readme.split("## How it works", 1)[1].split("```", 2)[1]
    words = set(re.findall(r"[\w.]+\.py|\w+/", tree))
    missing = [str(p.relative_to(PKG)) for p in _modules() + [PKG / "core" / "_parser.py"]
               if p.name != "__init__.py" or p.parent == PKG
               if p.name not in words]
    assert not missing
