"""Errors meant for the person at the keyboard: one line, what was expected, found, and the fix."""
from __future__ import annotations


class UserError(Exception):
    """Bad input or state the user can fix. The CLI prints it on one line and exits 1."""


class CommandFailed(UserError):
    """A command that failed but still has a report to print on stdout (e.g. import errors)."""

    def __init__(self, message: str, report: dict):
        super().__init__(message)
        self.report = report
