"""The layers: the CLI loads the library only for the command that runs, and only
presentation loads Rich."""

import json
import os
import subprocess
import sys

from conftest import ROOT

HEAVY = ("rich", "numpy", "lark")


def _modules(code):
    """The top-level names in sys.modules after running `code` in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)"],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stderr.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_rich_numpy_or_lark():
    mods = _modules("import cgcli.cli")
    assert not [m for m in mods if m.split(".")[0] in HEAVY]
    assert not [m for m in mods if m.startswith("cgcli.commands.")]


def test_every_command_module_imports_without_rich_numpy_or_lark():
    from cgcli.cli import COMMANDS
    mods = _modules("import cgcli.cli\n" + "\n".join("import cgcli.commands.%s" % m for m in COMMANDS.values()))
    assert not [m for m in mods if m.split(".")[0] in HEAVY]


def test_eval_plain_loads_only_its_command_and_no_rich():
    mods = _modules("from cgcli.cli import cli\n"
                    "cli.main(['eval', '(x+y)*z', 'x=1', 'y=3', 'z=-3', '--format', 'plain'], standalone_mode=False)")
    assert not [m for m in mods if m.split(".")[0] in HEAVY]
    assert [m for m in mods if m.startswith("cgcli.commands.") and m not in (
        "cgcli.commands.options", "cgcli.commands.inputs")] == ["cgcli.commands.eval"]
    assert "cgcli.present.result" in mods
