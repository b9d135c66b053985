import math
import os

import pytest
from click.testing import CliRunner

from cgcli.cli import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples")


class Run:
    """The outcome of one `cgraph ...` invocation."""

    def __init__(self, result):
        self.status = result.exit_code
        self.out = result.stdout
        self.err = result.stderr
        self.exception = result.exception

    def json(self):
        import json
        return json.loads(self.out)


@pytest.fixture(scope="session")
def cg():
    """cg("eval", "(x+y)*z", "x=1", input="...") -> Run, through the same click
    group and error handling as the installed command."""
    def run(*args, input=None, env=None):
        r = CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=True)
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            raise r.exception  # a traceback would have reached the user
        return Run(r)
    return run


def close(a, b, rtol=1e-9, atol=1e-12):
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


def run(*args, input=None):
    """A CliRunner result (tests that read exit_code, stdout and stderr themselves)."""
    return CliRunner().invoke(cli, list(args), input=input)


def ok(*args, **kw):
    r = run(*args, **kw)
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return r
