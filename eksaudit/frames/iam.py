"""Frames for the iam domain."""

from . import Frames, frame  # noqa: F401
