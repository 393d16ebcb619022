"""MAXIMUM / MINIMUM on the cmsis-nn target (``arm_maximum_s8`` / ``arm_minimum_s8``): the
operator added to the backend through the operator spec (byoc/qnn/ops.py) and one C call
in byoc/cmsisnn/codegen.py. Bit-exact with TFLM on the host (AddressSanitizer/UBSan) and on
the Corstone-300; broadcasting and int16 stay on the generic path, with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import byoc
from byoc.tflite.builder import LayerBuilder
from toolchain import require_tools

TARGET = "cmsis-nn,c"


def _model(shapes, ops=("MAXIMUM", "MINIMUM"), seed=0, dtype=np.int8) -> bytes:
    """Two inputs (independent quantizations); each op of ``ops`` applied to them, and a
    constant operand variant of the first."""
    rng = np.random.default_rng(seed)
    lb = LayerBuilder(seed=seed, dtype=dtype)
    zp = (lambda: 0) if dtype == np.int16 else (lambda: int(rng.integers(-128, 128)))
    a = lb.input(shapes[0], scale=float(rng.uniform(0.01, 0.3)), zero_point=zp())
    b = lb.input(shapes[1], scale=float(rng.uniform(0.01, 0.3)), zero_point=zp())
    for op in ops:
        lb.output(lb.op(op, [a, b], shapes[0], float(rng.uniform(0.01, 0.3)), zp()))
    if shapes[0] == shapes[1]:
        c = lb.constant(shapes[0], float(rng.uniform(0.01, 0.3)), zp())
        lb.output(lb.op(ops[0], [c, a], shapes[0], 0.1, zp()))
    return lb.build()


def _validate(buf: bytes, tmp_path: Path, backend: str = "host", **kw):
    path = tmp_path / "m.tflite"
    path.write_bytes(buf)
    res = byoc.validate(path, target=TARGET, backend=backend, inputs=3, seed=1,
                        work_dir=tmp_path / "work", **kw)
    assert res.status == "pass" and res.mismatches == 0 and res.max_abs_diff == 0, res
    meta = json.loads((Path(res.output_dir) / "metadata.json").read_text())
    return res, meta


def _placements(meta) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list] = {}
    for op in meta["operators"]:
        out.setdefault(op["type"], []).append((op["backend"], op["reason"]))
    return out


def _called(res) -> set[str]:
    """The CMSIS-NN min/max functions the generated operator sources call."""
    text = "".join(p.read_text() for p in (Path(res.output_dir) / "src").glob("*.c"))
    return {fn for fn in ("arm_maximum_s8", "arm_minimum_s8") if f"{fn}(&ctx" in text}


@pytest.mark.parametrize("shape", [(1, 5, 7, 3), (2, 9), (17,), (1, 1, 1, 1)])
def test_min_max_offloaded_bit_exact_on_host(shape, tmp_path):
    require_tools()
    res, meta = _validate(_model([shape, shape], seed=len(shape)), tmp_path, cpu="host",
                        sanitize=True)
    ops = _placements(meta)
    assert {b for b, _ in ops["MAXIMUM"] + ops["MINIMUM"]} == {"cmsis-nn"}, ops
    assert {"arm_maximum_s8", "arm_minimum_s8"} <= _called(res)


@pytest.mark.parametrize("dtype,shapes,word", [
    (np.int8, [(1, 4, 6, 3), (1, 1, 6, 3)], "broadcasting MAXIMUM"),
    (np.int16, [(1, 4, 6, 3), (1, 4, 6, 3)], "int16 MAXIMUM"),
])
def test_min_max_left_generic_with_reason(dtype, shapes, word, tmp_path):
    require_tools()
    _, meta = _validate(_model(shapes, ops=("MAXIMUM",), dtype=dtype), tmp_path, cpu="host",
                        sanitize=True)
    for backend, reason in _placements(meta)["MAXIMUM"]:
        assert backend != "cmsis-nn" and word in reason, (backend, reason)


def test_min_max_bit_exact_on_qemu(tmp_path):
    require_tools()
    res, meta = _validate(_model([(1, 6, 5, 16), (1, 6, 5, 16)], seed=3), tmp_path,
                          backend="qemu", cpu="cortex-m55")
    assert {"arm_maximum_s8", "arm_minimum_s8"} <= _called(res)
    assert {b for b, _ in sum(_placements(meta).values(), [])} == {"cmsis-nn"}
