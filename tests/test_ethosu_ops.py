"""Issue 16's operators under ``ethos-u55-*`` targets: each one Vela 5.2 runs on the NPU
lands there (metadata placement) and is bit-exact with TFLM (host: byoc's functional
Ethos-U55 model; a sample on QEMU's Ethos-U55 device); each one byoc does not offload says
why in ``info``."""

import json
import os
import shutil

import numpy as np
import pytest

import byoc
from byoc.tflite.builder import LayerBuilder, Quant
from test_int8_ops import _i32, transpose_conv

HAVE_QEMU = shutil.which("qemu-system-arm") is not None and \
    shutil.which("arm-none-eabi-gcc") is not None
TARGET = "ethos-u55-256,c"


def _activations(lb):
    """conv -> TANH, LOGISTIC, LEAKY_RELU(0.2), HARD_SWISH, RELU6 (one quantization in and
    out, as TFLM's RELU6 computes), MAXIMUM/MINIMUM (equal quantizations: Vela's condition),
    SUB."""
    x = lb.input((1, 6, 6, 8), scale=0.08, zero_point=-3)
    y = lb.conv2d(x, 8, 3)
    th = lb.op("TANH", [y], y.shape, 1 / 128, 0)
    lg = lb.op("LOGISTIC", [y], y.shape, 1 / 256, -128)
    lr = lb.op("LEAKY_RELU", [y], y.shape, 0.05, -7, "LeakyReluOptions", {"Alpha": 0.2})
    hs = lb.op("HARD_SWISH", [lr], y.shape, 0.04, -30)
    r6 = lb.op("RELU6", [hs], y.shape, 0.04, -30)
    a = lb.op("LEAKY_RELU", [th], y.shape, 1 / 128, 0, "LeakyReluOptions", {"Alpha": 0.634})
    mx = lb.op("MAXIMUM", [th, a], y.shape, 1 / 128, 0)
    mn = lb.op("MINIMUM", [mx, th], y.shape, 1 / 128, 0)
    s = lb.op("SUB", [mn, lg], y.shape, 0.01, 5, "SubOptions", {})
    lb.output(lb.op("SUB", [s, r6], y.shape, 0.06, -2, "SubOptions", {}))


def _resize(lb):
    """RESIZE_BILINEAR half-pixel (2x) then align_corners (to 13x23), then none."""
    x = lb.input((1, 4, 6, 8), scale=0.06, zero_point=-9)
    y = lb.conv2d(x, 8, 3)
    prev = y
    for hw, align, half in (((8, 12), False, True), ((15, 23), True, False),
                            ((30, 46), False, False)):
        r = lb._act((1, *hw, 8), y.scale, y.zero_point)
        lb.mb.add_operator("RESIZE_BILINEAR", [prev.index, _i32(lb, hw)], [r.index],
                           "ResizeBilinearOptions", {"AlignCorners": align,
                                                     "HalfPixelCenters": half})
        prev = r
    lb.output(prev)


def _transpose_conv(lb):
    """TRANSPOSE_CONV stride 2 VALID (with and without bias, RELU fused)."""
    x = lb.input((1, 5, 5, 4), scale=0.05, zero_point=-3)
    y = transpose_conv(lb, x, 6, (3, 3), 2, "VALID", True, True, "RELU")
    lb.output(transpose_conv(lb, y, 3, (2, 2), 2, "VALID", False, False))


def _padv2(lb):
    """conv -> PADV2 (a value other than the zero point) -> conv -> ABS."""
    x = lb.input((1, 6, 6, 8), scale=0.08, zero_point=-3)
    y = lb.conv2d(x, 8, 3)
    p = lb._act((1, 8, 9, 8), y.scale, y.zero_point)
    value = lb.mb.add_tensor(lb._name("pad_value"), (1,), np.int8,
                             np.array([y.zero_point + 37], np.int8),
                             Quant.per_tensor(y.scale, y.zero_point))
    lb.mb.add_operator("PADV2", [y.index, _i32(lb, [[0, 0], [1, 1], [2, 1], [0, 0]]), value],
                       [p.index], "PadV2Options", {})
    a = lb.op("ABS", [lb.conv2d(p, 4, 3, padding="VALID")], (1, 6, 7, 4), 0.05, -128)
    lb.output(a)


