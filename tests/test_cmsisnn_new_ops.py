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
from byoc import cmsisnn_params as cp
from byoc.cmsisnn import partition as cmsis_partition
from byoc.tflite.builder import LayerBuilder
from byoc.tflite.builder import T, Quant
from sweep import sweep
from test_int8_ops import SWEEPS, _i32, transpose_conv
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
# PAD / PADV2 int8 -> arm_pad_s8 (a PAD the following convolution's padding expresses
# stays fused into it: tests/test_cmsisnn_codegen.py)
# ---------------------------------------------------------------------------------------

def padv2(lb, x, paddings, value: int):
    """PADV2 of ``x`` with the quantized constant ``value`` (x's quantization)."""
    shape = tuple(d + a + b for d, (a, b) in zip(x.shape, paddings))
    y = lb._act(shape, x.scale, x.zero_point, dtype=x.dtype)
    v = lb.mb.add_tensor(lb._name("pad_value"), (1,), x.dtype, np.array([value], x.dtype),
                         Quant.per_tensor(x.scale, x.zero_point))
    lb.mb.add_operator("PADV2", [x.index, _i32(lb, paddings), v], [y.index], "PadV2Options", {})
    return y


#: (input shape, paddings, PADV2 value or None for PAD): every NHWC field padded, rank 1-3
PAD_CASES = [
    ((2, 3, 4, 5), [(1, 0), (0, 2), (1, 1), (2, 1)], None),
    ((1, 4, 5, 6), [(0, 0), (1, 0), (0, 0), (0, 0)], 37),
    ((3, 7, 2), [(0, 1), (2, 0), (1, 1)], -128),
    ((5, 9), [(1, 2), (0, 3)], None),
    ((11,), [(4, 1)], 127),
]


def pads_before_convolutions(lb) -> None:
    """A PAD the convolution's padding expresses (stays fused), a PADV2 (value != zero
    point) and a PAD wider than the kernel (both arm_pad_s8) in front of convolutions."""
    x = lb.input((1, 6, 7, 4), scale=0.05, zero_point=-7)
    lb.output(lb.conv2d(lb.pad(x, [(0, 0), (1, 1), (1, 0), (0, 0)]), 5, 3, padding="VALID"))
    lb.output(lb.conv2d(padv2(lb, x, [(0, 0), (1, 1), (1, 1), (0, 0)], 40), 3, 3,
                        padding="VALID"))
    lb.output(lb.conv2d(lb.pad(x, [(0, 0), (3, 0), (0, 0), (0, 0)]), 2, 3, padding="VALID"))


# ---------------------------------------------------------------------------------------
# TRANSPOSE int8 -> arm_transpose_s8
# ---------------------------------------------------------------------------------------

def transpose(lb, x, perm):
    y = lb._act(tuple(x.shape[p] for p in perm), x.scale, x.zero_point, dtype=x.dtype)
    lb.mb.add_operator("TRANSPOSE", [x.index, _i32(lb, perm)], [y.index])
    return y


#: (input shape, permutation): rank 2-4, Arm's Helium 4-D path (perm[:2] == (0, 1)) too
TRANSPOSE_CASES = [
    ((2, 3, 4, 5), (3, 1, 0, 2)), ((1, 5, 7, 9), (0, 1, 3, 2)), ((1, 4, 6, 3), (0, 2, 1, 3)),
    ((3, 7, 2), (2, 0, 1)), ((5, 9), (1, 0)),
]


# ---------------------------------------------------------------------------------------
# ADD / MUL with a broadcast operand -> the equal-shape kernels over blocks of the output
# ---------------------------------------------------------------------------------------

def constant(lb, shape, scale: float, zero_point: int, dtype=np.int8) -> T:
    """A random constant operand of ``dtype`` (LayerBuilder.constant uses the builder's)."""
    info = np.iinfo(dtype)
    data = lb.rng.integers(info.min, info.max + 1, size=shape).astype(dtype)
    idx = lb.mb.add_tensor(lb._name("const"), shape, dtype, data,
                           Quant.per_tensor(scale, zero_point))
    return T(idx, tuple(shape), float(scale), int(zero_point), np.dtype(dtype))


