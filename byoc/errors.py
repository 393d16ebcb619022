"""Errors a user can act on.

Every failure caused by the user's input (model file, options, output directory) or by the
environment (missing toolchain) is a ``ByocError`` with a one-line message naming the
problem: the CLI prints it and exits with code 2, never with a traceback.
"""

from __future__ import annotations


class ByocError(Exception):
    """A user-facing error: one line, names the file/operator/tensor/limit at fault."""

    exit_code = 2


class ModelError(ByocError):
    """The input model is missing, unreadable, malformed or uses something unsupported."""


class UnsupportedOperatorError(ModelError):
    """An operator cannot be imported or compiled; the message names its index and type."""


class OutputDirError(ByocError):
    """The output directory cannot be used (exists and is non-empty, or is not writable)."""


class ToolError(ByocError):
    """An external tool (compiler, emulator) is missing or failed."""