def _batch_matmul(lb):
    """BATCH_MATMUL: a constant RHS broadcast over the batch, a computed one with adj_y, and
    the tensor with itself under adj_x (Vela 5.2 runs each on the Ethos-U55)."""
    x = lb.input((2, 5, 8), scale=0.06, zero_point=-4)
    y = lb.batch_matmul(x, lb.constant((1, 8, 6), 0.03, 5), out_zp=-9)
    z = lb.batch_matmul(y, lb.input((2, 7, 6), scale=0.05, zero_point=3), adj_y=True,
                        out_zp=2)
    lb.output(lb.batch_matmul(z, z, adj_x=True, out_zp=11))


MODELS = {"activations": _activations, "resize": _resize, "transpose_conv": _transpose_conv,
          "padv2": _padv2, "batch_matmul": _batch_matmul}


def _build(fn, seed=16) -> bytes:
    lb = LayerBuilder(seed=seed)
    fn(lb)
    return lb.build()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_operators_run_on_the_npu_bit_exact_on_host(name, tmp_path):
    res = byoc.validate(_build(MODELS[name]), target=TARGET, backend="host", inputs=2,
                        seed=1, work_dir=tmp_path)
    with open(os.path.join(res.output_dir, "metadata.json")) as f:
        ops = json.load(f)["operators"]
    assert {o["backend"] for o in ops} == {"ethos-u"}, ops
    assert res.status == "pass" and res.max_abs_diff == 0, res


@pytest.mark.skipif(not HAVE_QEMU, reason="needs qemu-system-arm and arm-none-eabi-gcc")
@pytest.mark.parametrize("name", ["activations", "transpose_conv", "batch_matmul"])
def test_operators_on_the_npu_bit_exact_on_qemu(name, tmp_path):
    res = byoc.validate(_build(MODELS[name]), target=TARGET, backend="qemu", inputs=2,
                        seed=1, work_dir=tmp_path)
    assert res.status == "pass" and res.max_abs_diff == 0, res


def _refused(lb):
    a = lb.input((1, 4, 4, 8), scale=0.04, zero_point=-5)
    b = lb.input((1, 4, 4, 8), scale=0.07, zero_point=12)
    mx = lb.op("MAXIMUM", [a, b], a.shape, 0.09, 3)             # quantizations differ
    r6 = lb.op("RELU6", [mx], a.shape, 0.03, -128)              # requantizing RELU6
    t = transpose_conv(lb, r6, 4, (3, 3), 2, "SAME", True)     # Vela: SAME keeps it on CPU
    s = lb._act((1, 8, 8, 1), 0.3, 4)
    lb.mb.add_operator("SUM", [t.index, _i32(lb, [3])], [s.index], "ReducerOptions",
                       {"KeepDims": True})
    lb.output(s)


def test_info_says_why_the_npu_did_not_take_each_operator():
    rows = byoc.compiler.placement(_build(_refused), TARGET)
    why = {r["type"]: r["reason"] for r in rows}
    assert {r["backend"] for r in rows} == {"generic"}, rows
    assert "not on the NPU: Vela keeps it on the CPU (MAXIMUM)" in why["MAXIMUM"]
    assert "not on the NPU: Vela keeps it on the CPU (TRANSPOSE_CONV)" in why["TRANSPOSE_CONV"]
    assert "not on the NPU: TFLM's RELU6 keeps the input's quantization" in why["RELU6"]
    assert "not on the NPU: Vela 5.2's SUM is not bit-exact with TFLM" in why["SUM"]
