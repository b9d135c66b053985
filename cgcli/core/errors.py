"""The one exception the core raises; the CLI turns it into `error: ...` and an exit status."""

USAGE = 2  # a usage or syntax error
EVAL = 1  # an evaluation or data error


class CgraphError(Exception):
    """An error to show the user: `message` is the text after `error: `."""

    def __init__(self, message: str, status: int = EVAL):
        super().__init__(message)
        self.message = message
        self.status = status


class UsageError(CgraphError):
    def __init__(self, message: str):
        super().__init__(message, USAGE)
