"""Integer-only TIR kernels for the quantized operators (TFLM reference arithmetic).

One builder per dataclass of :mod:`byoc.qnn.patterns` (which builder serves which operator
is the operator spec, :mod:`byoc.qnn.ops`); each returns a :class:`Kernel`: a
``tvm.tirx.PrimFunc`` (integer buffers, integer arithmetic only; the single exception is
:func:`quantize_float`, whose input is a float tensor) plus the list of arguments the
caller must pass (composite parameters and constants) in PrimFunc order; the output buffer
is always the last PrimFunc parameter.

Layouts: feature maps NHWC; conv weights OHWI; depthwise weights 1HWC; FC weights
[units, depth]; per-channel multiplier/shift arrays int32 [channels] (shift positive =
left), bias int32 [channels]. Uniform (per-tensor) multipliers are folded as immediates.

int16 activations (TFLite "16x8", the operators whose spec in :mod:`byoc.qnn.ops` lists
int16): same kernels with int16 feature maps and TFLM's int16 arithmetic.
CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED accumulate ``int16 * int8`` products in int64, add an int64 bias and requantize with
TFLite's int64 MultiplyByQuantizedMultiplier (multiplier rounded to Q0.15, one rounding
right shift by ``15 - shift``; per-channel as int32 ``reduced_multiplier``/``total_shift``
arrays); a 16x8 model with an int32 bias uses the int32 accumulator and the int8
requantization instead, as TFLM does. ADD uses left shift 15; MUL, pools, PAD, QUANTIZE
and MEAN are the int8 arithmetic in the int16 range; CONCATENATION of int16 copies raw
values (TFLM does not requantize int16 inputs); SOFTMAX is TFLM's table-based int16
algorithm (:func:`softmax_s16`; the two 513-entry int16 tables are constant arguments).

Construction: ``tvm.te`` compute + ``te.create_prim_func`` + a short ``s_tir`` schedule,
except SOFTMAX, which is written as loop-level TIR (see :class:`Scratch`). Per-element
intermediate values are named ``tirx.Let`` bindings while building, then hoisted into
``Bind`` statements (``_hoist_lets``): TVM's NarrowDataType pass trips over Let
*expressions*, and Bind statements print as one C local per value.

Memory (checked by :func:`scratch_buffers` on the lowered TIR, and by the tests): these are
plain loop nests for a microcontroller fallback path. Padding is an ``if_then_else`` on the
input index inside the reduction (no padded copy). The requantization stage of every
reduction is ``reverse_compute_at`` the accumulator's loop, so the only intermediate is one
int32 accumulator (conv, depthwise, FC, average pool, mean: 4 bytes; 16x8 conv, depthwise
and FC: one int64, 8 bytes; max pool: 1 or 2 bytes); ADD keeps its two rescaled inputs in
one int32 each (8 bytes); MUL, requantize, concat, pad and float quantize need none; int8
SOFTMAX keeps about 100 scalar locals (~400 bytes of registers/stack, no array), int16
SOFTMAX about 40.

Fixed point: ``SaturatingRoundingDoublingHighMul(a, b)`` is computed as
``min((int64(a) * b + 2^30) >> 31, INT32_MAX)``, which equals TFLite's nudge-and-truncate
form for every int32 pair (the nudge makes the result floor((ab + 2^30) / 2^31) for both
signs). ``RoundingDivideByPOT`` uses TFLite's mask/threshold form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import tvm
from tvm import te, tirx

from . import patterns as P
from . import quant_math as qm

I8, I16, I32, I64 = "int8", "int16", "int32", "int64"


def c32(v: int) -> tirx.PrimExpr:
    return tirx.const(int(v), I32)


def c64(v: int) -> tirx.PrimExpr:
    return tirx.const(int(v), I64)


def dtype(e) -> str:
    """dtype string of a PrimExpr (0.27 exposes it as ``e.ty.dtype``)."""
    if isinstance(e, te.TensorSlice):
        return str(e.dtype)
    return str(e.ty.dtype)


def i32(e) -> tirx.PrimExpr:
    return e if dtype(e) == I32 else e.astype(I32)


def i64(e) -> tirx.PrimExpr:
    return e if dtype(e) == I64 else e.astype(I64)


class Lets:
    """Collects ``let`` bindings for one element's expression (C locals after printing)."""

    def __init__(self):
        self.binds: list[tuple[tirx.Var, tirx.PrimExpr]] = []

    def __call__(self, name: str, value) -> tirx.PrimExpr:
        if isinstance(value, (tirx.Var, tirx.IntImm)):
            return value
        v = tirx.Var(name, dtype(value))
        self.binds.append((v, value))
        return v

    def wrap(self, body) -> tirx.PrimExpr:
        for v, value in reversed(self.binds):
            body = tirx.Let(v, value, body)
        return body


# ---------------------------------------------------------------------------------------
# Fixed-point expression builders (int32 in, int32 out)
# ---------------------------------------------------------------------------------------

def srdhm(L: Lets, a, b, b_never_min: bool = False):
    """SaturatingRoundingDoublingHighMul(a, b)."""
    r = (i64(a) * i64(b) + c64(1 << 30)) >> c64(31)
    if not b_never_min:
        # only INT32_MIN * INT32_MIN reaches 2^31: saturate it like gemmlowp
        r = tirx.min(r, c64(qm.INT32_MAX))
    return L("hm", i32(r))


def rdbpot(L: Lets, x, exponent):
    """RoundingDivideByPOT(x, exponent): round half away from zero; 0 <= exponent <= 31.

    A Python int exponent is folded; for a PrimExpr exponent (per-channel shifts) the mask
    ``(1 << exponent) - 1`` is built in int64, defined in C for every exponent up to 31.
    (``INT32_MAX >> (31 - exponent)`` would also be, but TVM's simplifier mis-folds it.)"""
    if isinstance(exponent, (int, np.integer)):
        e = int(exponent)
        if e == 0:
            return x
        mask = c32((1 << e) - 1)
        thr = c32(((1 << e) - 1) >> 1)
        shift = c32(e)
    else:
        shift = exponent
        mask = L("mask", i32((c64(1) << i64(exponent)) - c64(1)))
        thr = mask >> c32(1)
    thr = thr + tirx.Select(x < c32(0), c32(1), c32(0))
    return L("rd", (x >> shift) + tirx.Select((x & mask) > thr, c32(1), c32(0)))


def rdbpot_nonneg64(L: Lets, x, exponent):
    """RoundingDivideByPOT for x >= 0 and a PrimExpr exponent in [1, 62] (int64 math)."""
    e = i64(exponent)
    return L("rd", i32((i64(x) + (c64(1) << (e - c64(1)))) >> e))


def mbqm(L: Lets, x, multiplier, shift):
    """MultiplyByQuantizedMultiplier(x, multiplier, shift) with TFLite's double rounding.

    ``multiplier``/``shift`` are Python ints (folded) or int32 PrimExprs (per-channel)."""
    if isinstance(shift, (int, np.integer)):
        s = int(shift)
        left, right = max(s, 0), max(-s, 0)
        if left:
            x = x * c32(1 << left)
        m = c32(multiplier) if isinstance(multiplier, (int, np.integer)) else multiplier
        never_min = isinstance(multiplier, (int, np.integer)) and multiplier != qm.INT32_MIN
        return rdbpot(L, srdhm(L, x, m, never_min), right)
    # The clamps to [0, 31] are no-ops for QuantizeMultiplier shifts; they give TVM's
    # bound analysis a finite shift range (an unbounded variable shift amount makes
    # the simplifier fold the rounding term of RoundingDivideByPOT away).
    left = L("lsh", tirx.min(tirx.max(shift, c32(0)), c32(31)))
    right = L("rsh", tirx.min(tirx.max(c32(0) - shift, c32(0)), c32(31)))
    xs = x * (c32(1) << left)
    # QuantizeMultiplier never yields INT32_MIN, so the per-channel products cannot saturate
    return rdbpot(L, srdhm(L, xs, multiplier, b_never_min=True), right)


def mbqm64(L: Lets, x, reduced, total_shift):
    """TFLite's int64 MultiplyByQuantizedMultiplier (16x8 accumulators), int32 result:
    ``(x * reduced + 2^(total - 1)) >> total`` in int64 (see
    :func:`quant_math.reduced_multiplier_s64`). Python ints are folded; per-channel values
    are int32 PrimExprs."""
    if isinstance(total_shift, (int, np.integer)):
        t = int(total_shift)
        r = (i64(x) * c64(reduced) + c64(1 << (t - 1))) >> c64(t)
    else:
        t = L("tsh", i64(total_shift))
        r = (i64(x) * i64(reduced) + (c64(1) << (t - c64(1)))) >> t
    return L("rq", i32(r))


def saturating_shl(L: Lets, x, e: int):
    """gemmlowp SaturatingRoundingMultiplyByPOT<e> for e > 0 (saturating x * 2^e)."""
    thr = (1 << (31 - e)) - 1
    return L("sl", tirx.Select(x > c32(thr), c32(qm.INT32_MAX),
                               tirx.Select(x < c32(-thr), c32(qm.INT32_MIN), x * c32(1 << e))))


def clamp(x, lo: int, hi: int):
    if lo > -(1 << 31):
        x = tirx.max(x, c32(lo))
    if hi < (1 << 31) - 1:
        x = tirx.min(x, c32(hi))
    return x


def clz_positive(L: Lets, x):
    """Count leading zeros of a positive int32 (binary search in int64; no intrinsic)."""
    n = c32(0)
    v = L("v", i64(x))
    for width in (16, 8, 4, 2):
        small = L("small", v < c64(1 << (32 - width)))
        n = L("n", n + tirx.Select(small, c32(width), c32(0)))
        v = L("v", tirx.Select(small, v << c64(width), v))
    return L("clz", n + tirx.Select(v < c64(1 << 31), c32(1), c32(0)))


# ---------------------------------------------------------------------------------------
# Kernel container and helpers
# ---------------------------------------------------------------------------------------

@dataclass
class Kernel:
    """A PrimFunc and the call arguments it expects (all but the output, in order).

    ``args[i]`` is an int (index of the composite function parameter to pass) or a numpy
    array (a constant to pass: weights int8, bias/multipliers/shifts int32)."""

    func: tirx.PrimFunc
    args: list
    out_shape: tuple[int, ...]
    out_dtype: str = I8


