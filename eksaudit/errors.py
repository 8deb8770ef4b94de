"""Errors the user can fix: the CLI prints them as one line and exits 2."""


class UserError(Exception):
    """A problem with the input or environment that the user can fix."""
