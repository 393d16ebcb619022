"""Partitioning for the ``cmsis-nn`` target: which quantized operators CMSIS-NN computes.

``partition_for_cmsisnn(mod, cpu)`` takes the frontend's (unlegalized) QDQ module and groups
every chain that a CMSIS-NN v7 int8 kernel can compute into a function annotated
``Codegen = "cmsisnn"`` (``relax.transform.FuseOpsByPattern(..., bind_constants=True,
annotate_codegen=True)``): main then calls one function per partition, each wrapping one
composite ``cmsisnn.<kind>`` function with its weights, biases, scales and zero points bound
as constants. ``byoc.cmsisnn.codegen`` turns those into C calls of the CMSIS-NN API.

Patterns are byoc.qnn's (the same chains the generic integer path legalizes), registered
again under the ``cmsisnn.`` prefix, plus a convolution variant whose input is a PAD that
CMSIS-NN's convolution padding can express. Every candidate match is extracted into the
byoc.qnn parameter dataclass and checked (:func:`offload_reason`); a chain that fails a check
is not fused and stays for the generic path, and the reason is recorded in the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tvm
from tvm import relax
from tvm.relax.dpl import is_const, is_op, wildcard

from .. import cmsisnn_params as cp
from ..spans import operator_indices
from .. import partition_common as pc
from ..partition_common import Decision
from ..qnn import ops
from ..qnn import patterns as P
from ..qnn import quant_math as qm

PREFIX = "cmsisnn."
CODEGEN = "cmsisnn"

#: byoc.qnn kinds CMSIS-NN has a kernel for -> the int8 / int16 API function called (both
#: derived from the operator spec's ``cmsis_nn`` hooks, byoc.qnn.ops).
KERNELS = {s.kind: s.cmsis_nn["int8"] for s in ops.SPECS if "int8" in s.cmsis_nn}
KERNELS_S16 = {s.kind: s.cmsis_nn["int16"] for s in ops.SPECS if "int16" in s.cmsis_nn}
#: every kind with a CMSIS-NN kernel of some dtype, in priority order (LOGISTIC / TANH have
#: an int16 one only)
KINDS = ops.cmsis_kinds()
#: TFLite operator type of each byoc.qnn kind (for reports).
TFLITE_TYPES = ops.TFLITE_TYPES
KERNELS_BY_TYPE = {TFLITE_TYPES[k]: v for k, v in {**KERNELS_S16, **KERNELS}.items()}
#: arm_softmax_s16 sums a row's exponentials (each <= 2^15 - 1) in an int32.
SOFTMAX_S16_MAX_ROW = ((1 << 31) - 1) // ((1 << 15) - 1)


def kernel_name(kind: str, dtype: str = "int8") -> str:
    """The CMSIS-NN function computing ``kind`` on ``dtype`` activations."""
    return ops.spec(kind).cmsis_nn[dtype]

#: Softmax sums the row's exponentials as Q12.19 values (12 integer bits, each term <= 1):
#: longer rows could overflow the int32 sum (in TFLite's reference code as well).
SOFTMAX_MAX_ROW = (1 << 12) - 1


def cpu_path(cpu: str) -> str:
    """Kernel path ("mve", "dsp", "c") compiled for ``cpu``; the host builds portable C."""
    return "c" if cpu == "host" else cp.kernel_path(cpu)


# ---------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------

def _pad_conv_patterns(depthwise: bool) -> list:
    """byoc.qnn's conv chain with the activation input produced by ``nn.pad``."""
    x = is_op("relax.dequantize")(is_op("relax.nn.pad")(wildcard()), is_const(), is_const())
    w = P._dq(is_const())
    if depthwise:
        w = is_op("relax.reshape")(w, wildcard()) | w
    conv = is_op("relax.nn.conv2d")(x, w)
    with_bias = is_op("relax.add")(conv, P._bias())
    out = []
    for body in (with_bias, conv):
        out += P._with_optional_clip(P._q(body))
    return out