class _Inputs:
    """Builds placeholders in PrimFunc order and records what to pass for each."""

    def __init__(self):
        self.tensors: list[te.Tensor] = []
        self.args: list = []

    def operand(self, t: P.QTensor, name: str) -> te.Tensor:
        ph = te.placeholder(t.shape, t.dtype, name)
        self.tensors.append(ph)
        self.args.append(t.source if t.source is not None
                         else np.ascontiguousarray(t.data.astype(t.dtype)))
        return ph

    def const(self, arr: np.ndarray, name: str) -> te.Tensor:
        arr = np.ascontiguousarray(arr)
        ph = te.placeholder(arr.shape, str(arr.dtype), name)
        self.tensors.append(ph)
        self.args.append(arr)
        return ph


def _strip_lets(e, binds: list) -> tirx.PrimExpr:
    """Move ``Let`` nodes at the top of ``e`` (or under the ``+`` of a reduction update)
    into ``binds``; returns the remaining expression."""
    while isinstance(e, tirx.Let):
        binds.append(tirx.Bind(e.var, e.value))
        e = e.body
    if isinstance(e, tirx.Add) and isinstance(e.b, tirx.Let):
        return tirx.Add(e.a, _strip_lets(e.b, binds))
    return e


def _hoist_lets(stmt):
    """Rewrite ``store(Let(v, value, body))`` as ``v = value; store(body)`` (``Bind``).

    Let *expressions* trip TVM's NarrowDataType pass (its bound memo sees a let variable
    with two different bounds), while ``Bind`` statements are handled everywhere and print
    as C locals just the same. The kernels only put lets at the top of a block's value."""
    if isinstance(stmt, tirx.BufferStore):
        binds: list = []
        value = _strip_lets(stmt.value, binds)
        if not binds:
            return stmt
        return tirx.SeqStmt(binds + [tirx.BufferStore(stmt.buffer, value, stmt.indices)])
    if isinstance(stmt, tvm.s_tir.SBlockRealize):
        return tvm.s_tir.SBlockRealize(stmt.iter_values, stmt.predicate,
                                       _hoist_lets(stmt.block))
    if isinstance(stmt, tvm.s_tir.SBlock):
        return tvm.s_tir.SBlock(stmt.iter_vars, stmt.reads, stmt.writes, stmt.name_hint,
                                _hoist_lets(stmt.body), stmt.init, stmt.alloc_buffers,
                                stmt.match_buffers, stmt.annotations)
    if isinstance(stmt, tirx.For):
        return tirx.For(stmt.loop_var, stmt.min, stmt.extent, stmt.kind,
                        _hoist_lets(stmt.body), stmt.thread_binding, stmt.annotations)
    if isinstance(stmt, tirx.SeqStmt):
        return tirx.SeqStmt([_hoist_lets(s) for s in stmt.seq])
    return stmt


def _finish(inputs: _Inputs, out: te.Tensor, schedule=None) -> Kernel:
    func = te.create_prim_func(inputs.tensors + [out])
    if schedule is not None:
        sch = tvm.s_tir.Schedule(func)
        schedule(sch)
        func = sch.mod["main"]
    func = func.with_body(_hoist_lets(func.body))
    if func.attrs is not None and "global_symbol" in func.attrs:
        # private like LegalizeOps' PrimFuncs; the module's GlobalVar names the kernel
        func = func.without_attr("global_symbol")
    return Kernel(func, inputs.args, tuple(int(d) for d in out.shape), str(out.dtype))


def _per_channel(inputs: _Inputs, mult: np.ndarray, shift: np.ndarray,
                 names: tuple[str, str] = ("multiplier", "shift")):
    """Per-channel (multiplier, shift) as int32 buffers, or folded ints when uniform."""
    mult = np.asarray(mult, np.int32)
    shift = np.asarray(shift, np.int32)
    if np.all(mult == mult[0]) and np.all(shift == shift[0]):
        return (lambda ch: int(mult[0])), (lambda ch: int(shift[0]))
    mb = inputs.const(mult, names[0])
    sb = inputs.const(shift, names[1])
    return (lambda ch: mb[ch]), (lambda ch: sb[ch])


def _in_bounds(idx_and_size: Sequence[tuple[tirx.PrimExpr, int, bool, bool]]):
    """AND of range checks; each entry (index, size, may_underflow, may_overflow)."""
    cond = None
    for e, size, lo, hi in idx_and_size:
        parts = ([e >= 0] if lo else []) + ([e < size] if hi else [])
        for p in parts:
            cond = p if cond is None else tirx.And(cond, p)
    return cond


def _guarded(cond, value, other):
    return value if cond is None else tirx.if_then_else(cond, value, other)


def _reverse_at(block: str, producer: str, level: int):
    def schedule(sch):
        loops = sch.get_loops(sch.get_sblock(producer))
        sch.reverse_compute_at(sch.get_sblock(block), loops[level])
    return schedule


def _window_checks(o_h, o_w, kh, kw, op, H, W, dil=(1, 1)):
    """Input row/col of a window tap and which bounds checks padding makes necessary."""
    (sh, sw), (pt, pl, pb, pr) = op.strides, op.padding
    ih = o_h * sh + kh * dil[0] - pt
    iw = o_w * sw + kw * dil[1] - pl
    return ih, iw, [(ih, H, pt > 0, pb > 0 or _overreach(op, 0, H, dil)),
                    (iw, W, pl > 0, pr > 0 or _overreach(op, 1, W, dil))]


def _overreach(op, axis: int, size: int, dil) -> bool:
    """True when the last window would read past the input without explicit padding."""
    out = op.output.shape[1 + axis]
    k = (op.pool_size if hasattr(op, "pool_size") else op.weight.shape[1:3])[axis]
    last = (out - 1) * op.strides[axis] + (k - 1) * dil[axis] - op.padding[axis]
    return last >= size


# ---------------------------------------------------------------------------------------
# Convolutions and fully connected
# ---------------------------------------------------------------------------------------

def _is16(op) -> bool:
    return op.output.dtype == I16


def _acc64(op) -> bool:
    """16x8 with an int64 bias (or none): int64 accumulator and requantization. A 16x8
    model with an int32 bias accumulates in int32 with the int8 requantization (TFLM's
    kernels are templated on the bias type; measured)."""
    return _is16(op) and (op.bias is None or np.asarray(op.bias).dtype == np.int64)


def _requantization(ins: _Inputs, op):
    """The accumulator's requantization as ``f(acc, ch) -> int32`` (before the output zero
    point): int32 MBQM with double rounding for int8, the int64 form for 16x8."""
    if not _acc64(op):
        mult, shift = _per_channel(ins, op.multipliers, op.shifts)
        return lambda L, a, ch: mbqm(L, a, mult(ch), shift(ch))
    pairs = []
    for m, s in zip(np.asarray(op.multipliers).reshape(-1), np.asarray(op.shifts).reshape(-1)):
        try:
            pairs.append(qm.reduced_multiplier_s64(m, s))
        except ValueError as err:
            raise P.ExtractError(f"{op.op_type}: {err}") from None
    red, tot = _per_channel(ins, np.asarray([p[0] for p in pairs]),
                            np.asarray([p[1] for p in pairs]),
                            names=("reduced_multiplier", "total_shift"))
    return lambda L, a, ch: mbqm64(L, a, red(ch), tot(ch))


def _bias_const(ins: _Inputs, op):
    """Bias buffer: int32, or int64 for 16x8 (an int32 bias of a 16x8 model is kept int32)."""
    if op.bias is None:
        return None
    b = np.asarray(op.bias)
    dt = np.int64 if _acc64(op) else np.int32
    return ins.const(b.astype(dt), "bias")


def _requant_epilogue(acc, bias, requant, out_zp, lo, hi, out_dtype):
    def f(*idx):
        ch = idx[-1]
        L = Lets()
        a = acc(*idx)
        if bias is not None:
            a = a + (i64(bias[ch]) if dtype(a) == I64 else bias[ch])
        y = requant(L, L("acc", a), ch)
        if out_zp:
            y = y + c32(out_zp)
        return L.wrap(clamp(y, lo, hi).astype(out_dtype))
    return f


def _product(op, x, w, zp):
    """One multiply-accumulate term: int32 (x - zp) * w for int8, the int32 product widened
    to int64 for 16x8 (zero point 0, as TFLite requires)."""
    if _acc64(op):
        return i64(i32(x) * i32(w))
    return (i32(x) - zp) * i32(w)


def _zero(op):
    return c64(0) if _acc64(op) else c32(0)


def _output_stage(op, acc, bias, requant, out_shape, level: int, ins: _Inputs) -> Kernel:
    out = te.compute(out_shape, _requant_epilogue(
        lambda *i: acc(*i), bias, requant, op.output.zero_point, op.act_min, op.act_max,
        op.output.dtype), name="output")
    return _finish(ins, out, _reverse_at("output", "acc", level))


def conv2d(op: P.QConv2D) -> Kernel:
    """CONV_2D: out[n,oh,ow,o] = requant(sum (x - zp_in) * w[o,kh,kw,c] + bias[o]).

    int8: int32 accumulator; 16x8: int64 accumulator and bias, int64 requantization."""
    N, H, W, C = op.input.shape
    O, KH, KW, _ = op.weight.shape
    _, OH, OW, _ = op.output.shape
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    Wt = ins.const(op.weight.astype(np.int8), "weight")
    B = _bias_const(ins, op)
    requant = _requantization(ins, op)
    kh, kw, c = te.reduce_axis((0, KH), "kh"), te.reduce_axis((0, KW), "kw"), \
        te.reduce_axis((0, C), "c")
    zp = c32(op.input.zero_point)

    def acc_f(n, oh, ow, o):
        ih, iw, checks = _window_checks(oh, ow, kh, kw, op, H, W, op.dilation)
        cond = _in_bounds(checks)
        prod = _product(op, X[n, ih, iw, c], Wt[o, kh, kw, c], zp)
        return te.sum(_guarded(cond, prod, _zero(op)), axis=[kh, kw, c])

    acc = te.compute((N, OH, OW, O), acc_f, name="acc")
    return _output_stage(op, acc, B, requant, (N, OH, OW, O), 3, ins)


