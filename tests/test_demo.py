"""``make demo`` (``python -m byoc.demo``): every target's package of the bundled CNN runs on
Corstone-300 (QEMU) bit-exactly with TFLM, and the comparison table is printed."""

from __future__ import annotations

import subprocess
import sys

from byoc.demo import TARGETS
from toolchain import require_tools


def test_demo_validates_every_target(tmp_path):
    require_tools()
    proc = subprocess.run([sys.executable, "-m", "byoc.demo"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = [line.split() for line in proc.stdout.splitlines()
            if line.strip().split(" ", 1)[0] in {t for t, _ in TARGETS}]
    assert [r[0] for r in rows] == [t for t, _ in TARGETS]
    assert all(r[1] == "bit-exact" for r in rows), rows
    assert "PASS: 0 mismatching output elements" in proc.stdout
    assert (tmp_path / "build" / "demo" / "cmsis-nn_c" / "package" / "metadata.json").is_file()