def _pattern_table(session: "pc.Session | None") -> list[tuple]:
    """(name, pattern, annotations, check) highest priority first: pad variants of the
    convolutions first, then byoc.qnn's chains; checks bound to ``session``."""
    qnn = pc.qnn_patterns(KINDS)
    out = []
    for kind in KINDS:
        if kind in ("conv2d", "depthwise_conv2d"):
            qcheck = qnn[kind][0][1]
            for p in _pad_conv_patterns(kind == "depthwise_conv2d"):
                out.append((f"{PREFIX}{kind}_pad", p, {"root": p},
                            pc.make_check(qcheck, _decider(kind, True), session)))
        spec = ops.spec(kind)
        pairs = qnn[kind] if spec.cmsis_nn_chain is None else \
            [(p, spec.check) for p in spec.cmsis_nn_chain[0]()]
        for p, qcheck in pairs:
            out.append((PREFIX + kind, p, {"root": p},
                        pc.make_check(qcheck, _decider(kind, False), session)))
    return out


PATTERNS = pc.PatternSet(PREFIX, _pattern_table)


def register() -> None:
    """Register the patterns under ``cmsisnn.*`` in TVM's pattern registry (idempotent)."""
    PATTERNS.register()


def registered_patterns():
    return PATTERNS.registered()


# ---------------------------------------------------------------------------------------
# Extraction (byoc.qnn's, with a PAD folded into the convolution's padding)
# ---------------------------------------------------------------------------------------

class _PadAware:
    """A byoc.qnn chain walker that looks through an ``nn.pad`` in front of an operand and
    remembers it (the conv extractor then sees the unpadded input)."""

    pad = None

    def operand(self, e, scale, zp):
        if self.is_op(e, "relax.nn.pad"):
            self.pad = e
            e = self.arg(e)
        return super().operand(e, scale, zp)


class FunctionChain(_PadAware, P._Chain):
    """Walker over a composite function (codegen time)."""


class MatchChain(_PadAware, pc.MatchChain):
    """Walker over a pattern match (check time); a padded operand's parameter is the
    PAD's input."""