def transpose_conv(op: P.QTransposeConv) -> Kernel:
    """TRANSPOSE_CONV (int8): out[n,oy,ox,o] = requant(sum over the taps whose input pixel
    iy = (oy + pad_top - kh) / s (and ix likewise) is whole and inside of
    (x - zp) * w[o,kh,kw,c] + bias[o]); TFLM's scatter form, gathered."""
    N, H, W, C = op.input.shape
    O, KH, KW, _ = op.weight.shape
    _, OH, OW, _ = op.output.shape
    (sh, sw), (pt, pl) = op.strides, op.padding
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    Wt = ins.const(op.weight.astype(np.int8), "weight")
    B = _bias_const(ins, op)
    requant = _requantization(ins, op)
    kh, kw, c = te.reduce_axis((0, KH), "kh"), te.reduce_axis((0, KW), "kw"), \
        te.reduce_axis((0, C), "c")
    zp = c32(op.input.zero_point)

    def source(o_idx, k, pad, stride, size):
        t = o_idx + c32(pad) - k
        if stride == 1:
            return t, [t >= c32(0), t < c32(size)]
        return tirx.floordiv(t, c32(stride)), [t >= c32(0), tirx.floormod(t, c32(stride)) == 0,
                                               t < c32(size * stride)]

    def acc_f(n, oy, ox, o):
        iy, cy = source(oy, kh, pt, sh, H)
        ix, cx = source(ox, kw, pl, sw, W)
        cond = None
        for p in cy + cx:
            cond = p if cond is None else tirx.And(cond, p)
        prod = (i32(X[n, iy, ix, c]) - zp) * i32(Wt[o, kh, kw, c])
        return te.sum(tirx.if_then_else(cond, prod, c32(0)), axis=[kh, kw, c])

    acc = te.compute((N, OH, OW, O), acc_f, name="acc")
    return _output_stage(op, acc, B, requant, (N, OH, OW, O), 3, ins)


def depthwise_conv2d(op: P.QDepthwise) -> Kernel:
    """DEPTHWISE_CONV_2D: out[n,oh,ow,oc] = requant(sum (x[.., oc // M] - zp) * w[0,kh,kw,oc])."""
    N, H, W, C = op.input.shape
    _, KH, KW, OC = op.weight.shape
    _, OH, OW, _ = op.output.shape
    M = op.depth_multiplier
    if _is16(op) and not _acc64(op):
        # TFLM's 16x8 depthwise reads the bias as int64 whatever its type (an int32 bias
        # gives garbage there, measured); leave such a model's chain in float
        raise P.ExtractError("int16 DEPTHWISE_CONV_2D with an int32 bias (TFLM reads int64)")
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    Wt = ins.const(op.weight.astype(np.int8), "weight")
    B = _bias_const(ins, op)
    requant = _requantization(ins, op)
    kh, kw = te.reduce_axis((0, KH), "kh"), te.reduce_axis((0, KW), "kw")
    zp = c32(op.input.zero_point)

    def acc_f(n, oh, ow, oc):
        ih, iw, checks = _window_checks(oh, ow, kh, kw, op, H, W, op.dilation)
        ic = oc if M == 1 else tirx.floordiv(oc, M)
        prod = _product(op, X[n, ih, iw, ic], Wt[0, kh, kw, oc], zp)
        return te.sum(_guarded(_in_bounds(checks), prod, _zero(op)), axis=[kh, kw])

    acc = te.compute((N, OH, OW, OC), acc_f, name="acc")
    return _output_stage(op, acc, B, requant, (N, OH, OW, OC), 3, ins)


def fully_connected(op: P.QFullyConnected) -> Kernel:
    """FULLY_CONNECTED: out[..., u] = requant(sum_k (x[..., k] - zp) * (w[u, k] - wzp) + b[u])."""
    U, K = op.weight.shape
    lead = tuple(op.input.shape[:-1])
    out_shape = tuple(op.output.shape)
    if tuple(out_shape[:-1]) != lead or out_shape[-1] != U:
        raise P.ExtractError(f"FC shapes {op.input.shape} -> {out_shape}")
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    Wt = ins.const(op.weight.astype(np.int8), "weight")
    B = _bias_const(ins, op)
    requant = _requantization(ins, op)
    k = te.reduce_axis((0, K), "k")
    zp, wzp = c32(op.input.zero_point), c32(op.weight_zero_point)

    def acc_f(*idx):
        w = i32(Wt[idx[-1], k])
        if op.weight_zero_point:
            w = w - wzp
        return te.sum(_product(op, X[idx[:-1] + (k,)], w, zp), axis=[k])

    acc = te.compute(out_shape, acc_f, name="acc")
    return _output_stage(op, acc, B, requant, out_shape, len(out_shape) - 1, ins)


def svdf_state(op: P.QSvdfState) -> Kernel:
    """SVDF state update (TFLM): per batch and filter, the ``memory - 1`` newest state
    values move one place left and the feature projection (int32 dot product, MBQM,
    clamped to the state type, + the state's zero point, stored truncated) fills the
    newest column. Loop-level TIR; one int32 accumulator, no other scratch. The copy runs
    upwards, so it is also correct with the output in the input's place."""
    T = op.output.dtype
    (B, D), (F, M) = op.input.shape, (op.weight_feature.shape[0], op.memory)
    X = tirx.decl_buffer((B, D), I8, "input")
    W = tirx.decl_buffer((F, D), I8, "weight_feature")
    Y = tirx.decl_buffer((B, F * M), T, "output")
    params, args = [X], [op.input.source if op.input.source is not None
                         else op.input.data.astype(I8)]
    if M > 1:
        S_in = tirx.decl_buffer((B, F * M), T, "state")
        params.append(S_in)
        args.append(op.state.source if op.state.source is not None
                    else op.state.data.astype(T))
    params += [W, Y]
    args.append(np.ascontiguousarray(op.weight_feature.astype(np.int8)))
    S = Scratch()
    acc = S.buffer("acc")
    b, f = tirx.Var("b", I32), tirx.Var("f", I32)
    zp = c32(op.input.zero_point)
    body = []
    if M > 1:
        body.append(_loop("m", M - 1, lambda m: [tirx.BufferStore(
            Y, tirx.BufferLoad(S_in, [b, f * c32(M) + m + c32(1)]), [b, f * c32(M) + m])]))
    body += [_store(acc, c32(0)),
             _loop("d", D, lambda d: [_store(acc, _load(acc) + i32(tirx.BufferLoad(W, [f, d]))
                                             * (i32(tirx.BufferLoad(X, [b, d])) - zp))])]
    v = clamp(mbqm(S, _load(acc), op.multiplier, op.shift), *P.dtype_range(T))
    body += S.take()
    body.append(tirx.BufferStore(Y, (v + c32(op.output.zero_point)).astype(T),
                                 [b, f * c32(M) + c32(M - 1)]))
    loop = tirx.For(f, c32(0), c32(F), tirx.ForKind.SERIAL, tirx.SeqStmt(body))
    func = _row_func(params, [b], (B,), [loop], S)
    return Kernel(func, args, (B, F * M), T)


def svdf(op: P.QSvdf) -> Kernel:
    """SVDF output (TFLM): ``sum_{r, m} weight_time[u * rank + r, m] * (state[b, (u * rank
    + r) * memory + m] - zp_state)`` in int32 (TFLM sums per filter first; int32 sums
    agree in any order) + bias[u], MBQM, + zp_out, saturated to int8."""
    B, U = op.output.shape
    F, M = op.weight_time.shape
    R = op.rank
    ins = _Inputs()
    St = ins.operand(op.state, "state")
    Wt = ins.const(op.weight_time.astype(op.state.dtype), "weight_time")
    Bias = ins.const(np.asarray(op.bias, np.int32), "bias")
    r, m = te.reduce_axis((0, R), "r"), te.reduce_axis((0, M), "m")
    zp = c32(op.state.zero_point)

    def acc_f(b, u):
        filt = u * R + r
        return te.sum(i32(Wt[filt, m]) * (i32(St[b, filt * M + m]) - zp), axis=[r, m])

    acc = te.compute((B, U), acc_f, name="acc")
    out = te.compute((B, U), _requant_epilogue(
        lambda *i: acc(*i), Bias, lambda L, a, ch: mbqm(L, a, op.multiplier, op.shift),
        op.output.zero_point, -128, 127, I8), name="output")
    return _finish(ins, out, _reverse_at("output", "acc", 1))


# ---------------------------------------------------------------------------------------
# Pools
# ---------------------------------------------------------------------------------------

