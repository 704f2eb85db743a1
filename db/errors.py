"""Errors the repository raises; each message says what was expected, found and the fix."""


class NotFound(LookupError):
    pass


class AlreadyExists(ValueError):
    pass


class Conflict(RuntimeError):
    """Optimistic-lock failure: someone saved the sample since it was loaded."""

    def __init__(self, message: str, current_version: int):
        super().__init__(message)
        self.current_version = current_version
