"""Files a command writes when it ends (train --save, minimize --trace): checked
before any work, and written atomically, to a temporary file in the same
directory renamed over the file at the end, so that a run that fails or is
killed leaves an existing file whole.
"""

import os

from ..core.errors import CgraphError, UsageError


def check_writable(path, option):
    """A UsageError unless `path` can be written: not empty, not a directory, in
    an existing directory that can be written (for the temporary file beside it).
    Called before any work, so that a run never ends unable to write its result."""
    if not path:
        raise UsageError("%s: the file name is empty" % option)
    if os.path.isdir(path):
        raise UsageError("%s: %s is a directory" % (option, path))
    if _special(path):
        if not os.access(path, os.W_OK):
            raise UsageError("%s: cannot write %s: permission denied" % (option, path))
        return
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise UsageError("%s: cannot write %s: no directory %s" % (option, path, folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError("%s: cannot write %s: the directory %s is not writable" % (option, path, folder))
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UsageError("%s: cannot write %s: permission denied" % (option, path))


def _special(path):
    """An existing file that is not a regular one (/dev/stdout, /dev/full, a pipe): written in place."""
    import stat
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


class AtomicFile:
    """A text file written to a temporary file in the same directory and renamed
    over `path` by `commit()` (`discard()` removes it): the old file stays whole
    until the new one is complete. A special file (a device, a pipe) is written
    in place. An OSError while writing becomes a CgraphError (status 1)."""

    def __init__(self, path, option):
        import tempfile
        check_writable(path, option)
        self.path, self.tmp = path, None
        try:
            if _special(path):
                self.fh = open(path, "w", encoding="utf-8")
            else:
                folder, base = os.path.split(os.path.abspath(path))
                fd, self.tmp = tempfile.mkstemp(prefix="." + base + ".", suffix=".tmp", dir=folder)
                self.fh = os.fdopen(fd, "w", encoding="utf-8")
        except OSError as e:
            raise UsageError("%s: cannot write %s: %s" % (option, path, e.strerror or e)) from None

    def write(self, text):
        try:
            self.fh.write(text)
        except OSError as e:
            self.discard()
            raise self._error(e) from None

    def _error(self, e):
        return CgraphError("cannot write %s: %s" % (self.path, e.strerror or e))

    def commit(self):
        try:
            self.fh.flush()
            if self.tmp is not None:
                os.fsync(self.fh.fileno())
            self.fh.close()
            if self.tmp is not None:
                try:
                    mode = os.stat(self.path).st_mode & 0o7777
                except OSError:
                    umask = os.umask(0)
                    os.umask(umask)
                    mode = 0o666 & ~umask
                os.chmod(self.tmp, mode)
                os.replace(self.tmp, self.path)
                self.tmp = None
        except OSError as e:
            self.discard()
            raise self._error(e) from None

    def discard(self):
        try:
            self.fh.close()
        except OSError:
            pass
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except OSError:
                pass
            self.tmp = None


# ---- --trace and --save (minimize, train, fit) ------------------------------------

class Trace:
    """--trace FILE: a CSV of step, value and the parameters, written as the steps go
    (to an AtomicFile). A context manager; `step` is minimize's on_step. The file
    replaces FILE when the run ends, by an outcome or by Ctrl-C, not by an error."""

    def __init__(self, path):
        self.fh = AtomicFile(path, "--trace")
        self.header = False

    def step(self, step, value, params):
        line = ",".join([str(step), repr(value)] + [repr(v) for v in params.values()]) + "\n"
        if not self.header:
            line = ",".join(["step", "value"] + list(params)) + "\n" + line
            self.header = True
        self.fh.write(line)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None or issubclass(kind, KeyboardInterrupt):
            self.fh.commit()
        else:
            self.fh.discard()
        return False


def save_params(path, params):
    """--save FILE.json: the learned parameters as a JSON object (what --bind reads),
    written atomically (AtomicFile)."""
    import json
    fh = AtomicFile(path, "--save")
    fh.write(json.dumps(params, indent=1) + "\n")
    fh.commit()
