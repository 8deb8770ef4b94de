"""AWS reads for the network domain."""

from . import each, step  # noqa: F401
