"""Progress lines for long steps (import, partitioning, Vela, builds, emulator runs).

Off by default (library use, tests, ``--json`` pipelines); the CLI turns it on when stderr
is a terminal, or with ``--progress``. Lines go to stderr so stdout stays machine-readable.
"""

from __future__ import annotations

import sys
import time

_enabled = False
_start = time.monotonic()


def enable(flag: bool = True) -> None:
    global _enabled, _start
    _enabled = flag
    _start = time.monotonic()


def note(what: str) -> None:
    """Announce a step that is starting: ``byoc [  1.2 s] building firmware ...``."""
    if _enabled:
        print(f"byoc [{time.monotonic() - _start:6.1f} s] {what} ...", file=sys.stderr, flush=True)