def broadcasts(lb, x, y):
    """x: (1, 9, 11, 8) int8 (792 elements: blocks of 256 and a shorter last one); y: an
    activation (1, 1, 11, 8) repeating every 88 elements. A scalar, a per-channel, a
    non-trailing constant (stored expanded), the constant first, the activation broadcast."""
    return [lb.add(x, constant(lb, (1,), 0.02, 4), activation="RELU"),
            lb.mul(x, constant(lb, (8,), 0.03, -2)),
            lb.add(constant(lb, (1, 9, 1, 8), 0.05, 11), x),
            lb.mul(constant(lb, (1, 1, 1, 1), 0.01, 0), x, activation="RELU6"),
            lb.add(x, y), lb.mul(y, x)]


#: [(operator, kernel)] of broadcasts()
BROADCAST_CALLS = [("ADD", "arm_elementwise_add_s8"), ("MUL", "arm_elementwise_mul_s8")] * 3


# ---------------------------------------------------------------------------------------
# All of the above on the host: one model offloaded, one left generic
# ---------------------------------------------------------------------------------------

def test_pad_transpose_broadcast_offloaded_bit_exact_on_host(tmp_path):
    lb = LayerBuilder(seed=8)
    rng = np.random.default_rng(8)
    for shape, paddings, value in PAD_CASES:
        x = lb.input(shape, scale=float(rng.uniform(0.01, 0.1)),
                     zero_point=int(rng.integers(-128, 128)))
        lb.output(lb.pad(x, paddings) if value is None else padv2(lb, x, paddings, value))
    for shape, perm in TRANSPOSE_CASES:
        x = lb.input(shape, scale=float(rng.uniform(0.01, 0.1)),
                     zero_point=int(rng.integers(-128, 128)))
        lb.output(transpose(lb, x, perm))
    x = lb.input((1, 9, 11, 8), scale=0.04, zero_point=-5)
    for o in broadcasts(lb, x, lb.input((1, 1, 11, 8), scale=0.03, zero_point=9)):
        lb.output(o)
    x16 = lb.input((1, 7, 5, 9), scale=0.0004, zero_point=0, dtype=np.int16)
    lb.output(lb.op("ADD", [x16, constant(lb, (1,), 0.0007, 0, np.int16)], x16.shape,
                    0.0009, 0, "AddOptions", {}, dtype=np.int16))
    lb.output(lb.op("MUL", [constant(lb, (9,), 0.0003, 0, np.int16), x16], x16.shape,
                    0.0002, 0, "MulOptions", {}, dtype=np.int16))
    pads_before_convolutions(lb)
    res, meta = _host(lb.build(), tmp_path)
    ops = _placements(meta)
    rows = [(op["type"], op["backend"], op["reason"]) for op in meta["operators"]]
    pads = [r[1:] for r in rows if r[0] in ("PAD", "PADV2")]
    n = len(PAD_CASES)
    assert pads[:n] == [("cmsis-nn", "arm_pad_s8")] * n, pads
    assert pads[n][0] == "cmsis-nn" and "fused into the padding" in pads[n][1], pads
    assert [r[0] for r in pads[n + 1:]] == ["cmsis-nn"] * 2, pads
    assert "PAD value 40 is not the input zero point" in pads[n + 1][1], pads
    assert "leaves windows without input" in pads[n + 2][1], pads
    assert {b for b, _ in ops["CONV_2D"]} == {"cmsis-nn"}, ops["CONV_2D"]
    assert ops["TRANSPOSE"] == [("cmsis-nn", "arm_transpose_s8")] * len(TRANSPOSE_CASES), ops
    assert ops["ADD"] == [("cmsis-nn", "arm_elementwise_add_s8")] * 3 + [
        ("cmsis-nn", "arm_elementwise_add_s16")], ops
    assert ops["MUL"] == [("cmsis-nn", "arm_elementwise_mul_s8")] * 3 + [
        ("cmsis-nn", "arm_elementwise_mul_s16")], ops
    assert _calls(res, "arm_pad_s8") == len(PAD_CASES) + 2
    assert _calls(res, "arm_transpose_s8") == len(TRANSPOSE_CASES)
    # the scalar and per-channel constants: 256-element blocks; the activation: 88-element runs
    text = "".join(p.read_text() for p in (Path(res.output_dir) / "src").glob("*.c"))
    assert text.count("offset < 792; offset += 256)") == 3
    assert text.count("offset < 792; offset += 88)") == 2


