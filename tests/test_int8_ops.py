"""TFLM's int8 operators on the generic C path: integer kernels, bit-exact with TFLM.

Per operator a random sweep (shapes, quantization, options drawn from a seeded generator):
each case is compiled with ``--target c`` (which refuses any float computation), built
with gcc -Wall -Wextra -Werror plus AddressSanitizer/UBSan, run on random inputs and
compared element by element with TFLM. The default run draws ``DEFAULT_CASES`` cases per
operator, ``BYOC_FULL_SWEEP=1`` draws ``FULL_CASES``. One model with every operator runs
on the Corstone-300 (QEMU) for every CPU-side target that takes them.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

import byoc
from byoc.tflite.builder import ACTIVATIONS, LayerBuilder, Quant
from sweep import sweep
from toolchain import require_tools

DEFAULT_CASES = 2
FULL_CASES = 25


def _scale(rng, lo=0.002, hi=1.0) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _shape(rng, max_rank=4, max_dim=9) -> tuple[int, ...]:
    rank = int(rng.integers(1, max_rank + 1))
    return tuple(int(v) for v in rng.integers(1, max_dim + 1, size=rank))


def _logistic(rng):
    shape, s, zp = _shape(rng), _scale(rng, 0.001, 2.0), int(rng.integers(-128, 128))

    def fn(lb):
        x = lb.input(shape, scale=s, zero_point=zp)
        lb.output(lb.op("LOGISTIC", [x], shape, 1 / 256, -128))
    return fn


def _tanh(rng):
    shape, s, zp = _shape(rng), _scale(rng, 0.001, 2.0), int(rng.integers(-128, 128))

    def fn(lb):
        x = lb.input(shape, scale=s, zero_point=zp)
        lb.output(lb.op("TANH", [x], shape, 1 / 128, 0))
    return fn


def _unary(op: str, same_quant: bool = False, options=(None, None), int16: bool = True):
    """A one-input operator on a random shape and quantization (int8, or int16 with zero
    point 0 when ``int16``)."""
    def gen(rng):
        dt = np.int16 if int16 and rng.integers(0, 4) == 0 else np.int8
        shape = _shape(rng)
        s = _scale(rng, 0.005, 0.5)
        zp = 0 if dt == np.int16 else int(rng.integers(-128, 128))
        out = (s, zp) if same_quant else (_scale(rng, 0.005, 0.5),
                                          0 if dt == np.int16 else int(rng.integers(-128, 128)))
        opts = options(rng) if callable(options) else options

        def fn(lb):
            x = lb.input(shape, scale=s, zero_point=zp, dtype=dt)
            lb.output(lb.op(op, [x], shape, *out, *opts, dtype=dt))
        return fn
    return gen


def _binary(op: str, options=(None, None), int16: bool = True, zero_zp16: bool = False):
    """A two-input operator with broadcasting and independent quantizations."""
    def gen(rng):
        dt = np.int16 if int16 and rng.integers(0, 4) == 0 else np.int8
        shape = _shape(rng)
        rank = len(shape)
        bshape = tuple(d if rng.integers(0, 2) else 1 for d in shape)[int(rng.integers(0, rank)):]

        def q():
            zp = 0 if dt == np.int16 and zero_zp16 else int(rng.integers(-128, 128))
            return _scale(rng, 0.005, 0.5), zp
        qa, qb, qo = q(), q(), q()
        opts = options(rng) if callable(options) else options

        def fn(lb):
            a = lb.input(shape, scale=qa[0], zero_point=qa[1], dtype=dt)
            b = lb.input(bshape or (1,), scale=qb[0], zero_point=qb[1], dtype=dt)
            lb.output(lb.op(op, [a, b], shape, *qo, *opts, dtype=dt))
        return fn
    return gen


def _leaky_options(rng):
    return "LeakyReluOptions", {"Alpha": float(rng.choice([0.2, 0.01, 0.1, 0.634,
                                                              rng.uniform(0, 1)]))}


def _activation_options(rng, name):
    act = str(rng.choice(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]))
    return name, {"FusedActivationFunction": ACTIVATIONS[act]}


def _i32(lb, values):
    arr = np.asarray(values, np.int32)
    return lb.mb.add_tensor(lb._name("const"), arr.shape, np.int32, arr)


def _movement(op: str):
    """A data-movement operator (raw copy in TFLM) on a random shape and dtype."""
    int16 = op not in ("GATHER", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH")   # TFLM: int8 only

    def gen(rng):
        dt = np.int16 if int16 and rng.integers(0, 4) == 0 else np.int8
        s = _scale(rng)
        zp = 0 if dt == np.int16 else int(rng.integers(-128, 128))

        def fn(lb):
            def act(shape):
                return lb._act(tuple(shape), s, zp, dtype=dt)
            if op in ("DEPTH_TO_SPACE", "SPACE_TO_DEPTH"):
                b = int(rng.integers(2, 4))
                h, w = (int(v) for v in rng.integers(1, 4, size=2))
                c = int(rng.integers(1, 4))
                shape = (1, h, w, c * b * b) if op == "DEPTH_TO_SPACE" else (1, h * b, w * b, c)
                out = (1, h * b, w * b, c) if op == "DEPTH_TO_SPACE" else (1, h, w, c * b * b)
                x = lb.input(shape, scale=s, zero_point=zp, dtype=dt)
                y = act(out)
                opts = "DepthToSpaceOptions" if op == "DEPTH_TO_SPACE" else "SpaceToDepthOptions"
                lb.mb.add_operator(op, [x.index], [y.index], opts, {"BlockSize": b})
                lb.output(y)
                return
            shape = _shape(rng, 4, 6)
            x = lb.input(shape, scale=s, zero_point=zp, dtype=dt)
            rank = len(shape)
            if op == "TRANSPOSE":
                perm = [int(v) for v in rng.permutation(rank)]
                y = act([shape[p] for p in perm])
                lb.mb.add_operator(op, [x.index, _i32(lb, perm)], [y.index])
            elif op == "EXPAND_DIMS":
                axis = int(rng.integers(-rank - 1, rank + 1))
                pos = axis + rank + 1 if axis < 0 else axis
                y = act(shape[:pos] + (1,) + shape[pos:])
                lb.mb.add_operator(op, [x.index, _i32(lb, [axis])], [y.index])
            elif op == "SQUEEZE":
                x2 = act(shape[:1] + (1,) + shape[1:])
                lb.mb.add_operator("RESHAPE", [x.index, _i32(lb, x2.shape)], [x2.index],
                                   "ReshapeOptions", {})
                y = act(shape)
                lb.mb.add_operator(op, [x2.index], [y.index], "SqueezeOptions",
                                   {"SqueezeDims": [1]})
            elif op == "PACK":
                n = int(rng.integers(2, 4))
                axis = int(rng.integers(0, rank + 1))
                others = [lb.input(shape, scale=s, zero_point=zp, dtype=dt) for _ in range(n - 1)]
                y = act(shape[:axis] + (n,) + shape[axis:])
                lb.mb.add_operator(op, [x.index] + [o.index for o in others], [y.index],
                                   "PackOptions", {"ValuesCount": n, "Axis": axis})
            elif op == "UNPACK":
                axis = int(rng.integers(0, rank))
                outs = [act(shape[:axis] + shape[axis + 1:]) for _ in range(shape[axis])]
                lb.mb.add_operator(op, [x.index], [o.index for o in outs], "UnpackOptions",
                                   {"Num": shape[axis], "Axis": axis})
                for o in outs:
                    lb.output(o)
                return
            elif op == "GATHER":
                axis = int(rng.integers(0, rank))
                idx = rng.integers(0, shape[axis], size=int(rng.integers(1, 5)))
                y = act(shape[:axis] + (len(idx),) + shape[axis + 1:])
                lb.mb.add_operator(op, [x.index, _i32(lb, idx)], [y.index], "GatherOptions",
                                   {"Axis": axis})
            lb.output(y)
        return fn
    return gen


def _resize(op: str):
    """RESIZE_* with random sizes (up and down), align_corners / half_pixel_centers."""
    def gen(rng):
        # TFLM's RESIZE_BILINEAR is int8 only
        int16 = op != "RESIZE_BILINEAR" and rng.integers(0, 4) == 0
        dt = np.int16 if int16 else np.int8
        s, zp = _scale(rng), int(rng.integers(-128, 128)) if dt == np.int8 else 0
        n, h, w, c = 1, *(int(v) for v in rng.integers(1, 9, size=2)), int(rng.integers(1, 5))
        oh, ow = (int(v) for v in rng.integers(1, 17, size=2))
        mode = int(rng.integers(0, 3))      # 0: neither, 1: align_corners, 2: half pixel
        opts = "ResizeBilinearOptions" if op == "RESIZE_BILINEAR" else \
            "ResizeNearestNeighborOptions"

        def fn(lb):
            x = lb.input((n, h, w, c), scale=s, zero_point=zp, dtype=dt)
            y = lb._act((n, oh, ow, c), s, zp, dtype=dt)
            lb.mb.add_operator(op, [x.index, _i32(lb, [oh, ow])], [y.index], opts,
                               {"AlignCorners": mode == 1, "HalfPixelCenters": mode == 2})
            lb.output(y)
        return fn
    return gen


def _reduce(op: str):
    """SUM / REDUCE_MAX over random axes, keep_dims varied (REDUCE_MAX keeps the input's
    quantization, as TFLM requires)."""
    def gen(rng):
        # TFLM's REDUCE_MAX is int8 only
        dt = np.int16 if op == "SUM" and rng.integers(0, 4) == 0 else np.int8
        shape = _shape(rng, 4, 8)
        rank = len(shape)
        axes = sorted({int(a) for a in rng.integers(0, rank, size=int(rng.integers(1, rank + 1)))})
        keep = bool(rng.integers(0, 2))
        s = _scale(rng)
        zp = 0 if dt == np.int16 else int(rng.integers(-128, 128))
        out_q = (s, zp) if op == "REDUCE_MAX" else (
            _scale(rng), 0 if dt == np.int16 else int(rng.integers(-128, 128)))
        out = [1 if i in axes else d for i, d in enumerate(shape)] if keep else \
            [d for i, d in enumerate(shape) if i not in axes]

        def fn(lb):
            x = lb.input(shape, scale=s, zero_point=zp, dtype=dt)
            y = lb._act(tuple(out), *out_q, dtype=dt)
            lb.mb.add_operator(op, [x.index, _i32(lb, axes)], [y.index], "ReducerOptions",
                               {"KeepDims": keep})
            lb.output(y)
        return fn
    return gen


def transpose_conv(lb, x, filters, kernel, stride, padding, bias=True, per_channel=True,
                   activation="NONE", out_q=None):
    """A TRANSPOSE_CONV layer (TFLite: output shape, OHWI weights, input, optional bias)."""
    import tflite
    n, h, w_, c = x.shape
    kh, kw = kernel
    oh = h * stride if padding == "SAME" else (h - 1) * stride + kh
    ow = w_ * stride if padding == "SAME" else (w_ - 1) * stride + kw
    w = lb.rng.integers(-127, 128, size=(filters, kh, kw, c)).astype(np.int8)
    ws = [float(v) for v in lb.rng.uniform(0.002, 0.02, size=filters if per_channel else 1)]
    wq = Quant(ws, [0] * len(ws), 0)
    wi = lb.mb.add_tensor(lb._name("tc_w"), w.shape, np.int8, w, wq)
    ins = [_i32(lb, [n, oh, ow, filters]), wi, x.index]
    if bias:
        b = lb.rng.integers(-2000, 2000, size=filters).astype(np.int32)
        bs = [x.scale * v for v in (ws if per_channel else ws * filters)]
        ins.append(lb.mb.add_tensor(lb._name("tc_b"), b.shape, np.int32, b,
                                    Quant(bs, [0] * filters, 0)))
    scale, zp = out_q or (x.scale * float(np.mean(ws)) * np.sqrt(kh * kw * c) * 20,
                          int(lb.rng.integers(-20, 21)))
    y = lb._act((n, oh, ow, filters), scale, zp)
    lb.mb.add_operator("TRANSPOSE_CONV", ins, [y.index], "TransposeConvOptions",
                       {"Padding": getattr(tflite.Padding, padding), "StrideW": stride,
                        "StrideH": stride,
                        "FusedActivationFunction": ACTIVATIONS[activation]})
    return y


def _transpose_conv(rng):
    h, w, c = (int(v) for v in rng.integers(1, 7, size=3))
    f = int(rng.integers(1, 6))
    kernel = tuple(int(v) for v in rng.integers(1, 5, size=2))
    stride = int(rng.integers(1, 4))
    padding = str(rng.choice(["SAME", "VALID"]))
    bias, per_channel = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
    act = str(rng.choice(["NONE", "RELU", "RELU6"]))
    s, zp = _scale(rng, 0.01, 0.2), int(rng.integers(-128, 128))

    def fn(lb):
        x = lb.input((1, h, w, c), scale=s, zero_point=zp)
        lb.output(transpose_conv(lb, x, f, kernel, stride, padding, bias, per_channel, act))
    return fn


def _prelu(rng):
    """PRELU with a constant alpha broadcast per channel (or full), alpha values negative
    and above 1 included."""
    shape = _shape(rng, 4, 7)
    ashape = shape[-1:] if rng.integers(0, 2) else tuple(shape[1:]) or (1,)
    s, zp = _scale(rng, 0.005, 0.5), int(rng.integers(-128, 128))
    a_s, a_zp = _scale(rng, 0.005, 0.05), int(rng.integers(-40, 41))
    out_s, out_zp = _scale(rng, 0.005, 0.5), int(rng.integers(-128, 128))

    def fn(lb):
        x = lb.input(shape, scale=s, zero_point=zp)
        a = lb.constant(ashape, a_s, a_zp)
        lb.output(lb.op("PRELU", [x, a], shape, out_s, out_zp))
    return fn


def _batch_matmul(rng):
    """BATCH_MATMUL, rank 2 to 5, batch dimensions broadcast (either side 1, or missing),
    adj_x / adj_y, a constant RHS half the time; int16 (zero points 0) one case in four."""
    dt = np.int16 if rng.integers(0, 4) == 0 else np.int8
    rank = int(rng.integers(2, 6))
    m, k, n = (int(v) for v in rng.integers(1, 10, size=3))
    batch = [int(v) for v in rng.integers(1, 4, size=rank - 2)]
    ba, bb = ([d if rng.integers(0, 2) else 1 for d in batch] for _ in range(2))
    ba = ba[int(rng.integers(0, len(ba) + 1)):] if rng.integers(0, 2) else ba
    adj_x, adj_y = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
    a_shape = (*ba, *((k, m) if adj_x else (m, k)))
    b_shape = (*bb, *((n, k) if adj_y else (k, n)))
    const_b = bool(rng.integers(0, 2))

    def q():
        return _scale(rng, 0.005, 0.5), 0 if dt == np.int16 else int(rng.integers(-128, 128))
    qa, qb = q(), q()
    out_s = qa[0] * qb[0] * _scale(rng, 1.0, 60.0) * (256 if dt == np.int16 else 1)
    out_zp = 0 if dt == np.int16 else int(rng.integers(-128, 128))

    def fn(lb):
        a = lb.input(a_shape, scale=qa[0], zero_point=qa[1], dtype=dt)
        b = lb.constant(b_shape, *qb, dtype=dt) if const_b else \
            lb.input(b_shape, scale=qb[0], zero_point=qb[1], dtype=dt)
        lb.output(lb.batch_matmul(a, b, adj_x, adj_y, out_s, out_zp))
    return fn


def _l2_normalization(rng):
    """L2_NORMALIZATION over the innermost axis; depth 1-3 rows give sums of squares 0, 1 and
    the small sums whose inverse square root shift is moved into the multiplier."""
    depth = int(rng.choice([1, 2, 3, 8, 17, 64]))
    lead = _shape(rng, 3, 12 if depth < 4 else 5)
    shape = (*lead, depth)[-4:]
    s, zp = _scale(rng, 0.005, 0.5), int(rng.integers(-128, 128))

    def fn(lb):
        x = lb.input(shape, scale=s, zero_point=zp)
        lb.output(lb.op("L2_NORMALIZATION", [x], shape, 1 / 128, 0, "L2NormOptions", {}))
    return fn


#: operator -> case generator (rng -> model function for LayerBuilder)
SWEEPS: dict[str, Callable] = {
    "LOGISTIC": _logistic,
    "TANH": _tanh,
    "LEAKY_RELU": _unary("LEAKY_RELU", options=_leaky_options),
    "RELU": _unary("RELU"),
    "RELU6": _unary("RELU6"),
    "HARD_SWISH": _unary("HARD_SWISH", int16=False),
    "ABS": _unary("ABS"),
    "PRELU": _prelu,
    "L2_NORMALIZATION": _l2_normalization,
    "BATCH_MATMUL": _batch_matmul,
    "MAXIMUM": _binary("MAXIMUM"),
    "MINIMUM": _binary("MINIMUM"),
    "SUB": _binary("SUB", options=lambda rng: _activation_options(rng, "SubOptions")),
    "ADD": _binary("ADD", options=lambda rng: _activation_options(rng, "AddOptions")),
    "SQUARED_DIFFERENCE": _binary("SQUARED_DIFFERENCE", int16=False),
    "TRANSPOSE_CONV": _transpose_conv,
    "SUM": _reduce("SUM"),
    "REDUCE_MAX": _reduce("REDUCE_MAX"),
    "RESIZE_NEAREST_NEIGHBOR": _resize("RESIZE_NEAREST_NEIGHBOR"),
    "RESIZE_BILINEAR": _resize("RESIZE_BILINEAR"),
    **{op: _movement(op) for op in ("TRANSPOSE", "EXPAND_DIMS", "SQUEEZE", "PACK", "UNPACK",
                                    "GATHER", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH")},
}


def _cases():
    return [case for op in sorted(SWEEPS)
            for case in sweep([pytest.param(op, k) for k in range(FULL_CASES)], bounded=DEFAULT_CASES)]


def _build(fn, seed: int) -> bytes:
    lb = LayerBuilder(seed=seed)
    fn(lb)
    return lb.build()


@pytest.mark.parametrize("op,case", _cases())
def test_random_sweep_bit_exact_on_host(op, case, tmp_path):
    seed = 7919 * (sorted(SWEEPS).index(op) + 1) + case
    model = _build(SWEEPS[op](np.random.default_rng(seed)), seed)
    res = byoc.validate(model, target="c", backend="host", inputs=2, seed=case,
                        work_dir=tmp_path, sanitize=True)
    assert res.status == "pass" and res.max_abs_diff == 0, (op, case, res)


def _conv_leaky(lb, alpha=0.2):
    x = lb.input((1, 8, 8, 16))
    y = lb.conv2d(x, 16, 3)
    lb.output(lb.op("LEAKY_RELU", [y], y.shape, y.scale, y.zero_point, "LeakyReluOptions",
                    {"Alpha": alpha}))


def _int16_add(lb):
    a = lb.input((1, 4, 4, 8), scale=0.0128, zero_point=-64, dtype=np.int16)
    b = lb.input((1, 4, 4, 8), scale=0.256, zero_point=33, dtype=np.int16)
    lb.output(lb.op("ADD", [a, b], a.shape, 0.256, 0, "AddOptions", {}, dtype=np.int16))


def _sub(lb, shape=(1, 2, 3, 4), then_logistic=False):
    a = lb.input(shape, scale=0.04, zero_point=-5)
    b = lb.input(shape, scale=0.07, zero_point=12)
    y = lb.op("SUB", [a, b], shape, 0.09, 3, "SubOptions", {})
    lb.output(lb.op("LOGISTIC", [y], shape, 1 / 256, -128) if then_logistic else y)


def _hard_swish(lb, shape):
    x = lb.input(shape, scale=0.03, zero_point=7)
    lb.output(lb.op("HARD_SWISH", [x], shape, 0.02, -20))


def _resize_case(lb, op, out_hw, align):
    x = lb.input((1, 4, 7, 3), scale=0.06, zero_point=-9)
    y = lb._act((1, *out_hw, 3), x.scale, x.zero_point)
    opts = "ResizeBilinearOptions" if op == "RESIZE_BILINEAR" else "ResizeNearestNeighborOptions"
    lb.mb.add_operator(op, [x.index, _i32(lb, out_hw)], [y.index], opts,
                       {"AlignCorners": align, "HalfPixelCenters": False})
    lb.output(y)


def _sum_case(lb, shape, keep, relu):
    x = lb.input(shape, scale=0.05, zero_point=-10)
    out = shape[:3] + ((1,) if keep else ())
    y = lb._act(out, 0.2, 4)
    lb.mb.add_operator("SUM", [x.index, _i32(lb, [3])], [y.index], "ReducerOptions",
                       {"KeepDims": keep})
    lb.output(lb.op("RELU", [y], out, 0.2, -128) if relu else y)


#: the configurations issue 16 found wrong on the generic path (float fallbacks)
ISSUE_CASES = {
    "conv_leaky_relu_0.2": _conv_leaky,
    "conv_leaky_relu_0.634": lambda lb: _conv_leaky(lb, 0.634),
    "int16_add_nonzero_zero_points": _int16_add,
    "sub_equal_shapes": _sub,
    "sub_logistic": lambda lb: _sub(lb, (1, 8, 8, 4), True),
    "hard_swish_1x5x5x3": lambda lb: _hard_swish(lb, (1, 5, 5, 3)),
    "hard_swish_1x12x9x1": lambda lb: _hard_swish(lb, (1, 12, 9, 1)),
    "sum_axis3_1x4x2x8_keep": lambda lb: _sum_case(lb, (1, 4, 2, 8), True, False),
    "sum_axis3_1x4x2x8_relu": lambda lb: _sum_case(lb, (1, 4, 2, 8), False, True),
    "sum_axis3_1x4x4x1_keep_relu": lambda lb: _sum_case(lb, (1, 4, 4, 1), True, True),
    **{f"transpose_conv_s2_{pad.lower()}_{'bias' if bias else 'nobias'}":
       (lambda pad, bias: lambda lb: lb.output(transpose_conv(
           lb, lb.input((1, 5, 5, 4), scale=0.05, zero_point=-3), 6, (3, 3), 2, pad, bias)))(
           pad, bias)
       for pad in ("SAME", "VALID") for bias in (True, False)},
    "resize_bilinear_8x14": lambda lb: _resize_case(lb, "RESIZE_BILINEAR", (8, 14), False),
    "resize_bilinear_7x13_align": lambda lb: _resize_case(lb, "RESIZE_BILINEAR", (7, 13), True),
    "resize_nearest_8x14": lambda lb: _resize_case(lb, "RESIZE_NEAREST_NEIGHBOR", (8, 14),
                                                   False),
}


@pytest.mark.parametrize("name", sorted(ISSUE_CASES))
def test_issue_cases_bit_exact_on_host(name, tmp_path):
    res = byoc.validate(_build(ISSUE_CASES[name], 16), target="c", backend="host", inputs=3,
                        seed=0, work_dir=tmp_path, sanitize=True)
    assert res.status == "pass" and res.max_abs_diff == 0, res


def _chain(lb):
    """Every operator of the sweep in one model (QEMU sample)."""
    x = lb.input((1, 6, 6, 8), scale=0.08, zero_point=-3)
    y = lb.conv2d(x, 8, 3)
    lg = lb.op("LOGISTIC", [y], y.shape, 1 / 256, -128)
    th = lb.op("TANH", [y], y.shape, 1 / 128, 0)
    lr = lb.op("LEAKY_RELU", [y], y.shape, 0.05, -7, "LeakyReluOptions", {"Alpha": 0.2})
    hs = lb.op("HARD_SWISH", [lr], y.shape, 0.04, -30)
    r = lb.op("RELU", [hs], y.shape, 0.04, -128)
    r6 = lb.op("RELU6", [r], y.shape, 0.04, -128)
    mx = lb.op("MAXIMUM", [lg, th], y.shape, 1 / 128, 0)
    mn = lb.op("MINIMUM", [mx, r6], y.shape, 1 / 128, 0)
    sd = lb.op("SQUARED_DIFFERENCE", [mn, lg], y.shape, 0.01, -100)
    lb.output(lb.op("SUB", [sd, r6], y.shape, 0.05, 2, "SubOptions", {}))


def _movement_chain(lb):
    """The resize and data-movement operators in one model (QEMU sample)."""
    x = lb.input((1, 4, 6, 8), scale=0.08, zero_point=-3)
    y = lb.conv2d(x, 8, 3)
    r = lb._act((1, 7, 11, 8), y.scale, y.zero_point)
    lb.mb.add_operator("RESIZE_BILINEAR", [y.index, _i32(lb, [7, 11])], [r.index],
                       "ResizeBilinearOptions", {"HalfPixelCenters": True})
    n = lb._act((1, 8, 12, 8), y.scale, y.zero_point)
    lb.mb.add_operator("RESIZE_NEAREST_NEIGHBOR", [r.index, _i32(lb, [8, 12])], [n.index],
                       "ResizeNearestNeighborOptions", {})
    t = lb._act((1, 12, 8, 8), y.scale, y.zero_point)
    lb.mb.add_operator("TRANSPOSE", [n.index, _i32(lb, [0, 2, 1, 3])], [t.index])
    d = lb._act((1, 6, 4, 32), y.scale, y.zero_point)
    lb.mb.add_operator("SPACE_TO_DEPTH", [t.index], [d.index], "SpaceToDepthOptions",
                       {"BlockSize": 2})
    g = lb._act((1, 6, 2, 32), y.scale, y.zero_point)
    lb.mb.add_operator("GATHER", [d.index, _i32(lb, [3, 0])], [g.index], "GatherOptions",
                       {"Axis": 2})
    lb.output(g)


def _transpose_conv_chain(lb):
    x = lb.input((1, 6, 5, 4), scale=0.05, zero_point=-3)
    y = lb.conv2d(x, 6, 3, stride=2)
    y = transpose_conv(lb, y, 5, (3, 3), 2, "SAME", True, True, "RELU")
    lb.output(transpose_conv(lb, y, 3, (2, 1), 3, "VALID", False, False))


@pytest.mark.parametrize("target", ["c", "cmsis-nn,c"])
@pytest.mark.parametrize("model", ["elementwise", "movement", "transpose_conv"])
def test_operator_chain_bit_exact_on_qemu(model, target, tmp_path):
    require_tools()
    fn = {"elementwise": _chain, "movement": _movement_chain,
          "transpose_conv": _transpose_conv_chain}[model]
    res = byoc.validate(_build(fn, 5), target=target, backend="qemu", inputs=2, seed=3,
                        work_dir=tmp_path)
    assert res.status == "pass" and res.max_abs_diff == 0, res


@pytest.mark.parametrize("op,out_q", [("LOGISTIC", (1 / 128, 0)), ("TANH", (1 / 256, -128))])
def test_unsupported_output_quantization_is_refused(op, out_q):
    lb = LayerBuilder(seed=1)
    x = lb.input((1, 8))
    lb.output(lb.op(op, [x], x.shape, *out_q))
    with pytest.raises(byoc.ByocError, match=rf"{op} #0 would be computed in float: int8 {op} "
                                             r"output must have scale"):
        byoc.compile(lb.build(), target="c")


def test_int16_without_kernel_is_refused():
    lb = LayerBuilder(seed=1, dtype=np.int16)
    x = lb.input((1, 8))
    lb.output(lb.op("HARD_SWISH", [x], x.shape, 1 / 4096, 0))
    with pytest.raises(byoc.ByocError, match=r"HARD_SWISH #0 would be computed in float: "
                                             r"int16 HARD_SWISH has no integer kernel"):
        byoc.compile(lb.build(), target="c")


# ------------------------------------------------- convolution quantization corner cases

def _one_channel_depthwise(lb):
    # one output channel: converters write quantized_dimension 3 with a single scale
    x = lb.input((1, 7, 7, 1), scale=0.04, zero_point=5)
    lb.output(lb.depthwise_conv2d(x, 3, per_channel=True))
    w = [t for t in lb.mb.tensors if t.name.startswith("dw_w")][0]
    assert len(w.quant.scale) == 1 and w.quant.axis == 3


def _conv_weight_zero_point(lb):
    x = lb.input((1, 6, 6, 3), scale=0.05, zero_point=-7)
    lb.output(lb.conv2d(x, 4, 3, per_channel=False))
    w = [t for t in lb.mb.tensors if t.name.startswith("conv_w")][0]
    w.quant = Quant(w.quant.scale, [3], w.quant.axis)


@pytest.mark.parametrize("target", ["c", "cmsis-nn,c"])
def test_one_channel_depthwise_with_quantized_dimension_3(target, tmp_path):
    res = byoc.validate(_build(_one_channel_depthwise, 4), target=target, backend="host",
                        inputs=3, work_dir=tmp_path, sanitize=True)
    assert res.status == "pass" and res.max_abs_diff == 0, res


@pytest.mark.parametrize("target", ["c", "cmsis-nn,c", "ethos-u55-256,cmsis-nn,c"])
def test_conv_weight_zero_point_is_refused_with_the_reason(target):
    """TFLM's int8 convolution ignores the weight zero point (its output does not change
    with it), so the model's arithmetic is not what its quantization says: refused at
    import, naming the tensor and the reason."""
    with pytest.raises(byoc.ByocError, match=r"operator 0 \(CONV_2D\): tensor 1 'conv_w_\d+': "
                                             r"weight zero point 3 != 0: .*TFLM ignores"):
        byoc.compile(_build(_conv_weight_zero_point, 6), target=target)


def test_info_says_why_the_npu_did_not_take_an_operator():
    lb = LayerBuilder(seed=2)
    x = lb.input((1, 6, 6, 8))
    y = lb.conv2d(x, 8, 3)
    s = lb._act((1, 4, 4, 1), 0.3, 4)
    lb.mb.add_operator("SUM", [y.index, _i32(lb, [3])], [s.index], "ReducerOptions",
                       {"KeepDims": True})
    lb.output(s)
    rows = byoc.compiler.placement(lb.build(), "ethos-u55-256,cmsis-nn,c")
    assert [r["backend"] for r in rows] == ["ethos-u", "generic"]
    assert rows[1]["reason"] == ("no CMSIS-NN kernel for SUM (not on the NPU: Vela 5.2's SUM is "
                                 "not bit-exact with TFLM (off by 1 over one axis, miscompiled "
                                 "over two or more))")


@pytest.mark.parametrize("case", range(4))
def test_relu_n1_to_1_bit_exact_with_litert_on_host(case, tmp_path):
    """TFLM has no RELU_N1_TO_1 kernel (its op resolver refuses the model): validate falls
    back to LiteRT's reference kernel (BUILTIN_REF) as the golden reference, and says so."""
    rng = np.random.default_rng(4242 + case)
    model = _build(_unary("RELU_N1_TO_1", int16=False)(rng), case)
    res = byoc.validate(model, target="c", backend="host", inputs=2, seed=case,
                        work_dir=tmp_path, sanitize=True)
    assert res.status == "pass" and res.max_abs_diff == 0, res
    assert res.reference == "litert (TFLM has no RELU_N1_TO_1 kernel)"


