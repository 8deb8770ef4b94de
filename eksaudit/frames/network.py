"""Frames for the network domain."""

from . import Frames, frame  # noqa: F401