def test_left_generic_with_reason_on_host(tmp_path):
    """int16 PAD / TRANSPOSE (no _s16 functions) and identity permutations stay generic."""
    lb = LayerBuilder(seed=6)
    x16 = lb.input((1, 4, 5, 3), scale=0.001, zero_point=0, dtype=np.int16)
    lb.output(lb.pad(x16, [(0, 0), (1, 1), (0, 2), (0, 0)]))
    lb.output(transpose(lb, x16, (2, 1, 0, 3)))
    x = lb.input((1, 2, 3, 4), scale=0.02, zero_point=5)
    lb.output(transpose(lb, x, (0, 1, 2, 3)))
    lb.output(transpose(lb, lb.reshape(x, (6, 4)), (0, 1)))
    # broadcast ADD / MUL: an activation repeating every 4 elements; a non-trailing constant
    # whose expansion to the output would take 4608 bytes of flash
    lb.output(lb.add(x, lb.input((1, 1, 1, 4), scale=0.03, zero_point=1)))
    big = lb.input((1, 16, 32, 9), scale=0.02, zero_point=-1)
    lb.output(lb.mul(big, constant(lb, (1, 16, 1, 9), 0.05, 3)))
    _, meta = _host(lb.build(), tmp_path)
    ops = _placements(meta)
    words = ["int16 PAD", "int16 TRANSPOSE", "identity TRANSPOSE", "identity TRANSPOSE",
             "does not repeat in runs of 16", "more than 4096 bytes"]
    for (backend, reason), word in zip(ops["PAD"] + ops["TRANSPOSE"] + ops["ADD"] + ops["MUL"],
                                       words, strict=True):
        assert backend != "cmsis-nn" and word in reason, (backend, reason, word)


# BATCH_MATMUL int8 / int16 -> arm_batch_matmul_s8 / arm_batch_matmul_s16
# ---------------------------------------------------------------------------------------

#: the reasons a BATCH_MATMUL stays generic under cmsis-nn (partition._batch_matmul_reason)
BMM_GENERIC_REASONS = ("do not fold into CMSIS-NN's two (n, h)",
                       "rounds the scaled accumulator in 32 bits")


@pytest.mark.parametrize("case", sweep(list(range(25)), bounded=1))
def test_batch_matmul_sweep_bit_exact_on_host(case, tmp_path):
    """test_int8_ops's BATCH_MATMUL generator (ranks 2-5, broadcasting, adj_x/adj_y, constant
    or computed RHS, int8/int16) on other seeds: bit-exact with TFLM, on CMSIS-NN unless the
    stated reason keeps it generic."""
    seed = 104729 + case
    lb = LayerBuilder(seed=seed)
    SWEEPS["BATCH_MATMUL"](np.random.default_rng(seed))(lb)
    res, meta = _host(lb.build(), tmp_path)
    [(backend, reason)] = _placements(meta)["BATCH_MATMUL"]
    if backend == "cmsis-nn":
        assert reason.startswith("arm_batch_matmul_s"), reason
        assert _calls(res, reason) == 1
    else:
        assert any(r in reason for r in BMM_GENERIC_REASONS), reason


def _bmm_unfoldable(lb):
    # batch (2, 1, 3) x (2, 3, 3): the lhs broadcasts over the middle dimension only
    a = lb.input((2, 1, 3, 4, 5), scale=0.05, zero_point=3)
    b = lb.input((2, 3, 3, 5, 2), scale=0.04, zero_point=-2)
    lb.output(lb.batch_matmul(a, b))


def _bmm_s16_overflow(lb):
    # depth 512 with a multiplier near 1: |acc| * reduced >> (14 - shift) passes 2^31
    a = lb.input((1, 2, 512), scale=0.5, zero_point=0, dtype=np.int16)
    b = lb.constant((1, 512, 3), 0.5, 0, dtype=np.int16)
    lb.output(lb.batch_matmul(a, b, out_scale=0.3, out_zp=0))


@pytest.mark.parametrize("case,reason", [
    (_bmm_unfoldable, "BATCH_MATMUL batch dimensions [2, 1, 3] x [2, 3, 3] do not fold into "
                      "CMSIS-NN's two (n, h)"),
    (_bmm_s16_overflow, "int16 BATCH_MATMUL of depth 512 with multiplier")])
def test_batch_matmul_arm_cannot_compute_stays_generic(case, reason):
    """The configurations where Arm's kernel cannot compute TFLM's result stay on the
    generic path with the reason (the s16 bound is checked against Arm's rounding)."""
    lb = LayerBuilder(seed=5)
    case(lb)
    rows = byoc.compiler.placement(lb.build(), TARGET)
    assert [r["backend"] for r in rows] == ["generic"], rows
    assert reason in rows[0]["reason"], rows[0]["reason"]