def test_reference_stays_tflm_when_tflm_has_the_kernels(tmp_path):
    """The fallback is for a missing TFLM kernel only: a model TFLM cannot run for another
    reason (an int8 L2_NORMALIZATION with a fused activation) is not handed to LiteRT."""
    lb = LayerBuilder(seed=1)
    x = lb.input((1, 8))
    lb.output(lb.op("L2_NORMALIZATION", [x], x.shape, 1 / 128, 0, "L2NormOptions",
                    {"FusedActivationFunction": 1}))
    import importlib
    from byoc.errors import ToolError
    from byoc.tflite.reader import load_model
    v = importlib.import_module("byoc.validate")   # byoc.validate is also the function
    with pytest.raises(ToolError, match="TFLM"):
        v._reference_outputs(load_model(lb.build()), [[np.zeros((1, 8), np.int8)]])


def _abs_relu_n1_prelu(lb):
    x = lb.input((1, 5, 5, 6), scale=0.06, zero_point=4)
    y = lb.conv2d(x, 6, 3)
    a = lb.op("ABS", [y], y.shape, 0.04, -100)
    r = lb.op("RELU_N1_TO_1", [y], y.shape, 1 / 100, 2)
    alpha = lb.constant((6,), 0.02, 3)
    p = lb.op("PRELU", [y, alpha], y.shape, 0.05, -10)
    for o in (a, r, p):
        lb.output(o)


