"""Skip (locally) or fail (in CI) when the cross toolchain or QEMU is missing."""

from __future__ import annotations

import os
import shutil

import pytest

TOOLS = ("arm-none-eabi-gcc", "cmake", "ninja", "qemu-system-arm")


def require_tools(tools=TOOLS) -> None:
    """CI (or BYOC_REQUIRE_TOOLCHAIN=1) must have every tool: a missing one fails the test
    instead of silently skipping it; elsewhere the test is skipped with the fix."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        message = f"missing {', '.join(missing)}: run `make setup`"
        if os.environ.get("CI") or os.environ.get("BYOC_REQUIRE_TOOLCHAIN") == "1":
            pytest.fail(message)
        pytest.skip(message)
