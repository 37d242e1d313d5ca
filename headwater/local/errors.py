class LocalStackError(Exception):
    """A one-line, operator-facing problem with the local stack: what is wrong and what to run."""