def test_abs_relu_n1_to_1_prelu_bit_exact_on_qemu(tmp_path):
    """ABS, RELU_N1_TO_1 and PRELU int8 on the generic path on the Corstone-300 (QEMU); the
    reference is LiteRT's (TFLM has no RELU_N1_TO_1 kernel)."""
    require_tools()
    res = byoc.validate(_build(_abs_relu_n1_prelu, 8), target="c", backend="qemu", inputs=2,
                        seed=3, work_dir=tmp_path)
    assert res.status == "pass" and res.max_abs_diff == 0, res
    assert res.reference == "litert (TFLM has no RELU_N1_TO_1 kernel)"


# ------------------------------------------------------------------- BATCH_MATMUL refusals

def _bmm_per_channel_rhs(lb):
    a = lb.input((2, 3, 4), scale=0.05, zero_point=1)
    b = lb.constant((2, 4, 5), 0.04, 0)
    lb.mb.tensors[b.index].quant = Quant([0.04, 0.05, 0.06, 0.07, 0.08], [0] * 5, axis=2)
    lb.output(lb.batch_matmul(a, b))


def _bmm_int16_zero_point(lb):
    a = lb.input((3, 4), scale=0.05, zero_point=2, dtype=np.int16)
    b = lb.input((4, 5), scale=0.04, zero_point=0, dtype=np.int16)
    lb.output(lb.batch_matmul(a, b, out_zp=0))