def avg_pool2d(op: P.QAvgPool) -> Kernel:
    """AVERAGE_POOL_2D: sum of the in-bounds window / its size, rounded half away from 0."""
    N, H, W, C = op.input.shape
    _, OH, OW, _ = op.output.shape
    KH, KW = op.pool_size
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    kh, kw = te.reduce_axis((0, KH), "kh"), te.reduce_axis((0, KW), "kw")

    def acc_f(n, oh, ow, c):
        ih, iw, checks = _window_checks(oh, ow, kh, kw, op, H, W)
        return te.sum(_guarded(_in_bounds(checks), i32(X[n, ih, iw, c]), c32(0)),
                      axis=[kh, kw])

    acc = te.compute((N, OH, OW, C), acc_f, name="acc")
    (sh, sw), (pt, pl, _, _) = op.strides, op.padding
    padded = any(op.padding) or _overreach(op, 0, H, (1, 1)) or _overreach(op, 1, W, (1, 1))

    def out_f(n, oh, ow, c):
        L = Lets()
        if padded:
            h0, w0 = oh * sh - pt, ow * sw - pl
            rows = tirx.min(h0 + KH, H) - tirx.max(h0, 0)
            cols = tirx.min(w0 + KW, W) - tirx.max(w0, 0)
            count = L("count", i32(rows * cols))
            half = L("half", tirx.truncdiv(count, c32(2)))
        else:
            count, half = c32(KH * KW), c32(KH * KW // 2)
        a = L("acc", acc[n, oh, ow, c])
        avg = tirx.Select(a > c32(0), tirx.truncdiv(a + half, count),
                          tirx.truncdiv(a - half, count))
        return L.wrap(clamp(avg, op.act_min, op.act_max).astype(op.output.dtype))

    out = te.compute((N, OH, OW, C), out_f, name="output")
    return _finish(ins, out, _reverse_at("output", "acc", 3))


def max_pool2d(op: P.QMaxPool) -> Kernel:
    """MAX_POOL_2D: max over the in-bounds window (init: the dtype's minimum), then the
    activation clamp."""
    N, H, W, C = op.input.shape
    _, OH, OW, _ = op.output.shape
    KH, KW = op.pool_size
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    kh, kw = te.reduce_axis((0, KH), "kh"), te.reduce_axis((0, KW), "kw")

    def acc_f(n, oh, ow, c):
        ih, iw, checks = _window_checks(oh, ow, kh, kw, op, H, W)
        return te.max(_guarded(_in_bounds(checks), X[n, ih, iw, c], tirx.const(qmin, dt)),
                      axis=[kh, kw])

    dt = op.output.dtype
    qmin, qmax = P.dtype_range(dt)
    if op.act_min <= qmin and op.act_max >= qmax:
        return _finish(ins, te.compute((N, OH, OW, C), acc_f, name="output"))
    acc = te.compute((N, OH, OW, C), acc_f, name="acc")
    out = te.compute((N, OH, OW, C), lambda *i: clamp(i32(acc(*i)), op.act_min,
                                                      op.act_max).astype(dt), name="output")
    return _finish(ins, out, _reverse_at("output", "acc", 3))


# ---------------------------------------------------------------------------------------
# Softmax
# ---------------------------------------------------------------------------------------

def _exp_interval(L: Lets, a):
    """exp(a) for a in [-1/4, 0), Q0.31 (Taylor expansion around -1/8)."""
    x = L("x", a + c32(1 << 28))
    x2 = srdhm(L, x, x)
    x3 = srdhm(L, x2, x)
    x4 = srdhm(L, x2, x2)
    x4_over_4 = rdbpot(L, x4, 2)
    poly = rdbpot(L, srdhm(L, x4_over_4 + x3, c32(qm.ONE_THIRD_Q31), True) + x2, 1)
    c = c32(qm.EXP_MINUS_ONE_EIGHTH_Q31)
    return L("e", c + srdhm(L, c, x + poly, False))


def _exp_on_negative(L: Lets, a, ib: int = qm.SOFTMAX_SCALED_DIFF_INT_BITS):
    """exp(a) for a <= 0 given with ``ib`` integer bits (Q5.26 by default, 4 or 5 only:
    gemmlowp's clamp for ib > 5 is not implemented); result Q0.31."""
    assert ib in (4, 5)
    frac = 31 - ib
    quarter = 1 << (frac - 2)
    a_mod = L("amod", (a & c32(quarter - 1)) - c32(quarter))
    result = _exp_interval(L, a_mod * c32(1 << ib))  # exact: |a_mod| * 2^ib <= 2^29
    remainder = L("rem", a_mod - a)
    for exponent, mult in qm.EXP_BARREL:
        if ib > exponent:
            bit = c32(1 << (frac + exponent))
            result = L("r", tirx.Select((remainder & bit) != c32(0),
                                        srdhm(L, result, c32(mult), True), result))
    return tirx.Select(a == c32(0), c32(qm.INT32_MAX), result)


def _newton_half_reciprocal(S, a):
    """gemmlowp's Newton-Raphson division for ``a`` in [0, 1] (Q0.31, a >= 0): returns
    x ~ 1 / ((1 + a) / 2) in Q2.29 after three iterations (``1/(1+a)`` is x / 2)."""
    # RoundingHalfSum(a, One) with One = INT32_MAX and a >= 0: (a + 2^31) >> 1
    half_den = S("hd", i32((i64(a) + c64(1 << 31)) >> c64(1)))
    x = S("nr", c32(qm.FORTY_EIGHT_17THS_Q2)
          + srdhm(S, half_den, c32(qm.NEG_THIRTY_TWO_17THS_Q2), True))
    for _ in range(3):
        one_minus = S("om", c32(1 << 29) - srdhm(S, half_den, x))
        x = S("nr", x + saturating_shl(S, srdhm(S, x, one_minus), 2))
    return x


def _scaled_diff(L: Lets, diff, op: P.QSoftmax):
    """input_diff * beta rescaled to Q5.26 (MultiplyByQuantizedMultiplierGreaterThanOne)."""
    # left_shift can be 31 (very large input scales): 1 << 31 wraps to INT32_MIN exactly as
    # TFLite's int32 arithmetic does; diff_min is then 0, so only diff == 0 is ever scaled.
    factor = ((1 << op.left_shift) + 2 ** 31) % 2 ** 32 - 2 ** 31
    return srdhm(L, diff * c32(factor), c32(op.multiplier), True)


class Scratch:
    """Statement-level bindings for hand-built TIR: each value is stored in its own
    one-element local buffer (a C local scalar after lowering).

    Same call interface as :class:`Lets`. Buffer loads are opaque to TVM's arithmetic
    analyzer, which otherwise substitutes every bound value into its uses while
    simplifying; on softmax's deep fixed-point chains (exp, Newton-Raphson reciprocal)
    that substitution grows exponentially and compilation does not finish."""

    def __init__(self):
        self.buffers: list[tirx.Buffer] = []
        self.stmts: list[tirx.Stmt] = []

    def buffer(self, name: str, dt: str = I32) -> tirx.Buffer:
        buf = tirx.decl_buffer((1,), dt, name, scope="local")
        self.buffers.append(buf)
        return buf

    def __call__(self, name: str, value) -> tirx.PrimExpr:
        if isinstance(value, (tirx.Var, tirx.IntImm, tvm.ir.TensorLoad)):
            return value
        buf = self.buffer(name, dtype(value))
        self.stmts.append(tirx.BufferStore(buf, value, [c32(0)]))
        return tirx.BufferLoad(buf, [c32(0)])

    def take(self) -> list[tirx.Stmt]:
        out, self.stmts = self.stmts, []
        return out


def _store(buf, value):
    return tirx.BufferStore(buf, value, [c32(0)])


def _load(buf):
    return tirx.BufferLoad(buf, [c32(0)])


def _loop(name: str, extent: int, body: list[tirx.Stmt]):
    v = tirx.Var(name, I32)
    stmts = body(v)
    return tirx.For(v, c32(0), c32(extent), tirx.ForKind.SERIAL,
                    stmts[0] if len(stmts) == 1 else tirx.SeqStmt(stmts))


def softmax(op: P.QSoftmax) -> Kernel:
    """SOFTMAX over the last axis (TFLM int8 algorithm; gemmlowp fixed point).

    Per row: max; sum of exp(diff) in Q12.19 over diff >= diff_min; reciprocal of the sum
    (Newton-Raphson) and its exponent; per element exp(diff) * reciprocal rounded to 1/256.

    Built directly as loop-level TIR rather than with TE (see :class:`Scratch`); every
    intermediate is a scalar local, and exp() is recomputed in the output pass like TFLM
    does, so the only state kept per row is max, sum, clz and reciprocal."""
    if op.output.dtype == I16:
        return softmax_s16(op)
    shape = tuple(op.input.shape)
    lead, D = shape[:-1], shape[-1]
    X = tirx.decl_buffer(shape, I8, "input")
    Y = tirx.decl_buffer(shape, I8, "output")
    S = Scratch()
    row_vars = [tirx.Var(f"i{d}", I32) for d in range(len(lead))]
    rmax, rsum = S.buffer("row_max"), S.buffer("row_sum")

    def x_at(c):
        return tirx.BufferLoad(X, row_vars + [c])

    def exp_of_diff(c):
        diff = S("diff", i32(x_at(c)) - _load(rmax))
        # Elements below diff_min are discarded by the selects below, but their exp is
        # still computed: clamp to diff_min first so that diff * 2^left_shift cannot
        # overflow int32 (undefined behaviour in C; TFLM skips those elements instead).
        safe = tirx.Max(diff, c32(op.diff_min))
        e = S("exp", _exp_on_negative(S, _scaled_diff(S, safe, op)))
        return diff, e

    def sum_body(c):
        diff, e = exp_of_diff(c)
        e12 = rdbpot(S, e, qm.SOFTMAX_ACCUM_INT_BITS)
        keep = tirx.Select(diff >= c32(op.diff_min), e12, c32(0))
        return S.take() + [_store(rsum, _load(rsum) + keep)]

    def out_body(c):
        diff, e = exp_of_diff(c)
        # exponent = num_bits_over_unit + 31 - 8 = (12 - clz) + 23; both factors are
        # non-negative and the exponent can exceed 31 for wide rows: int64 rounding
        y = rdbpot_nonneg64(S, srdhm(S, recip, e, True), expo) + c32(op.output.zero_point)
        y = tirx.Select(diff >= c32(op.diff_min), clamp(y, -128, 127), c32(-128))
        return S.take() + [tirx.BufferStore(Y, y.astype(I8), row_vars + [c])]

    row = [_store(rmax, c32(-128)),
           _loop("c", D, lambda c: [_store(rmax, tirx.max(_load(rmax), i32(x_at(c))))]),
           _store(rsum, c32(0)),
           _loop("c", D, sum_body)]
    clz = clz_positive(S, _load(rsum))
    # (sum << clz) - 2^31: the sum's mantissa minus one, x in [0, 1) as Q0.31
    a = S("xm1", i32((i64(_load(rsum)) << i64(clz)) - c64(1 << 31)))
    recip = saturating_shl(S, _newton_half_reciprocal(S, a), 1)
    expo = S("expo", c32(qm.SOFTMAX_ACCUM_INT_BITS + 31 - 8) - clz)
    row += S.take()
    row.append(_loop("c", D, out_body))

    func = _row_func([X, Y], row_vars, lead, row, S)
    src = op.input.source if op.input.source is not None else op.input.data.astype(I8)
    return Kernel(func, [src], shape, I8)


def _row_func(params, row_vars, lead, row: list, S: Scratch) -> tirx.PrimFunc:
    """PrimFunc of a row-wise loop nest: ``row`` statements inside loops over ``lead``."""
    body = row[0] if len(row) == 1 else tirx.SeqStmt(row)
    for d in reversed(range(len(lead))):
        body = tirx.For(row_vars[d], c32(0), c32(lead[d]), tirx.ForKind.SERIAL, body)
    body = tirx.SeqStmt([tirx.AllocBuffer(b) for b in S.buffers] + [body])
    # A root block around the loop nest, as TE-made functions have: some Relax passes
    # (e.g. the reshape-pattern analysis) expect a PrimFunc body to be a block.
    root = tvm.s_tir.SBlock([], [], [], "root", body)
    func = tirx.PrimFunc(params, tvm.s_tir.SBlockRealize([], True, root))
    return func.with_attrs({"tirx.noalias": True, "s_tir": True})


def _lut_lookup(S: Scratch, lut: tirx.Buffer, v):
    """TFLite's interpolated int16 table lookup of an int16-range int32 ``v``: entry
    ``256 + (v >> 7)`` plus ``(slope * (v & 127) + 64) >> 7``."""
    idx = S("idx", (v >> c32(7)) + c32(256))
    base = S("base", i32(tirx.BufferLoad(lut, [idx])))
    slope = S("slope", i32(tirx.BufferLoad(lut, [idx + c32(1)])) - base)
    return S("lut", base + ((slope * (v & c32(0x7F)) + c32(64)) >> c32(7)))


def softmax_s16(op: P.QSoftmax) -> Kernel:
    """SOFTMAX int16 -> int16 over the last axis (TFLM's table-based int16 algorithm).

    Per row: max; per element the difference to the max is rescaled (MBQM with the
    softmax's input multiplier) so that [-10, 0] spans [-65535, 0], recentred by +32767,
    saturated to int16 and looked up in the exp table (Q0.15); the sum of those (Q16.15)
    is normalised by its leading zeros into the 1/(1+x) table's input; each output is
    ``exp * reciprocal`` rounded (int64) by ``31 - clz(sum)`` bits and clamped to
    [0, 32767]. The two 513-entry int16 tables are constant arguments; exp is looked up
    again in the output pass (TFLM keeps it in the output buffer) so that each output
    element is written once."""
    shape = tuple(op.input.shape)
    lead, D = shape[:-1], shape[-1]
    X = tirx.decl_buffer(shape, I16, "input")
    exp_lut, recip_lut = qm.softmax_luts_s16()
    EXP = tirx.decl_buffer(exp_lut.shape, I16, "exp_lut")
    RECIP = tirx.decl_buffer(recip_lut.shape, I16, "recip_lut")
    Y = tirx.decl_buffer(shape, I16, "output")
    S = Scratch()
    row_vars = [tirx.Var(f"i{d}", I32) for d in range(len(lead))]
    rmax, rsum = S.buffer("row_max"), S.buffer("row_sum")

    def exp_of(c):
        diff = S("diff", x_at(c) - _load(rmax))
        if op.left_shift > 15:
            # input_scale * beta >= 5: diff * 2^shift can leave int32. TFLM's int32
            # arithmetic wraps there (measured), so do the same: multiply in int64 and
            # truncate (a conversion, implementation-defined, not an overflow).
            wrapped = S("xs", i32(i64(diff) * c64(1 << op.left_shift)))
            scaled = srdhm(S, wrapped, c32(op.multiplier), op.multiplier != qm.INT32_MIN)
        else:
            scaled = mbqm(S, diff, op.multiplier, op.left_shift)
        scaled = scaled + c32(qm.INT16_MAX)
        sym = S("sym", clamp(scaled, qm.INT16_MIN, qm.INT16_MAX))
        return _lut_lookup(S, EXP, sym)

    def sum_body(c):
        e = exp_of(c)
        return S.take() + [_store(rsum, _load(rsum) + e)]

    def out_body(c):
        e = exp_of(c)
        y = S("y", i32((i64(e) * i64(recip) + rounding) >> i64(rshift)))
        return S.take() + [tirx.BufferStore(Y, clamp(y, 0, qm.INT16_MAX).astype(I16),
                                            row_vars + [c])]

    def x_at(c):
        return i32(tirx.BufferLoad(X, row_vars + [c]))

    row = [_store(rmax, c32(qm.INT16_MIN)),
           _loop("c", D, lambda c: [_store(rmax, tirx.max(_load(rmax), x_at(c)))]),
           _store(rsum, c32(0)),
           _loop("c", D, sum_body)]
    # the row sum is at least exp(0) ~ 32767, so clz <= 17 and every shift below is >= 13
    clz = clz_positive(S, _load(rsum))
    shifted = S("shifted", i32(((i64(_load(rsum)) << i64(clz - c32(1))) + c64(1 << 13))
                               >> c64(14)))
    sym = S("sym_sum", clamp(shifted - c32((1 << 15) + (1 << 16)), qm.INT16_MIN, qm.INT16_MAX))
    recip = _lut_lookup(S, RECIP, sym)
    rshift = S("rshift", c32(31) - clz)
    rounding = S("rnd", c64(1) << i64(rshift - c32(1)))
    row += S.take()
    row.append(_loop("c", D, out_body))
    func = _row_func([X, EXP, RECIP, Y], row_vars, lead, row, S)
    src = op.input.source if op.input.source is not None else op.input.data.astype(I16)
    return Kernel(func, [src, exp_lut, recip_lut], shape, I16)


#: gemmlowp constants of GetInvSqrtQuantizedMultiplierExp: 1.5 in Q3.28, sqrt(2)/2 in Q0.31
_THREE_HALVES_Q3 = (1 << 28) + (1 << 27)
_HALF_SQRT2_Q31 = 1518500250


def _inv_sqrt_multiplier(S: Scratch, total):
    """TFLite GetInvSqrtQuantizedMultiplierExp(total, reverse_shift=-1) of an int32 sum
    ``total`` >= 0: (multiplier, right shift >= 0). A sum of at least 2^29 loses two bits
    (shift + 1); the sum is then moved into [2^27, 2^29) by pairs of bits (shift minus the
    pairs), read as Q3.28 after halving, and 1/sqrt of it found by five Newton-Raphson
    steps ``x = 1.5 x - (v / 2) x^3`` from x = 1 (gemmlowp products and rescales), times
    sqrt(2)/2. A negative shift is moved into the multiplier (a plain left shift, never
    overflowing). Sums 0 and 1 give (INT32_MAX, 0); the steps are computed on 2 for them."""
    one_or_less = S("le1", tirx.Select(total <= c32(1), c32(1), c32(0)))
    v0 = S("isq0", tirx.Select(one_or_less != c32(0), c32(2), total))
    big = S("big", tirx.Select(v0 >= c32(1 << 29), c32(1), c32(0)))
    v1 = S("isq1", tirx.Select(big != c32(0), v0 >> c32(2), v0))
    pairs = S("pairs", ((clz_positive(S, v1) - c32(1)) >> c32(1)) - c32(1))
    shift = S("ish", c32(11) + big - pairs)
    half_input = rdbpot(S, S("fx", (v1 << (pairs * c32(2))) >> c32(1)), 1)
    x = c32(1 << 28)
    for _ in range(5):
        x3 = saturating_shl(S, srdhm(S, srdhm(S, x, x), x), 6)
        x = S("nr", saturating_shl(S, srdhm(S, c32(_THREE_HALVES_Q3), x, True)
                                   - srdhm(S, half_input, x3), 3))
    x = srdhm(S, x, c32(_HALF_SQRT2_Q31), True)
    x = S("isq", x << tirx.max(c32(0) - shift, c32(0)))
    mult = S("imul", tirx.Select(one_or_less != c32(0), c32(qm.INT32_MAX), x))
    right = S("irsh", tirx.Select(one_or_less != c32(0), c32(0), tirx.max(shift, c32(0))))
    return mult, right


def l2_normalization(op: P.QL2Norm) -> Kernel:
    """L2_NORMALIZATION int8 over the innermost axis (TFLM's integer kernel): per row the
    sum of squares of ``x - zp``, its inverse square root (:func:`_inv_sqrt_multiplier`),
    then each ``x - zp`` MBQM with that multiplier and shift ``7 - right`` (to 1/128 steps),
    clamped to int8 (output zero point 0)."""
    shape = tuple(op.input.shape)
    lead, D = shape[:-1], shape[-1]
    X = tirx.decl_buffer(shape, I8, "input")
    Y = tirx.decl_buffer(shape, I8, "output")
    S = Scratch()
    row_vars = [tirx.Var(f"i{d}", I32) for d in range(len(lead))]
    acc = S.buffer("sum_sq")

    def centred(c):
        return S("d", i32(tirx.BufferLoad(X, row_vars + [c])) - c32(op.input.zero_point))

    def sum_body(c):
        d = centred(c)
        return S.take() + [_store(acc, _load(acc) + d * d)]

    row = [_store(acc, c32(0)), _loop("c", D, sum_body)]
    mult, right = _inv_sqrt_multiplier(S, _load(acc))
    out_shift = S("osh", c32(7) - right)
    row += S.take()

    def out_body(c):
        y = mbqm(S, centred(c), mult, out_shift)
        return S.take() + [tirx.BufferStore(Y, clamp(y, -128, 127).astype(I8), row_vars + [c])]

    row.append(_loop("c", D, out_body))
    func = _row_func([X, Y], row_vars, lead, row, S)
    src = op.input.source if op.input.source is not None else op.input.data.astype(I8)
    return Kernel(func, [src], shape, I8)

# ---------------------------------------------------------------------------------------
# Pointwise fixed-point functions: LOGISTIC, TANH
# ---------------------------------------------------------------------------------------

def _pointwise(op, fn, in_dtype: str = I8, table: np.ndarray | None = None) -> Kernel:
    """An elementwise kernel built as loop-level TIR (like softmax: the gemmlowp chains are
    too deep for TVM's simplifier as one expression): ``fn(S, x)`` maps the int32 value of
    one input element to the int32 output value (already in the output's range). With a
    ``table`` (1-D int32 constant, the kernel's second argument) it is ``fn(S, x, T)``, ``T``
    the table's buffer."""
    shape = tuple(op.input.shape)
    out_dtype = op.output.dtype
    X = tirx.decl_buffer(shape, in_dtype, "input")
    Y = tirx.decl_buffer(shape, out_dtype, "output")
    S = Scratch()
    idx = [tirx.Var(f"i{d}", I32) for d in range(len(shape))]
    x = S("x", i32(tirx.BufferLoad(X, idx)))
    params, consts = [X], []
    if table is not None:
        T = tirx.decl_buffer(table.shape, I32, "table")
        params.append(T)
        consts.append(np.ascontiguousarray(table, dtype=np.int32))
        y = fn(S, x, T)
    else:
        y = fn(S, x)
    body = S.take() + [tirx.BufferStore(Y, y.astype(out_dtype), idx)]
    func = _row_func(params + [Y], idx, shape, body, S)
    src = op.input.source if op.input.source is not None else op.input.data.astype(in_dtype)
    return Kernel(func, [src] + consts, shape, out_dtype)


def _sigmoid_input(S, x, op: P.QLogistic):
    """(saturation select, Q4.27 input) of TFLM's int8 LOGISTIC/TANH: beyond the radius the
    output saturates; inside, MBQM(x - zp). The value is clamped into the radius first so
    that the left shift cannot overflow for the saturated elements (computed, not used)."""
    r = op.range_radius
    d = S("d", x - c32(op.input.zero_point))
    inside = S("din", tirx.min(tirx.max(d, c32(1 - r)), c32(r - 1)))
    q4 = S("q4", mbqm(S, inside, op.multiplier, op.left_shift))

    def saturate(value):
        return tirx.Select(d <= c32(-r), c32(-128), tirx.Select(d >= c32(r), c32(127), value))
    return saturate, q4


def logistic(op: P.QLogistic | P.QLogisticS16) -> Kernel:
    """LOGISTIC int8 (TFLM reference_integer_ops::Logistic): gemmlowp logistic of the Q4.27
    input, 1 / (1 + exp(-|a|)) by Newton-Raphson (one minus it for a < 0, 1/2 at 0), then
    RoundingDivideByPOT(., 23) - 128 clamped to int8. int16: :func:`activation_s16`."""
    if isinstance(op, P.QLogisticS16):
        return activation_s16(op)

    def fn(S, x):
        saturate, q4 = _sigmoid_input(S, x, op)
        pos = S("pos", tirx.Select(q4 > c32(0), c32(1), c32(0)))
        neg_abs = S("nabs", tirx.Select(pos != c32(0), c32(0) - q4, q4))
        e = S("e", _exp_on_negative(S, neg_abs, qm.SIGMOID_INPUT_INT_BITS))
        r_pos = saturating_shl(S, _newton_half_reciprocal(S, e), 1)
        res = tirx.Select(q4 == c32(0), c32(1 << 30),
                          tirx.Select(pos != c32(0), r_pos, c32(qm.INT32_MAX) - r_pos))
        y = rdbpot(S, S("res", res), 31 - 8) + c32(-128)
        return saturate(clamp(y, -128, 127))
    return _pointwise(op, fn)


def tanh(op: P.QTanh | P.QTanhS16) -> Kernel:
    """TANH int8 (TFLM reference_integer_ops::Tanh): gemmlowp tanh of the Q4.27 input,
    (1 - exp(-2|a|)) / (1 + exp(-2|a|)) by Newton-Raphson (exp on the same raw value read
    as Q5.26), negated for a < 0, 0 at 0; RoundingDivideByPOT(., 24) clamped to int8.
    int16: :func:`activation_s16`."""
    if isinstance(op, P.QLogisticS16):
        return activation_s16(op)

    def fn(S, x):
        saturate, q4 = _sigmoid_input(S, x, op)
        neg = S("neg", tirx.Select(q4 < c32(0), c32(1), c32(0)))
        n = S("n", tirx.Select(neg != c32(0), q4, c32(0) - q4))
        e = S("e", _exp_on_negative(S, n, qm.SIGMOID_INPUT_INT_BITS + 1))
        t = saturating_shl(S, S("xm1", _newton_half_reciprocal(S, e) - c32(1 << 29)), 2)
        res = tirx.Select(q4 == c32(0), c32(0),
                          tirx.Select(neg != c32(0), c32(0) - t, t))
        y = rdbpot(S, S("res", res), 31 - 7)
        return saturate(clamp(y, -128, 127))
    return _pointwise(op, fn)



def activation_s16(op: P.QLogisticS16) -> Kernel:
    """LOGISTIC / TANH int16 -> int16 (TFLM's int16 reference kernels, tanh(x) = 2
    sigmoid(2x) - 1): the input on the table's scale ``v = (x * multiplier + round) >>
    right_shift``; ``|v|`` split into a table index (``|v| >> b``, b = 9 for LOGISTIC, 8 for
    TANH) and ``b`` fraction bits interpolating linearly between two entries of
    :data:`quant_math.SIGMOID_TABLE_U16` (an index of 255 or more saturates); the result,
    mirrored for ``v < 0``, is rounded to Q0.15 (LOGISTIC: ``>> 10`` with ``+ 2^9``; TANH:
    minus one half, ``>> 8`` with ``+ 2^7``; the negative side one less, TFLM's ties). The
    table is an int32 constant argument; every intermediate fits int32 (|x * m| < 2^30)."""
    is_tanh = op.op_type == "TANH"
    bits = 8 if is_tanh else 9
    saturated = (0xFFFF << 8) if is_tanh else (0x7FFF << 10)
    rounding = (1 << (op.right_shift - 1)) if op.right_shift > 0 else 0
    table = np.asarray(qm.SIGMOID_TABLE_U16, dtype=np.int32)

    def fn(S, x, T):
        v = S("v", (x * c32(op.multiplier) + c32(rounding)) >> c32(op.right_shift))
        mag = S("mag", tirx.Select(v < c32(0), c32(0) - v, v))
        step = S("step", mag >> c32(bits))
        at = S("at", tirx.min(step, c32(len(table) - 2)))
        lo = S("lo", tirx.BufferLoad(T, [at]))
        hi = S("hi", tirx.BufferLoad(T, [at + c32(1)]))
        frac = S("frac", mag & c32((1 << bits) - 1))
        r = S("r", tirx.Select(step >= c32(len(table) - 1), c32(saturated),
                               (lo << c32(bits)) + frac * (hi - lo)))
        if is_tanh:
            y = tirx.Select(v >= c32(0), r - c32((1 << 23) - (1 << 7)),
                            c32((1 << 23) + (1 << 7) - 1) - r) >> c32(8)
        else:
            y = tirx.Select(v >= c32(0), r + c32(1 << 9),
                            c32((1 << 25) + (1 << 9) - 1) - r) >> c32(10)
        return S("y", y)
    return _pointwise(op, fn, I16, table)

# ---------------------------------------------------------------------------------------
# Elementwise: ADD, MUL, requantize, concat, pad; MEAN
# ---------------------------------------------------------------------------------------

def _broadcast_index(in_shape: Sequence[int], out_idx: Sequence) -> tuple:
    off = len(out_idx) - len(in_shape)
    return tuple(c32(0) if d == 1 else out_idx[off + i] for i, d in enumerate(in_shape))


def _compute_at_innermost(blocks: Sequence[str], consumer: str = "output"):
    def schedule(sch):
        loops = sch.get_loops(sch.get_sblock(consumer))
        if loops:
            for blk in blocks:
                sch.compute_at(sch.get_sblock(blk), loops[-1])
    return schedule


def add(op: P.QAdd) -> Kernel:
    """ADD (and SUB, :class:`P.QSub`): both inputs shifted left 20 (int16: 15), rescaled,
    summed (subtracted), rescaled to the output.

    The two rescaled inputs are separate stages computed at the output's innermost loop
    (one int32 each): keeping the three MultiplyByQuantizedMultiplier chains in separate
    blocks keeps TVM's simplifier from substituting them into each other, which makes
    compilation take seconds."""
    ins = _Inputs()
    A = ins.operand(op.input1, "input1")
    B = ins.operand(op.input2, "input2")
    shape = tuple(op.output.shape)

    def scaled(T, t: P.QTensor, mult: int, shift: int):
        def f(*idx):
            L = Lets()
            x = (i32(T[_broadcast_index(T.shape, idx)]) - c32(t.zero_point)) \
                * c32(1 << op.left_shift)
            return L.wrap(mbqm(L, L("x", x), mult, shift))
        return f

    sa = te.compute(shape, scaled(A, op.input1, op.input1_multiplier, op.input1_shift),
                    name="scaled1")
    sb = te.compute(shape, scaled(B, op.input2, op.input2_multiplier, op.input2_shift),
                    name="scaled2")
    subtract = isinstance(op, P.QSub)

    def f(*idx):
        L = Lets()
        raw = sa(*idx) - sb(*idx) if subtract else sa(*idx) + sb(*idx)
        y = mbqm(L, L("sum", raw), op.output_multiplier, op.output_shift)
        return L.wrap(clamp(y + c32(op.output.zero_point), op.act_min,
                            op.act_max).astype(op.output.dtype))

    out = te.compute(shape, f, name="output")
    return _finish(ins, out, _compute_at_innermost(["scaled2", "scaled1"]))


def mul(op: P.QMul) -> Kernel:
    """MUL: (a - zp_a) * (b - zp_b) rescaled to the output."""
    ins = _Inputs()
    A = ins.operand(op.input1, "input1")
    B = ins.operand(op.input2, "input2")
    shape = tuple(op.output.shape)

    def f(*idx):
        L = Lets()
        a = i32(A[_broadcast_index(A.shape, idx)]) - c32(op.input1.zero_point)
        b = i32(B[_broadcast_index(B.shape, idx)]) - c32(op.input2.zero_point)
        y = mbqm(L, L("prod", a * b), op.output_multiplier, op.output_shift)
        return L.wrap(clamp(y + c32(op.output.zero_point), op.act_min,
                            op.act_max).astype(op.output.dtype))

    return _finish(ins, te.compute(shape, f, name="output"))


def _unary_te(op, f) -> Kernel:
    """An elementwise TE kernel: ``f(L, x)`` maps an input element (int32) to the int32
    output value in the output's range."""
    ins = _Inputs()
    X = ins.operand(op.input, "input")

    def g(*idx):
        L = Lets()
        return L.wrap(f(L, i32(X[idx])).astype(op.output.dtype))
    return _finish(ins, te.compute(tuple(op.output.shape), g, name="output"))


def leaky_relu(op: P.QLeakyRelu) -> Kernel:
    """LEAKY_RELU (TFLM QuantizeLeakyRelu): MBQM of ``x - zp_in`` by the identity or the
    alpha multiplier (by its sign), + zp_out, saturated to the output type."""
    def f(L, x):
        d = L("d", x - c32(op.input.zero_point))
        pos = mbqm(L, d, op.identity_multiplier, op.identity_shift)
        neg = mbqm(L, d, op.alpha_multiplier, op.alpha_shift)
        y = tirx.Select(d >= c32(0), pos, neg) + c32(op.output.zero_point)
        return clamp(y, *P.dtype_range(op.output.dtype))
    return _unary_te(op, f)


def relu(op: P.QRelu) -> Kernel:
    """RELU (TFLM ReluQuantized): MBQM(x - zp_in) + zp_out clamped to [act_min, act_max]."""
    def f(L, x):
        y = mbqm(L, L("d", x - c32(op.input.zero_point)), op.multiplier, op.shift)
        return clamp(y + c32(op.output.zero_point), op.act_min, op.act_max)
    return _unary_te(op, f)


def abs_(op: P.QAbs) -> Kernel:
    """ABS (TFLM AbsEvalQuantized): ``|x - zp_in|``, MBQM when the scales differ,
    + zp_out, saturated to the output type."""
    def f(L, x):
        d = L("d", x - c32(op.input.zero_point))
        a = L("a", tirx.Select(d >= c32(0), d, c32(0) - d))
        if op.needs_rescale:
            a = mbqm(L, a, op.multiplier, op.shift)
        return clamp(a + c32(op.output.zero_point), *P.dtype_range(op.output.dtype))
    return _unary_te(op, f)


def prelu(op: P.QPrelu) -> Kernel:
    """PRELU int8 (TFLM): MBQM of ``x - zp_in`` (>= 0) or of ``(x - zp_in) * (alpha -
    zp_alpha)``, alpha broadcast to the input, + zp_out, saturated."""
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    A = ins.operand(op.alpha, "alpha")

    def f(*idx):
        L = Lets()
        d = L("d", i32(X[idx]) - c32(op.input.zero_point))
        a = i32(A[_broadcast_index(A.shape, idx)]) - c32(op.alpha.zero_point)
        pos = mbqm(L, d, op.multiplier1, op.shift1)
        neg = mbqm(L, L("da", d * a), op.multiplier2, op.shift2)
        y = tirx.Select(d >= c32(0), pos, neg) + c32(op.output.zero_point)
        return L.wrap(clamp(y, *P.dtype_range(op.output.dtype)).astype(op.output.dtype))
    return _finish(ins, te.compute(tuple(op.output.shape), f, name="output"))


def batch_matmul(op: P.QBatchMatMul) -> Kernel:
    """BATCH_MATMUL (TFLM): out[b..., m, n] = sat(requant(sum_k (lhs[b', m, k] - zp_l) *
    (rhs[b'', k, n] - zp_r)) + zp_out), the batch index broadcast into each operand
    (dimension 1 -> index 0, missing leading dimensions dropped); ``adj_x`` / ``adj_y``
    read the stored ``[..., K, M]`` / ``[..., N, K]`` layouts directly (no transposed
    copy). int8: int32 accumulator, TFLite's double-rounding MBQM; int16: int64
    accumulator, TFLite's int64 MBQM. One accumulator (4 or 8 bytes) of scratch."""
    ins = _Inputs()
    A = ins.operand(op.lhs, "lhs")
    B = ins.operand(op.rhs, "rhs")
    out_shape = tuple(op.output.shape)
    wide = _is16(op)
    k = te.reduce_axis((0, op.depth), "k")
    zl, zr = c32(op.lhs.zero_point), c32(op.rhs.zero_point)

    def acc_f(*idx):
        batch, m, n = idx[:-2], idx[-2], idx[-1]
        a = A[_broadcast_index(op.lhs.shape[:-2], batch) + ((k, m) if op.adj_x else (m, k))]
        b = B[_broadcast_index(op.rhs.shape[:-2], batch) + ((n, k) if op.adj_y else (k, n))]
        if wide:        # zero points 0 (TFLite's int16 rule)
            return te.sum(i64(i32(a) * i32(b)), axis=[k])
        return te.sum((i32(a) - zl) * (i32(b) - zr), axis=[k])

    acc = te.compute(out_shape, acc_f, name="acc")
    if wide:
        try:
            reduced, total = qm.reduced_multiplier_s64(op.multiplier, op.shift)
        except ValueError as err:
            raise P.ExtractError(f"BATCH_MATMUL: {err}") from None
        requant = lambda L, a, ch: mbqm64(L, a, reduced, total)  # noqa: E731
    else:
        requant = lambda L, a, ch: mbqm(L, a, op.multiplier, op.shift)  # noqa: E731
    lo, hi = P.dtype_range(op.output.dtype)
    out = te.compute(out_shape, _requant_epilogue(
        lambda *i: acc(*i), None, requant, op.output.zero_point, lo, hi, op.output.dtype),
        name="output")
    return _finish(ins, out, _reverse_at("output", "acc", len(out_shape) - 1))


def relu6(op: P.QRelu6) -> Kernel:
    """RELU6 (TFLM Relu6Quantized): the raw value clamped to [lower, upper]."""
    return _unary_te(op, lambda L, x: tirx.min(tirx.max(x, c32(op.lower)), c32(op.upper)))


def _srdhm16(S, a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int16 values (held in int32): the
    product plus a nudge of +-2^14, divided by 2^15 truncating toward zero."""
    ab = S("ab", a * b)
    n = S("abn", ab + tirx.Select(ab >= c32(0), c32(1 << 14), c32(1 - (1 << 14))))
    q = tirx.Select(n >= c32(0), n >> c32(15), c32(0) - ((c32(0) - n) >> c32(15)))
    both_min = tirx.And(a == c32(qm.INT16_MIN), b == c32(qm.INT16_MIN))
    return S("hm16", tirx.Select(both_min, c32(qm.INT16_MAX), q))


def _sat_shl16(S, x, amount: int):
    """TFLite SaturatingLeftShift on an int16 value: x * 2^amount saturated to int16."""
    return S("sl16", i32(tirx.min(tirx.max(i64(x) * c64(1 << amount), c64(qm.INT16_MIN)),
                                  c64(qm.INT16_MAX))))


def hard_swish(op: P.QHardSwish) -> Kernel:
    """HARD_SWISH int8 (TFLM reference HardSwish): int16 fixed point. The input on the
    "hires" scale (x - zp) * 2^7 is rescaled to the output's pre-shift scale and, with a
    careful saturating shift, to the "reluish" value (3.0 = 2^15) in [-1, 1], which is
    mapped to [0, 1] and multiplied (non-rounding doubling high mul) with the former; the
    output exponent's rounding shift, the zero point (int16 arithmetic) and the int8
    clamp follow."""
    def fn(S, x):
        hires = S("hires", (x - c32(op.input.zero_point)) * c32(1 << 7))
        preshift = _srdhm16(S, hires, c32(op.output_fixedpoint))
        rel = hires
        if op.reluish_exponent > 0:
            rel = _sat_shl16(S, rel, op.reluish_exponent - 1)
        rel = _srdhm16(S, rel, c32(op.reluish_fixedpoint))
        if op.reluish_exponent > 0:
            rel = _sat_shl16(S, rel, 1)
        if op.reluish_exponent < 0:
            rel = rdbpot(S, rel, -op.reluish_exponent)
        rel = S("rel01", (rel + c32(1 << 15)) >> c32(1))
        # SaturatingDoublingHighMul: the product / 2^15 truncated toward zero (rel >= 0)
        prod = S("p", rel * preshift)
        y = tirx.Select(prod >= c32(0), prod >> c32(15), c32(0) - ((c32(0) - prod) >> c32(15)))
        y = rdbpot(S, S("pre", y), -op.output_exponent)
        # int16 addition of the zero point (wraps like TFLM's int16_t arithmetic)
        y = S("y16", ((y + c32(op.output.zero_point) + c32(1 << 15)) & c32(0xFFFF))
              - c32(1 << 15))
        return clamp(y, -128, 127)
    return _pointwise(op, fn)


def min_max(op: P.QMinMax) -> Kernel:
    """MAXIMUM / MINIMUM of the raw values with broadcasting (TFLM)."""
    ins = _Inputs()
    A = ins.operand(op.input1, "input1")
    B = ins.operand(op.input2, "input2")
    pick = tirx.max if op.maximum else tirx.min

    def f(*idx):
        return pick(A[_broadcast_index(A.shape, idx)], B[_broadcast_index(B.shape, idx)])
    return _finish(ins, te.compute(tuple(op.output.shape), f, name="output"))


def squared_difference(op: P.QSquaredDifference) -> Kernel:
    """SQUARED_DIFFERENCE (TFLM): (rescaled(a) - rescaled(b))^2 rescaled to the output,
    with broadcasting; the inputs are shifted left by 7 before their rescaling."""
    ins = _Inputs()
    A = ins.operand(op.input1, "input1")
    B = ins.operand(op.input2, "input2")
    shape = tuple(op.output.shape)

    def scaled(T, t: P.QTensor, mult: int, shift: int):
        def f(*idx):
            L = Lets()
            x = (i32(T[_broadcast_index(T.shape, idx)]) - c32(t.zero_point)) \
                * c32(1 << op.left_shift)
            return L.wrap(mbqm(L, L("x", x), mult, shift))
        return f

    sa = te.compute(shape, scaled(A, op.input1, op.input1_multiplier, op.input1_shift),
                    name="scaled1")
    sb = te.compute(shape, scaled(B, op.input2, op.input2_multiplier, op.input2_shift),
                    name="scaled2")

    def f(*idx):
        L = Lets()
        d = L("diff", sa(*idx) - sb(*idx))
        y = mbqm(L, L("sq", d * d), op.output_multiplier, op.output_shift)
        return L.wrap(clamp(y + c32(op.output.zero_point), op.act_min,
                            op.act_max).astype(op.output.dtype))

    out = te.compute(shape, f, name="output")
    return _finish(ins, out, _compute_at_innermost(["scaled2", "scaled1"]))


def resize(op: P.QResize) -> Kernel:
    """RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR on raw values (TFLM). The source
    rows/columns (and bilinear weights) are int32 constant tables computed at compile time.
    Bilinear: the four taps weighted in 1/1024 per axis, summed in int64 (2^20 = 1) and
    divided by 2^20 rounding half away from zero (TFLM's double-rounding form)."""
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    R0 = ins.const(np.asarray(op.rows, np.int32), "rows")
    C0 = ins.const(np.asarray(op.cols, np.int32), "cols")
    shape = tuple(op.output.shape)
    if not op.bilinear:
        return _finish(ins, te.compute(shape, lambda n, y, x, c: X[n, R0[y], C0[x], c],
                                       name="output"))
    R1 = ins.const(np.asarray(op.rows1, np.int32), "rows1")
    C1 = ins.const(np.asarray(op.cols1, np.int32), "cols1")
    RW = ins.const(np.asarray(op.row_weights, np.int32), "row_weights")
    CW = ins.const(np.asarray(op.col_weights, np.int32), "col_weights")
    one = c64(1 << 10)

    def f(n, y, x, c):
        L = Lets()
        wy, wx = L("wy", i64(RW[y])), L("wx", i64(CW[x]))
        acc = (i64(X[n, R0[y], C0[x], c]) * (one - wy) * (one - wx)
               + i64(X[n, R1[y], C0[x], c]) * wy * (one - wx)
               + i64(X[n, R0[y], C1[x], c]) * (one - wy) * wx
               + i64(X[n, R1[y], C1[x], c]) * wy * wx)
        v = L("v20", acc)
        half = c64(1 << 19)
        # (v + round) / 2^20 truncating, round = +-2^19 by the sign of v
        q = tirx.Select(v > c64(0), (v + half) >> c64(20), c64(0) - ((half - v) >> c64(20)))
        return L.wrap(i32(q).astype(op.output.dtype))

    return _finish(ins, te.compute(shape, f, name="output"))


def _requant_expr(L: Lets, x, in_zp: int, mult: int, shift: int, out_zp: int,
                  out_dtype: str = I8):
    y = mbqm(L, L("v", i32(x) - c32(in_zp)), mult, shift) + c32(out_zp)
    return clamp(y, *P.dtype_range(out_dtype))


def requantize(op: P.QRequantize) -> Kernel:
    """QUANTIZE between integer types (int8/int16 -> int8/int16; TFLM Requantize):
    MBQM(x - zp_in) + zp_out, saturated to the output type."""
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    dt = op.output.dtype

    def f(*idx):
        L = Lets()
        return L.wrap(_requant_expr(L, X[idx], op.input.zero_point, op.multiplier, op.shift,
                                    op.output.zero_point, dt).astype(dt))

    return _finish(ins, te.compute(tuple(op.output.shape), f, name="output"))


def quantize_float(op: P.QQuantize) -> Kernel:
    """QUANTIZE float32 -> int8/int16 exactly as TFLM: float32 x / scale, std::round (half
    away from zero), + zero point, saturate. The only kernel with float arithmetic: its
    input is a float tensor (a model's float input)."""
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    scale = tirx.const(float(np.float32(op.output.scale)), "float32")
    f0 = tirx.const(0.0, "float32")
    qmin, qmax = P.dtype_range(op.output.dtype)

    def f(*idx):
        L = Lets()
        q = L("q", X[idx] / scale)
        t = L("t", tirx.trunc(q))
        frac = q - t                      # exact in float32
        r = t + tirx.Select(frac >= tirx.const(0.5, "float32"), tirx.const(1.0, "float32"),
                            tirx.Select(frac <= tirx.const(-0.5, "float32"),
                                        tirx.const(-1.0, "float32"), f0))
        # saturate in float before the cast (an out-of-range float->int cast is undefined)
        y = tirx.min(tirx.max(r + tirx.const(float(op.output.zero_point), "float32"),
                              tirx.const(float(qmin), "float32")),
                     tirx.const(float(qmax), "float32"))
        return L.wrap(y.astype(op.output.dtype))

    return _finish(ins, te.compute(tuple(op.output.shape), f, name="output"))


def concatenation(op: P.QConcat) -> Kernel:
    """CONCATENATION: copy (same quantization) or requantize each input into its slice."""
    ins = _Inputs()
    Xs = [ins.operand(t, f"input{i}") for i, t in enumerate(op.inputs)]
    ax = op.axis
    offsets = np.cumsum([0] + [t.shape[ax] for t in op.inputs])

    def f(*idx):
        L = Lets()
        val = None
        for i in reversed(range(len(Xs))):
            j = list(idx)
            j[ax] = idx[ax] - c32(int(offsets[i])) if offsets[i] else idx[ax]
            if op.requant[i] is not None:
                # A requantized input's value is a (hoisted) let, evaluated for every output
                # element: keep its index inside the input so that the read is in bounds.
                if offsets[i]:
                    j[ax] = tirx.max(j[ax], c32(0))
                if offsets[i + 1] < offsets[-1]:
                    j[ax] = tirx.min(j[ax], c32(op.inputs[i].shape[ax] - 1))
            x = Xs[i][tuple(j)]
            if op.requant[i] is None:
                v = i32(x)
            else:
                m, s = op.requant[i]
                v = _requant_expr(L, x, op.inputs[i].zero_point, m, s, op.output.zero_point,
                                  op.output.dtype)
            v = clamp(v, op.act_min, op.act_max)
            val = v if val is None else tirx.if_then_else(idx[ax] < c32(int(offsets[i + 1])),
                                                          v, val)
        return L.wrap(val.astype(op.output.dtype))

    return _finish(ins, te.compute(tuple(op.output.shape), f, name="output"))


def pad(op: P.QPad) -> Kernel:
    """PAD with a constant value (TFLite: the zero point)."""
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    shape = tuple(op.output.shape)

    def f(*idx):
        src = tuple(idx[d] - c32(b) if b else idx[d] for d, (b, _) in enumerate(op.paddings))
        checks = [(s, op.input.shape[d], op.paddings[d][0] > 0, op.paddings[d][1] > 0)
                  for d, s in enumerate(src)]
        return _guarded(_in_bounds(checks), X[src], tirx.const(op.pad_value, op.output.dtype))

    return _finish(ins, te.compute(shape, f, name="output"))


def transpose(op: P.QTranspose) -> Kernel:
    """TRANSPOSE: output[i_0, .., i_k] = input[j] with j[perm[d]] = i_d (a raw copy)."""
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    inverse = [op.perm.index(d) for d in range(len(op.perm))]
    out = te.compute(tuple(op.output.shape),
                     lambda *idx: X[tuple(idx[inverse[d]] for d in range(len(idx)))],
                     name="output")
    return _finish(ins, out)


def _reduce_source(op, raxes):
    """Output index -> input index with the reduction axes substituted."""
    in_shape = op.input.shape

    def src_index(idx):
        if op.keep_dims:
            return tuple(raxes.get(d, idx[d]) for d in range(len(in_shape)))
        it = iter(idx)
        return tuple(raxes[d] if d in raxes else next(it) for d in range(len(in_shape)))
    return src_index


def reduce_max(op: P.QReduceMax) -> Kernel:
    """REDUCE_MAX: the raw maximum over the axes (init: the dtype's minimum)."""
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    raxes = {a: te.reduce_axis((0, op.input.shape[a]), f"r{a}") for a in op.axes}
    src = _reduce_source(op, raxes)
    out = te.compute(tuple(op.output.shape),
                     lambda *idx: te.max(X[src(idx)], axis=list(raxes.values())),
                     name="output")
    return _finish(ins, out)


def mean(op: P.QMean) -> Kernel:
    """MEAN: MBQM(sum(x) - zp * count, multiplier/count folded) + out_zp (TFLM integer);
    SUM (:class:`P.QSum`) the same with the multiplier in_scale / out_scale."""
    ins = _Inputs()
    X = ins.operand(op.input, "input")
    in_shape = op.input.shape
    raxes = {a: te.reduce_axis((0, in_shape[a]), f"r{a}") for a in op.axes}
    out_shape = tuple(op.output.shape)

    def src_index(idx):
        # output index -> input index with the reduction axes substituted
        if op.keep_dims:
            return tuple(raxes.get(d, idx[d]) for d in range(len(in_shape)))
        it = iter(idx)
        return tuple(raxes[d] if d in raxes else next(it) for d in range(len(in_shape)))

    acc = te.compute(out_shape, lambda *idx: te.sum(i32(X[src_index(idx)]),
                                                    axis=list(raxes.values())), name="acc")

    def out_f(*idx):
        L = Lets()
        a = L("acc", acc[idx] - c32(op.input.zero_point * op.count))
        y = mbqm(L, a, op.multiplier, op.shift) + c32(op.output.zero_point)
        return L.wrap(clamp(y, *P.dtype_range(op.output.dtype)).astype(op.output.dtype))

    out = te.compute(out_shape, out_f, name="output")
    sched = _reverse_at("output", "acc", len(out_shape) - 1) if out_shape else None
    return _finish(ins, out, sched)


# ---------------------------------------------------------------------------------------
# Scratch memory report
# ---------------------------------------------------------------------------------------

def lower_for_inspection(func: tirx.PrimFunc) -> tirx.PrimFunc:
    """The kernel after TVM's standard block lowering (buffer compaction, flattening)."""
    mod = tvm.IRModule({"kernel": func.with_attr("global_symbol", "kernel")})
    seq = tvm.transform.Sequential([
        tvm.s_tir.transform.LowerInitBlock(),
        tvm.s_tir.transform.PlanAndUpdateBufferAllocationLocation(),
        tvm.s_tir.transform.ConvertBlocksToOpaque(),
        tvm.s_tir.transform.CompactBufferAllocation(),
        tvm.s_tir.transform.LowerOpaqueBlock(),
        tirx.transform.FlattenBuffer(),
    ])
    return seq(mod)["kernel"]


def _allocations(stmt, out: list) -> None:
    if isinstance(stmt, tirx.AllocBuffer):
        out.append(stmt.buffer)
    if isinstance(stmt, tirx.SeqStmt):
        for s in stmt.seq:
            _allocations(s, out)
        return
    for attr in ("body", "then_case", "else_case"):
        child = getattr(stmt, attr, None)
        if isinstance(child, tirx.Stmt):
            _allocations(child, out)


def scratch_buffers(func: tirx.PrimFunc) -> list[tuple[str, str, int]]:
    """(name, dtype, elements) of every intermediate buffer of the lowered kernel."""
    bufs: list = []
    _allocations(lower_for_inspection(func).body, bufs)
    return [(b.name, str(b.dtype), int(np.prod([int(d) for d in b.shape])))
            for b in bufs]


def scratch_bytes(func: tirx.PrimFunc) -> int:
    """Bytes of intermediate buffers the lowered kernel allocates (C locals or workspace)."""
    return sum(n * np.dtype(dt if dt != "bool" else "bool").itemsize
               for _, dt, n in scratch_buffers(func))
