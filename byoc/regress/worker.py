"""A regression worker process: ``python -m byoc.regress.worker``.

Reads one JSON request per line on stdin, runs it (``byoc.regress.case.run_case``) and
writes one JSON record per line on the stdout it was started with. Anything else the
libraries print (TVM, Vela, compilers) is sent to stderr, which the parent keeps in a log,
so the protocol stream stays clean. A crash of this process (e.g. a segfault in a native
library) costs only the case it was running: the parent records it and starts a new one.
"""

from __future__ import annotations

import json
import os
import sys


def _jsonable(value):
    """numpy scalars and arrays (and paths) in records as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def main() -> int:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)                      # stray prints (fd 1) now go to the log
    from .case import run_case         # after the redirection: imports may print
    for line in sys.stdin:
        if not line.strip():
            continue
        record = run_case(json.loads(line))
        protocol.write(json.dumps(record, default=_jsonable) + "\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