def _bmm_rank6(lb):
    a = lb.input((1, 2, 1, 2, 3, 4), scale=0.05, zero_point=1)
    b = lb.input((1, 2, 1, 2, 4, 5), scale=0.04, zero_point=-3)
    lb.output(lb.batch_matmul(a, b))


@pytest.mark.parametrize("case,reason", [
    (_bmm_per_channel_rhs, r"BATCH_MATMUL rhs is quantized per channel \(5 scales"),
    (_bmm_int16_zero_point, r"int16 BATCH_MATMUL lhs zero point 2 \(TFLM requires 0\)"),
    (_bmm_rank6, r"BATCH_MATMUL of ranks 6 and 6 \(TFLM: 2 to 5\)")])
def test_batch_matmul_outside_tflm_is_refused_naming_the_operator(case, reason):
    """Configurations TFLM's BATCH_MATMUL does not take are refused at import, naming the
    operator and the reason: TFLM fails to prepare the int16 and rank-6 models, and runs
    the per-channel one with the first RHS scale for every channel (measured)."""
    with pytest.raises(byoc.ByocError, match=r"operator 0 \(BATCH_MATMUL\).*" + reason):
        byoc.compile(_build(case, 3), target="c")


@pytest.mark.parametrize("out_q,opts,message", [
    ((1 / 256, 0), {}, r"L2_NORMALIZATION #0 would be computed in float: int8 "
                       r"L2_NORMALIZATION output must have scale 1/128, zero point 0"),
    ((1 / 128, 5), {}, r"L2_NORMALIZATION #0 would be computed in float: int8 "
                       r"L2_NORMALIZATION output must have scale 1/128, zero point 0"),
    ((1 / 128, 0), {"FusedActivationFunction": 1},
     r"operator 0 \(L2_NORMALIZATION\) cannot be imported: quantized L2_NORMALIZATION with "
     r"a fused activation \(TFLM refuses it\)"),
])
def test_l2_normalization_refusals(out_q, opts, message):
    """TFLM computes 1/128 steps with zero point 0 whatever the output tensor says (it runs
    such a model, with outputs the tensor's quantization does not describe): refused, as is
    the fused activation TFLM refuses."""
    lb = LayerBuilder(seed=1)
    x = lb.input((1, 8))
    lb.output(lb.op("L2_NORMALIZATION", [x], x.shape, *out_q, "L2NormOptions", opts))
    with pytest.raises(byoc.ByocError, match=message):
        byoc.compile(lb.build(), target="c")