def _pad_info(pad) -> tuple[list[tuple[int, int]], float, str]:
    a = pad.attrs
    w = [int(v) for v in a.pad_width]
    return [(w[2 * i], w[2 * i + 1]) for i in range(len(w) // 2)], float(a.pad_value), \
        str(a.pad_mode)


def _fold_pad(op, pad) -> str | None:
    """Fold a PAD into the convolution's padding (in place); the reason when CMSIS-NN's
    padding cannot express it."""
    paddings, value, mode = _pad_info(pad)
    if mode != "constant":
        return f"PAD mode {mode} (only constant padding is zero-point padding)"
    if len(paddings) != 4 or paddings[0] != (0, 0) or paddings[3] != (0, 0):
        return f"PAD {paddings} pads more than height and width"
    if value != op.input.zero_point:
        return (f"PAD value {value:g} is not the input zero point {op.input.zero_point} "
                "(the convolution pads with the zero point)")
    top, left, bottom, right = op.padding
    new = (top + paddings[1][0], left + paddings[2][0], bottom + paddings[1][1],
           right + paddings[2][1])
    kh, kw = op.weight.shape[1:3]
    eff_h = (kh - 1) * op.dilation[0] + 1
    eff_w = (kw - 1) * op.dilation[1] + 1
    if max(new[0], new[2]) >= eff_h or max(new[1], new[3]) >= eff_w:
        return (f"PAD {paddings[1]}x{paddings[2]} with the convolution's own padding "
                f"{op.padding} leaves windows without input ({kh}x{kw} kernel)")
    op.padding = new
    return None


def extract(kind: str, chain) -> "P.QOp":
    """The byoc.qnn dataclass of a chain; a PAD in front of a convolution is folded into its
    padding (``ExtractError`` when it cannot be). A kind whose spec names a longer chain
    for CMSIS-NN (``cmsis_nn_chain``, SVDF) is extracted with that chain's extractor."""
    spec = ops.spec(kind)
    if spec.cmsis_nn_chain is not None:
        return spec.cmsis_nn_chain[1](chain)
    op = spec.extract_op(chain)
    if chain.pad is not None:
        reason = _fold_pad(op, chain.pad)
        if reason is not None:
            raise P.ExtractError(reason)
    return op


def _weight_zero_points(chain, conv) -> np.ndarray:
    wdq = chain.arg(conv, 1)
    if chain.is_op(wdq, "relax.reshape"):
        wdq = chain.arg(wdq)
    return P._np(wdq.args[2]).reshape(-1)


# ---------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------

def _shape(s) -> str:
    return "x".join(str(d) for d in s)


def _check_common(tensors: list, act: tuple[int, int] | None) -> str | None:
    """int8 operands, or int16 ones with zero point 0 (the _s16 kernels)."""
    dtypes = {t.dtype for _, t in tensors}
    if dtypes == {"int16"}:
        for name, t in tensors:
            if t.zero_point != 0:
                return f"int16 {name} zero point {t.zero_point} != 0"
        if act is not None and not -32768 <= act[0] <= act[1] <= 32767:
            return f"activation range [{act[0]}, {act[1]}] is not an int16 range"
        return None
    for name, t in tensors:
        if t.dtype != "int8":
            return f"{name} is {t.dtype} (the kernels need all-int8 or all-int16 operands)"
    for name, t in tensors:
        if name.startswith("input") and not -128 <= t.zero_point <= 127:
            return f"{name} zero point {t.zero_point} outside [-128, 127]"
        if name == "output" and not -128 <= t.zero_point <= 127:
            return f"output zero point {t.zero_point} outside [-128, 127]"
    if act is not None and not -128 <= act[0] <= act[1] <= 127:
        return f"activation range [{act[0]}, {act[1]}] is not an int8 range"
    return None


def _check_shifts(shifts, what: str, lo: int = -31, hi: int = 30) -> str | None:
    s = np.asarray(shifts).reshape(-1)
    if s.size and (s.min() < lo or s.max() > hi):
        return f"{what} shift {int(s.min() if s.min() < lo else s.max())} outside [{lo}, {hi}]"
    return None


def _check_window(in_hw, out_hw, window, strides, padding, what: str) -> str | None:
    """Every output window must overlap the input (CMSIS-NN gives padding before only; a
    window entirely in padding has nothing to pool)."""
    for size, out, k, s, before in zip(in_hw, out_hw, window, strides, padding[:2]):
        if s < 1:
            return f"{what} stride {s}"
        if before >= k or (out - 1) * s - before >= size:
            return f"{what} window {window[0]}x{window[1]} with padding {tuple(padding)} " \
                   "has outputs without input"
    return None


def offload_reason(kind: str, op) -> str | None:
    """Why CMSIS-NN cannot compute ``op`` (a byoc.qnn dataclass of pattern ``kind``), or None
    when it can. The rules are those of the CMSIS-NN v7 int8 API (and of TFLM's CMSIS-NN
    kernels): int8 tensors (or int16 with zero point 0 for the _s16 kernels), symmetric int8
    weights, NHWC (checked by the patterns), offsets and shifts in the ranges the kernels
    take, equal shapes for the elementwise kernels. A kernel without rules of its own here
    gets :func:`_elementwise_reason` (a plain elementwise call of the operands' dtype)."""
    if kind == "svdf_state":      # the generic SVDF's first half: CMSIS-NN's SVDF does both
        kind = "svdf"
    if kind not in KINDS:
        return f"no CMSIS-NN kernel for {TFLITE_TYPES.get(kind, kind)}"
    return _RULES.get(kind, _elementwise_reason)(kind, op)


def _conv_reason(kind: str, op) -> str | None:
    int16 = _dtype_of(op) == "int16"
    r = _check_common([("input", op.input), ("output", op.output)], (op.act_min, op.act_max))
    if r:
        return r
    if op.weight.dtype != np.int8:
        return f"weights are {op.weight.dtype}"
    wzp = getattr(op, "weight_zero_point", 0)
    if wzp != 0:
        return f"weight zero point {wzp} != 0"
    bias_dtype = np.int64 if int16 else np.int32
    if op.bias is not None and op.bias.dtype != bias_dtype:
        return f"bias is {op.bias.dtype}"
    if int16 and kind == "fully_connected" and op.per_channel:
        return ("per-channel int16 FULLY_CONNECTED (arm_fully_connected_s16 takes "
                "per-tensor quantization)")
    r = _check_shifts(op.shifts, "requantization")
    if r:
        return r
    if kind != "fully_connected":
        if min(op.strides) < 1 or min(op.dilation) < 1:
            return f"stride {op.strides} / dilation {op.dilation}"
        if min(op.padding) < 0:
            return f"negative padding {op.padding}"
    if kind == "depthwise_conv2d" and op.weight.shape[3] % op.input.shape[3] != 0:
        return f"{op.weight.shape[3]} output channels for {op.input.shape[3]} inputs"
    if kind == "fully_connected":
        if tuple(op.output.shape[:-1]) != tuple(op.input.shape[:-1]) and \
                int(np.prod(op.output.shape[:-1])) != int(np.prod(op.input.shape[:-1])):
            return f"output {_shape(op.output.shape)} for input {_shape(op.input.shape)}"
        if op.weight.shape[1] != op.input.shape[-1]:
            return f"weight depth {op.weight.shape[1]} != input depth {op.input.shape[-1]}"
    return None


def _transpose_conv_reason(kind: str, op) -> str | None:
    """arm_transpose_conv_wrapper_s8: int8, per-channel requantization, padding inside the
    kernel (Arm's reverse path convolves with padding K - 1 - pad)."""
    r = _check_common([("input", op.input), ("output", op.output)], (op.act_min, op.act_max))
    if r:
        return r
    if op.bias is not None and op.bias.dtype != np.int32:
        return f"bias is {op.bias.dtype}"
    r = _check_shifts(op.shifts, "requantization")
    if r:
        return r
    kh, kw = op.weight.shape[1:3]
    if min(op.strides) < 1:
        return f"stride {op.strides}"
    if not (0 <= op.padding[0] < kh and 0 <= op.padding[1] < kw):
        return f"padding {op.padding} for a {kh}x{kw} kernel"
    if op.weight.shape[3] != op.input.shape[3]:
        return f"weight depth {op.weight.shape[3]} != input depth {op.input.shape[3]}"
    return None


def _pool_reason(kind: str, op) -> str | None:
    r = _check_common([("input", op.input), ("output", op.output)], (op.act_min, op.act_max))
    if r:
        return r
    if len(op.input.shape) != 4 or op.input.shape[3] != op.output.shape[3]:
        return f"pool from {_shape(op.input.shape)} to {_shape(op.output.shape)}"
    return _check_window(op.input.shape[1:3], op.output.shape[1:3], op.pool_size,
                         op.strides, op.padding, "pool")


def _softmax_reason(kind: str, op) -> str | None:
    r = _check_common([("input", op.input), ("output", op.output)], None)
    if r:
        return r
    row = op.input.shape[-1] if op.input.shape else 1
    if _dtype_of(op) == "int16":
        if row > SOFTMAX_S16_MAX_ROW:
            return f"int16 softmax row of {row} elements (the int32 sum of " \
                   f"exponentials allows {SOFTMAX_S16_MAX_ROW})"
        return _check_shifts([op.left_shift], "softmax input", -31, 30)
    if row > SOFTMAX_MAX_ROW:
        return f"softmax row of {row} elements (the Q12 sum of exponentials allows " \
               f"{SOFTMAX_MAX_ROW})"
    if not 0 <= op.left_shift <= 31:
        return f"softmax input shift {op.left_shift} outside [0, 31]"
    if op.diff_min > 0:
        return f"softmax diff_min {op.diff_min} > 0"
    return None


#: Broadcast ADD / MUL: a constant repeating every K output elements is stored repeated
#: up to this many elements, so one kernel call covers that many (extra flash per operator:
#: at most this many elements beyond the constant itself).
BROADCAST_BLOCK = 256
#: A constant broadcast in another pattern is stored expanded to the output's shape when
#: that takes at most this many bytes of flash.
BROADCAST_EXPAND_BYTES = 4096
#: An activation operand repeating every K output elements is passed as it is, one kernel
#: call per K elements: only when K is at least this (fewer calls than elements / 16).
BROADCAST_MIN_RUN = 16


@dataclass
class ElementwisePlan:
    """An ADD / MUL as calls of the equal-shape CMSIS-NN kernel over the output, walked in
    blocks of ``block`` elements (the last one shorter): per operand, ``repeat`` is True when
    every block reads the same elements (the operand repeats every block), and ``data`` the
    constant to store instead of the operand's own (expanded; None: as it is)."""

    total: int
    block: int
    repeat: tuple[bool, bool]
    data: tuple["np.ndarray | None", "np.ndarray | None"]


def _trailing_period(shape, out_shape) -> int | None:
    """K when an operand of ``shape`` broadcast to ``out_shape`` repeats every K output
    elements (its shape without leading 1s is the output's trailing dimensions), else None."""
    dims = list(shape)
    while dims and dims[0] == 1:
        dims.pop(0)
    if len(dims) > len(out_shape) or (dims and list(out_shape[-len(dims):]) != dims):
        return None
    return int(np.prod(dims, dtype=np.int64)) if dims else 1


def elementwise_plan(op) -> "ElementwisePlan | str":
    """How the equal-shape kernel computes ``op`` (a QAdd / QMul), or why it cannot: the
    operands of the output's shape advance with the output; at most one other operand, a
    constant (stored repeated to ``BROADCAST_BLOCK`` elements, or expanded to the output's
    shape up to ``BROADCAST_EXPAND_BYTES``) or an activation repeating every
    ``BROADCAST_MIN_RUN`` or more elements."""
    out = tuple(op.output.shape)
    total = int(np.prod(out, dtype=np.int64))
    name = TFLITE_TYPES["mul" if op.op_type == "MUL" else "add"]
    ins = (op.input1, op.input2)
    small = [i for i, t in enumerate(ins) if tuple(t.shape) != out]
    if not small:
        return ElementwisePlan(total, total, (False, False), (None, None))
    desc = f"broadcasting {name} ({_shape(ins[0].shape)} and {_shape(ins[1].shape)})"
    if len(small) == 2:
        return f"{desc}: both operands broadcast"
    i = small[0]
    t = ins[i]
    period = _trailing_period(t.shape, out)
    repeat = [False, False]
    data: list = [None, None]
    if t.data is not None:
        if period is not None:
            block = period * max(1, min(total // period, BROADCAST_BLOCK // period))
            data[i] = np.tile(np.asarray(t.data).reshape(-1), block // period)
            repeat[i] = True
            return ElementwisePlan(total, block, tuple(repeat), tuple(data))
        if total * np.dtype(t.dtype).itemsize <= BROADCAST_EXPAND_BYTES:
            data[i] = np.broadcast_to(np.asarray(t.data), out).reshape(-1)
            return ElementwisePlan(total, total, (False, False), tuple(data))
        return (f"{desc}: the constant expanded to the output would take more than "
                f"{BROADCAST_EXPAND_BYTES} bytes")
    if period is None or period < BROADCAST_MIN_RUN:
        return (f"{desc}: the activation operand does not repeat in runs of "
                f"{BROADCAST_MIN_RUN} or more output elements")
    repeat[i] = True
    return ElementwisePlan(total, period, tuple(repeat), tuple(data))


def _add_mul_reason(kind: str, op) -> str | None:
    r = _check_common([("input 1", op.input1), ("input 2", op.input2), ("output", op.output)],
                      (op.act_min, op.act_max))
    if r:
        return r
    plan = elementwise_plan(op)
    if isinstance(plan, str):
        return plan
    if kind == "mul":
        return _check_shifts([op.output_shift], "MUL output")
    expected = 15 if _dtype_of(op) == "int16" else 20
    if op.left_shift != expected:
        return f"ADD left shift {op.left_shift} ({op.output.dtype} uses {expected})"
    for what, s in (("input 1", op.input1_shift), ("input 2", op.input2_shift),
                    ("output", op.output_shift)):
        r = _check_shifts([s], f"ADD {what}", -31, 0)
        if r:
            return r + " (TFLite requires multipliers below one)"
    return None


def _batch_matmul_reason(kind: str, op) -> str | None:
    """arm_batch_matmul_s8 / _s16: int8 (or int16 with zero points 0) operands, batch
    dimensions that fold into CMSIS-NN's two (n, h), and for int16 accumulators that Arm's
    32-bit rounding step represents exactly (Arm truncates the scaled accumulator to 32
    bits before its last rounding shift; TFLM keeps 64 bits). adj_x, adj_y and a computed
    RHS are handled by the call (transposed copies in the scratch area, or transposed
    constants)."""
    r = _check_common([("input lhs", op.lhs), ("input rhs", op.rhs), ("output", op.output)],
                      None)
    if r:
        return r
    r = _check_shifts([op.shift], "requantization")
    if r:
        return r
    if cp.batch_matmul_batches(op.lhs.shape[:-2], op.rhs.shape[:-2]) is None:
        return (f"BATCH_MATMUL batch dimensions {list(op.lhs.shape[:-2])} x "
                f"{list(op.rhs.shape[:-2])} do not fold into CMSIS-NN's two (n, h)")
    if op.output.dtype == "int16" and not cp.batch_matmul_s16_exact(op.depth, op.multiplier,
                                                                    op.shift):
        return (f"int16 BATCH_MATMUL of depth {op.depth} with multiplier {op.multiplier} "
                f"shift {op.shift}: Arm's arm_batch_matmul_s16 rounds the scaled accumulator "
                "in 32 bits, which this range overflows (TFLM rounds in 64 bits)")
    return None


def _elementwise_reason(kind: str, op) -> str | None:
    """A kernel that takes its operands as they are (no quantization arguments): every
    operand and the output in a dtype the spec names a function for, all of the output's
    shape (no broadcasting), at most 4-D (``cmsis_nn_dims``)."""
    kernels = ops.spec(kind).cmsis_nn
    out = op.output
    if out.dtype not in kernels:
        return f"{out.dtype} {TFLITE_TYPES[kind]} (CMSIS-NN: {', '.join(kernels.values())})"
    for i, t in enumerate(P.operands(op)):
        if t.dtype != out.dtype:
            return f"input {i + 1} is {t.dtype}, the output {out.dtype}"
        if tuple(t.shape) != tuple(out.shape):
            return (f"broadcasting {TFLITE_TYPES[kind]} (input {i + 1} {_shape(t.shape)}, "
                    f"output {_shape(out.shape)}): byoc calls {kernels[out.dtype]} on equal "
                    "shapes only")
    if len(out.shape) > 4:
        return f"{len(out.shape)}-D {TFLITE_TYPES[kind]} (CMSIS-NN dims are 4-D)"
    return None


def _svdf_reason(kind: str, op) -> str | None:
    """arm_svdf_s8 / arm_svdf_state_s16_s8: the state's zero point is not an argument
    (0 assumed, like TFLM's int16 form); int8 input and output offsets; QuantizeMultiplier
    shifts. ``op`` is the whole SVDF (the partition's dataclass) or one generic half."""
    state = op.new_state if isinstance(op, P.QSvdfPair) else op.state
    if state.zero_point != 0:
        return (f"state zero point {state.zero_point} != 0 (the CMSIS-NN SVDF kernels "
                "assume 0)")
    if not isinstance(op, P.QSvdfPair):
        return None
    r = _check_common([("input", op.inputs[0]), ("output", op.output)], None)
    return r or _check_shifts([op.update.shift, op.stage.shift], "requantization")



def _pad_reason(kind: str, op) -> str | None:
    """arm_pad_s8: int8, at most 4-D (NHWC fields, leading fields 1), padding >= 0. A PAD in
    front of a convolution whose padding can express it is fused there first (the
    ``<conv>_pad`` patterns come before this one); this is the standalone PAD / PADV2."""
    if op.output.dtype != "int8" or op.input.dtype != "int8":
        return f"{op.output.dtype} PAD (CMSIS-NN: arm_pad_s8, int8 only)"
    if len(op.paddings) > 4:
        return f"{len(op.paddings)}-D PAD (CMSIS-NN dims are 4-D)"
    if min((min(p) for p in op.paddings), default=0) < 0:
        return f"negative padding {list(op.paddings)}"
    return None


def _transpose_reason(kind: str, op) -> str | None:
    """arm_transpose_s8: int8, rank 1-4 in the first ``num_dims`` fields of
    ``cmsis_nn_dims``. An identity permutation stays generic (a copy; Arm's 2-D path and its
    Helium 4-D path for ``perm[:2] == (0, 1)`` swap the last two dimensions whatever the
    permutation); sizes below 2^16 (Arm's 2-D / Helium paths count rows in uint16_t)."""
    if op.output.dtype != "int8" or op.input.dtype != "int8":
        return f"{op.output.dtype} TRANSPOSE (CMSIS-NN: arm_transpose_s8, int8 only)"
    if not 1 <= len(op.perm) <= 4:
        return f"{len(op.perm)}-D TRANSPOSE (CMSIS-NN dims are 4-D)"
    if op.perm == tuple(range(len(op.perm))):
        return "identity TRANSPOSE (a copy; Arm's arm_transpose_s8 swaps the last two " \
               "dimensions of a 2-D or, on Helium, a 4-D identity)"
    if max(op.input.shape) >= 1 << 16:
        return f"TRANSPOSE of {_shape(op.input.shape)} (sizes below 65536)"
    return None


def _activation_s16_reason(kind: str, op) -> str | None:
    """LOGISTIC / TANH: ``arm_nn_activation_s16`` (int16 only) takes the input scale as a
    power-of-two ``left_shift`` (input times 3 * 2^left_shift) and no multiplier, so it
    equals TFLM only where TFLM's prepared multiplier is 3 * 2^j (input scale 2^k / 4096,
    up to the truncation of TFLM's multiplier); other scales stay generic."""
    name = TFLITE_TYPES[kind]
    if not isinstance(op, P.QLogisticS16):
        return f"{op.output.dtype} {name} (CMSIS-NN: arm_nn_activation_s16, int16 only)"
    shift = qm.activation_s16_left_shift(op.multiplier, op.right_shift)
    if shift is None:
        return (f"int16 {name} input scale {op.input.scale:g}: TFLM's input multiplier "
                f"{op.multiplier} >> {op.right_shift} is not 3 * 2^k, and "
                "arm_nn_activation_s16 takes a power-of-two left_shift only (no multiplier)")
    return _elementwise_reason(kind, op)


_RULES = {"svdf": _svdf_reason, "logistic": _activation_s16_reason, "tanh": _activation_s16_reason,
          "pad": _pad_reason, "transpose": _transpose_reason,
          "conv2d": _conv_reason, "depthwise_conv2d": _conv_reason,
          "fully_connected": _conv_reason, "transpose_conv": _transpose_conv_reason,
          "batch_matmul": _batch_matmul_reason,
          "avg_pool2d": _pool_reason,
          "max_pool2d": _pool_reason, "softmax": _softmax_reason, "add": _add_mul_reason,
          "mul": _add_mul_reason}


def _dtype_of(op) -> str:
    return op.output.dtype


def describe(kind: str, op, pad: bool = False) -> str:
    text = ops.describe(op)
    if _dtype_of(op) == "int16":
        text += " int16"
    return f"PAD+{text}" if pad else text


def _state_update(value) -> bool:
    """The quantize ending an SVDF state update: in an SVDF match the only quantize besides
    the root (the output's)."""
    return P._Chain.is_op(value, "relax.quantize")


def _decider(kind: str, pad: bool):
    """The decision on a match of ``kind`` (``pad``: the PAD-in-front variant)."""
    def decide(ctx) -> Decision:
        chain = MatchChain(ctx)
        pad_sig = None
        if pad:
            pad_call = pc.find_call(ctx, "relax.nn.pad")
            paddings, value, _ = _pad_info(pad_call)
            pad_sig = (tuple(int(d) for d in pad_call.args[0].ty.shape), tuple(paddings), value)
        try:
            if kind in ("conv2d", "depthwise_conv2d"):
                zps = _weight_zero_points(chain, pc.find_call(ctx, "relax.nn.conv2d"))
                if np.any(zps != 0):
                    nz = sorted({int(z) for z in zps if z != 0})
                    raise P.ExtractError(f"weight zero point {nz[0]} != 0")
            op = extract(kind, chain)
            reason = offload_reason(kind, op)
            # a one-call SVDF returns the updated state too (the state update's quantize)
            if reason is None and not pc.internal_uses_only(
                    ctx, allowed=_state_update if kind == "svdf" else None):
                reason = ("PAD output is used by other operators too" if pad
                          else "an intermediate value is used outside the chain")
            desc = describe(kind, op, pad)
        except P.ExtractError as err:
            reason, desc = str(err), TFLITE_TYPES[kind]
        return Decision(kind, desc, reason, pad_sig,
                        operator_indices(*ctx.matched_bindings.values()))
    return decide


# ---------------------------------------------------------------------------------------
# The pass
# ---------------------------------------------------------------------------------------

def partition_for_cmsisnn(mod: tvm.IRModule, cpu: str = "cortex-m55",
                          report: list | None = None) -> tvm.IRModule:
    """Group every chain CMSIS-NN can compute into a ``Codegen="cmsisnn"`` function.

    ``mod`` is the frontend's QDQ module (``byoc.frontend.from_tflite(..., legalize=False)``).
    ``cpu`` selects the kernel path the scratch sizes follow (see ``byoc.cmsisnn.codegen``).
    ``report``, when given, receives one :class:`Decision` per checked candidate chain (the
    same operator may be checked once per pattern variant; offloaded ones have
    ``reason is None``)."""
    cpu_path(cpu)  # validates the cpu name
    session = pc.Session()
    out = PATTERNS.fuse(mod, session, annotate_codegen=True)
    if report is not None:
        report.extend(session.decisions)
    return out


def partition_functions(mod: tvm.IRModule) -> dict[str, relax.Function]:
    """The ``Codegen="cmsisnn"`` functions of a partitioned module by global symbol."""
    out = {}
    for gv, func in mod.functions.items():
        if isinstance(func, relax.Function) and func.attrs is not None \
                and str(func.attrs.get("Codegen", "")) == CODEGEN:
            out[str(func.attrs.get("global_symbol", gv.name_hint))] = func
    return out


def composite_of(func: relax.Function) -> tuple[str, relax.Function]:
    """(pattern name without prefix, composite function) wrapped by a partition function."""
    found = []

    def visit(e):
        if isinstance(e, relax.Function) and e.attrs is not None and "Composite" in e.attrs:
            found.append(e)

    relax.analysis.post_order_visit(func.body, visit)
    if len(found) != 1:
        raise ValueError(f"partition function holds {len(found)} composite functions")
    name = str(found[0].attrs["Composite"])
    return name[len(PREFIX):], found[0]
