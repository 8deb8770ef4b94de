"""AWS reads for the iam domain."""

from . import each, step  # noqa: F401
