"""Operators wired into the cmsis-nn target after the first kernel set (issue 16): each is
bit-exact with TFLM on the host (AddressSanitizer/UBSan) with the CMSIS-NN call in the
generated C and "cmsis-nn" in the placement, one bounded QEMU model covers the new calls,
and the configurations CMSIS-NN cannot compute stay generic with the reason. The same
packages built against Arm's CMSIS-NN trees: tests/test_arm_stack.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import byoc
from byoc.tflite.builder import LayerBuilder
from test_int8_ops import transpose_conv
from toolchain import require_tools

TARGET = "cmsis-nn,c"


def _validate(buf: bytes, tmp_path: Path, backend: str = "host", **kw):
    path = tmp_path / "m.tflite"
    path.write_bytes(buf)
    res = byoc.validate(path, target=TARGET, backend=backend, inputs=2, seed=1,
                        work_dir=tmp_path / "work", **kw)
    assert res.status == "pass" and res.mismatches == 0 and res.max_abs_diff == 0, res
    meta = json.loads((Path(res.output_dir) / "metadata.json").read_text())
    return res, meta


def _placements(meta) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list] = {}
    for op in meta["operators"]:
        out.setdefault(op["type"], []).append((op["backend"], op["reason"]))
    return out


def _calls(res, fn: str) -> int:
    """How many times the generated operator sources call ``fn``."""
    text = "".join(p.read_text() for p in (Path(res.output_dir) / "src").glob("*.c"))
    return text.count(f"{fn}(")


def _host(buf: bytes, tmp_path: Path):
    require_tools()
    return _validate(buf, tmp_path, cpu="host", sanitize=True)


# ---------------------------------------------------------------------------------------
# TRANSPOSE_CONV int8 -> arm_transpose_conv_wrapper_s8
# ---------------------------------------------------------------------------------------

#: (h, w, c_in, filters, kernel, stride, padding, bias, per_channel, activation): Arm's
#: scatter path (stride 3, few channels) and its reverse path (stride <= 2, C_IN > 16)
TCONV_CASES = [
    (3, 4, 3, 5, (3, 3), 2, "SAME", True, True, "NONE"),
    (4, 3, 20, 6, (2, 3), 1, "VALID", False, False, "RELU"),
    (2, 5, 17, 4, (3, 2), 2, "VALID", True, True, "RELU6"),
    (3, 2, 4, 3, (2, 2), 3, "SAME", True, False, "NONE"),
]


def _tconv_model(cases, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    lb = LayerBuilder(seed=seed)
    for h, w, c, f, k, s, pad, bias, pc, act in cases:
        x = lb.input((1, h, w, c), scale=float(rng.uniform(0.01, 0.1)),
                     zero_point=int(rng.integers(-128, 128)))
        lb.output(transpose_conv(lb, x, f, k, s, pad, bias, pc, act))
    return lb.build()


@pytest.mark.parametrize("case", range(len(TCONV_CASES)))
def test_transpose_conv_offloaded_bit_exact_on_host(case, tmp_path):
    res, meta = _host(_tconv_model([TCONV_CASES[case]], seed=case), tmp_path)
    assert _placements(meta)["TRANSPOSE_CONV"] == [
        ("cmsis-nn", "arm_transpose_conv_wrapper_s8")], meta["operators"]
    assert _calls(res, "arm_transpose_conv_wrapper_s8") == 1


# ---------------------------------------------------------------------------------------
# QEMU: one model with every call above
# ---------------------------------------------------------------------------------------

def _qemu_model() -> bytes:
    lb = LayerBuilder(seed=7)
    rng = np.random.default_rng(7)
    for h, w, c, f, k, s, pad, bias, pc, act in TCONV_CASES[:2]:
        x = lb.input((1, h, w, c), scale=float(rng.uniform(0.01, 0.1)),
                     zero_point=int(rng.integers(-128, 128)))
        lb.output(transpose_conv(lb, x, f, k, s, pad, bias, pc, act))
    return lb.build()


QEMU_CALLS = {"TRANSPOSE_CONV": "arm_transpose_conv_wrapper_s8"}


def test_new_calls_bit_exact_on_qemu(tmp_path):
    require_tools()
    res, meta = _validate(_qemu_model(), tmp_path, backend="qemu", cpu="cortex-m55")
    ops = _placements(meta)
    for op_type, fn in QEMU_CALLS.items():
        assert {b for b, _ in ops[op_type]} == {"cmsis-nn"}, ops[op_type]
        assert _calls(res, fn) >= 1, fn