def test_batch_matmul_s16_bound_is_arm_rounding():
    """cmsisnn_params.batch_matmul_s16_exact is exactly the condition under which Arm's
    32-bit rounding step (truncate acc * reduced >> (14 - shift) to int32, add 1, shift 1)
    equals TFLite's 64-bit one, checked at the extreme accumulator of each depth."""
    from byoc.qnn import quant_math as qm

    def arm(acc, reduced, total):
        v = (acc * reduced) >> (total - 1)
        wrapped = (v + (1 << 31)) % (1 << 32) - (1 << 31)
        return ((wrapped + 1 + (1 << 31)) % (1 << 32) - (1 << 31)) >> 1

    for depth, mult, shift in [(1, 1 << 30, 0), (64, 1 << 30, -10), (64, 1 << 30, 0),
                               (512, 1 << 30, 1), (8, 2 ** 31 - 1, 5), (3, 1 << 30, 14)]:
        reduced, total = qm.reduced_multiplier_s64(mult, shift)
        acc = depth << 30
        tflm = (acc * reduced + (1 << (total - 1))) >> total
        exact = cp.batch_matmul_s16_exact(depth, mult, shift)
        assert exact == (arm(acc, reduced, total) == tflm and
                         (acc * reduced) >> (total - 1) <= (1 << 31) - 2), (depth, mult, shift)
    assert cmsis_partition.KERNELS_S16["batch_matmul"] == "arm_batch_matmul_s16"


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
    for shape, paddings, value in PAD_CASES[:3]:
        x = lb.input(shape, scale=0.04, zero_point=int(rng.integers(-128, 128)))
        lb.output(lb.pad(x, paddings) if value is None else padv2(lb, x, paddings, value))
    for shape, perm in TRANSPOSE_CASES[:3]:
        lb.output(transpose(lb, lb.input(shape, scale=0.03, zero_point=-20), perm))
    x = lb.input((1, 9, 11, 8), scale=0.04, zero_point=-5)
    for o in broadcasts(lb, x, lb.input((1, 1, 11, 8), scale=0.03, zero_point=9)):
        lb.output(o)
    # BATCH_MATMUL: constant RHS (transposed at compile time), then the tensor with itself
    # under adj_x (a run-time transposed copy in the scratch), and int16 with adj_y; the
    # unfoldable 5-D one stays generic (the generic kernel on the same firmware)
    q = lb.input((2, 5, 8), scale=0.06, zero_point=-4)
    y = lb.batch_matmul(q, lb.constant((1, 8, 6), 0.03, 5), out_zp=-9)
    lb.output(lb.batch_matmul(y, y, adj_x=True, out_zp=11))
    s16 = lb.input((3, 4, 6), scale=0.002, zero_point=0, dtype=np.int16)
    lb.output(lb.batch_matmul(s16, lb.constant((1, 5, 6), 0.003, 0, dtype=np.int16),
                              adj_y=True, out_zp=0))
    _bmm_unfoldable(lb)
    return lb.build()


QEMU_CALLS = {"TRANSPOSE_CONV": "arm_transpose_conv_wrapper_s8", "PAD": "arm_pad_s8",
              "PADV2": "arm_pad_s8", "TRANSPOSE": "arm_transpose_s8",
              "ADD": "arm_elementwise_add_s8", "MUL": "arm_elementwise_mul_s8"}
#: where the QEMU model's BATCH_MATMULs go (the unfoldable 5-D one stays generic)
QEMU_BMM = {"placement": ["cmsis-nn"] * 3 + ["generic"],
            "calls": ("arm_batch_matmul_s8", "arm_batch_matmul_s16")}


def test_new_calls_bit_exact_on_qemu(tmp_path):
    require_tools()
    res, meta = _validate(_qemu_model(), tmp_path, backend="qemu", cpu="cortex-m55")
    ops = _placements(meta)
    for op_type, fn in QEMU_CALLS.items():
        assert {b for b, _ in ops[op_type]} == {"cmsis-nn"}, ops[op_type]
        assert _calls(res, fn) >= 1, fn
    assert [b for b, _ in ops["BATCH_MATMUL"]] == QEMU_BMM["placement"], ops["BATCH_MATMUL"]
    for fn in QEMU_BMM["calls"]:
        assert _calls(res, fn) >= 1, fn
