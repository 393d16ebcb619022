"""Patterns for the quantized operator chains of TVM's TFLite frontend, and parameter
extraction into plain dataclasses.

The Relax TFLite frontend imports int8 models in QDQ form (``byoc.qnn.ops.FRONTEND_CHAINS``
lists the exact chains). Each chain is matched by a ``relax.dpl`` pattern registered under
``byoc.qnn.<kind>`` in TVM's pattern registry (which pattern, check and extractor belong to
which operator is the operator spec, :mod:`byoc.qnn.ops`; this module holds the pieces).
After ``relax.transform.FuseOpsByPattern(ops.patterns(), bind_constants=True, ...)`` every
match is a composite function (attribute ``"Composite"``) whose body holds the whole chain,
with weights, biases, scales and zero points as bound constants. :func:`byoc.qnn.ops.extract`
turns such a function into a dataclass that holds everything a kernel needs, as numpy arrays and ints,
in TFLite terms:

* feature maps are NHWC; conv weights OHWI ``[O, KH, KW, I]``; depthwise weights 1HWC
  ``[1, KH, KW, C*M]`` (output channel ``oc = ic * M + m``); FC weights ``[units, depth]``;
* padding is ``(top, left, bottom, right)`` in input pixels; strides/dilation ``(h, w)``;
* scales are the float32 model scales (as Python floats), zero points ints;
* ``(multiplier, shift)`` pairs follow TFLite's QuantizeMultiplier (Q0.31 int32, shift
  positive = left) computed with :mod:`byoc.qnn.quant_math`;
* ``act_min``/``act_max`` are the fused activation clamp in the output's quantized domain,
  recomputed the way TFLite does (float32 division, round half away from zero).

Every dataclass has ``op_type``, the TFLite operator type it computes (``"CONV_2D"``;
``"QUANTIZE_FLOAT"`` for a QUANTIZE of a float tensor); the byoc.qnn pattern name is the
operator's ``kind`` (``"conv2d"``), see :mod:`byoc.qnn.ops`.

Kernel operands are :class:`QTensor`; ``source`` is the index of the composite function
parameter that carries the tensor at run time, or ``None`` for a constant (``data``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import tvm
from tvm import relax
from tvm.relax.dpl import DFPattern, is_const, is_op, is_tuple, wildcard

from . import quant_math as qm

PREFIX = "byoc.qnn."
MAX_CONCAT_INPUTS = 8


# ---------------------------------------------------------------------------------------
# Dataclasses
# ---------------------------------------------------------------------------------------

@dataclass
class QTensor:
    """An int8 / int16 (or int32) tensor operand with per-tensor quantization."""

    shape: tuple[int, ...]
    scale: float
    zero_point: int
    dtype: str = "int8"
    source: int | None = None          # composite-function parameter index (None: constant)
    data: np.ndarray | None = None     # constant value when source is None


@dataclass
class QConv2D:
    """CONV_2D: NHWC int8 input, OHWI int8 weight, int32 bias, per-channel requantization;
    or the TFLite "16x8" form: int16 input/output (zero points 0), int8 weight, int64 bias."""

    input: QTensor
    output: QTensor
    weight: np.ndarray                 # int8 [O, KH, KW, I]
    weight_scales: np.ndarray          # float32 [O] (repeated when per-tensor)
    bias: np.ndarray | None            # int32 [O] (int64 for int16 activations)
    multipliers: np.ndarray            # int32 [O]
    shifts: np.ndarray                 # int32 [O], positive = left
    strides: tuple[int, int]
    padding: tuple[int, int, int, int]  # top, left, bottom, right
    dilation: tuple[int, int]
    act_min: int
    act_max: int
    per_channel: bool = True
    weight_zero_point: int = 0         # ignored by TFLM's kernel (and byoc's), see extract
    op_type: str = "CONV_2D"


@dataclass
class QDepthwise:
    """DEPTHWISE_CONV_2D: weight 1HWC int8 ``[1, KH, KW, C*M]``; out channel = ic*M + m."""

    input: QTensor
    output: QTensor
    weight: np.ndarray                 # int8 [1, KH, KW, C*M]
    weight_scales: np.ndarray          # float32 [C*M]
    bias: np.ndarray | None            # int32 [C*M] (int64 for int16 activations)
    multipliers: np.ndarray            # int32 [C*M]
    shifts: np.ndarray                 # int32 [C*M]
    strides: tuple[int, int]
    padding: tuple[int, int, int, int]
    dilation: tuple[int, int]
    depth_multiplier: int
    act_min: int
    act_max: int
    per_channel: bool = True
    weight_zero_point: int = 0         # ignored by TFLM's kernel (and byoc's), see extract
    op_type: str = "DEPTHWISE_CONV_2D"


@dataclass
class QTransposeConv:
    """TRANSPOSE_CONV int8 (TFLM reference_integer_ops::TransposeConv): every input pixel
    scatters ``(x - zp) * w[o, kh, kw, c]`` to output (iy * s + kh - pad_top, ix * s + kw -
    pad_left); the int32 sums plus bias are requantized per channel like CONV_2D."""

    input: QTensor
    output: QTensor
    weight: np.ndarray                 # int8 [O, KH, KW, I]
    weight_scales: np.ndarray          # float32 [O]
    bias: np.ndarray | None            # int32 [O]
    multipliers: np.ndarray
    shifts: np.ndarray
    strides: tuple[int, int]
    padding: tuple[int, int]           # top, left (TFLM's offsets)
    act_min: int
    act_max: int
    per_channel: bool = True
    op_type: str = "TRANSPOSE_CONV"


@dataclass
class QFullyConnected:
    """FULLY_CONNECTED: input ``[..., depth]``, weight ``[units, depth]`` int8.

    The output keeps the input's leading dimensions (``output.shape[:-1] ==
    input.shape[:-1]`` as the frontend emits it; a keep_num_dims=False reshape, if any,
    stays outside the chain)."""

    input: QTensor
    output: QTensor
    weight: np.ndarray                 # int8 [units, depth]
    weight_zero_point: int
    weight_scales: np.ndarray          # float32 [units]
    bias: np.ndarray | None            # int32 [units] (int64 for int16 activations)
    multipliers: np.ndarray            # int32 [units]
    shifts: np.ndarray                 # int32 [units]
    act_min: int
    act_max: int
    per_channel: bool = True
    op_type: str = "FULLY_CONNECTED"


@dataclass
class QAvgPool:
    """AVERAGE_POOL_2D (NHWC, input and output share quantization)."""

    input: QTensor
    output: QTensor
    pool_size: tuple[int, int]
    strides: tuple[int, int]
    padding: tuple[int, int, int, int]
    act_min: int
    act_max: int
    op_type: str = "AVERAGE_POOL_2D"


@dataclass
class QMaxPool:
    """MAX_POOL_2D (NHWC, input and output share quantization)."""

    input: QTensor
    output: QTensor
    pool_size: tuple[int, int]
    strides: tuple[int, int]
    padding: tuple[int, int, int, int]
    act_min: int
    act_max: int
    op_type: str = "MAX_POOL_2D"


@dataclass
class QSoftmax:
    """SOFTMAX over the last axis: int8 -> int8 (output scale 1/256, zero point -128), or
    int16 -> int16 (output scale 1/32768, zero point 0; TFLM's LUT-based kernel)."""

    input: QTensor
    output: QTensor
    beta: float
    multiplier: int                    # int8: input_beta_multiplier; int16: input_multiplier
    left_shift: int                    # int8: >= 0; int16: TFLite shift (positive = left)
    diff_min: int                      # int8 only (0 for int16)
    op_type: str = "SOFTMAX"


@dataclass
class QAdd:
    """ADD with numpy broadcasting; TFLite arithmetic (left_shift 20 for int8, 15 for int16)."""

    input1: QTensor
    input2: QTensor
    output: QTensor
    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int
    op_type: str = "ADD"


@dataclass
class QSub(QAdd):
    """SUB: ADD's arithmetic with the rescaled second input subtracted (TFLM sub.cc)."""

    op_type: str = "SUB"


@dataclass
class QMul:
    """MUL with numpy broadcasting."""

    input1: QTensor
    input2: QTensor
    output: QTensor
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int
    op_type: str = "MUL"


@dataclass
class QMean:
    """MEAN over ``axes`` (non-negative, sorted). ``multiplier``/``shift`` already include
    the 1/count factor (TFLM's integer mean); apply to ``sum(x) - input_zp * count``."""

    input: QTensor
    output: QTensor
    axes: tuple[int, ...]
    keep_dims: bool
    count: int
    multiplier: int
    shift: int
    op_type: str = "MEAN"


@dataclass
class QSum(QMean):
    """SUM over ``axes``: TFLM's QuantizedMeanOrSum with compute_sum, MBQM(sum(x) - in_zp
    * count, in_scale / out_scale) + out_zp (no 1/count factor)."""

    op_type: str = "SUM"


@dataclass
class QReduceMax:
    """REDUCE_MAX over ``axes`` (non-negative, sorted): the raw maximum (TFLM requires the
    input's quantization on the output)."""

    input: QTensor
    output: QTensor
    axes: tuple[int, ...]
    keep_dims: bool
    op_type: str = "REDUCE_MAX"


@dataclass
class QConcat:
    """CONCATENATION along ``axis`` (non-negative). ``requant[i]`` is None when input i has
    the output's quantization (plain copy), else ``(multiplier, shift)`` of an int8->int8
    requantization (TFLM QUANTIZE arithmetic). int16 inputs are always copied (TFLM and
    LiteRT ignore their quantization)."""

    inputs: list[QTensor]
    output: QTensor
    axis: int
    requant: list[tuple[int, int] | None]
    act_min: int = -128
    act_max: int = 127
    op_type: str = "CONCATENATION"


@dataclass
class QRequantize:
    """QUANTIZE between int8/int16 (requantization): MBQM(x - in_zp) + out_zp, saturated."""

    input: QTensor
    output: QTensor
    multiplier: int
    shift: int
    op_type: str = "QUANTIZE"


@dataclass
class QQuantize:
    """QUANTIZE float32 -> int8/int16 (a model's float input): round_half_away(x / scale) + zp,
    saturated; the division is float32 like TFLM's AffineQuantize."""

    input: QTensor                     # float32; scale/zero_point unused
    output: QTensor
    op_type: str = "QUANTIZE_FLOAT"


@dataclass
class QPad:
    """PAD of an int8 tensor with a constant (the zero point for TFLite PAD)."""

    input: QTensor
    output: QTensor
    paddings: tuple[tuple[int, int], ...]   # (before, after) per dimension
    pad_value: int
    op_type: str = "PAD"


@dataclass
class QTranspose:
    """TRANSPOSE of an int8/int16 tensor (a raw copy, whatever the quantization): output
    dimension ``i`` is input dimension ``perm[i]``."""

    input: QTensor
    output: QTensor
    perm: tuple[int, ...]
    op_type: str = "TRANSPOSE"


@dataclass
class QLogistic:
    """LOGISTIC int8 -> int8 (output scale 1/256, zero point -128), TFLM's integer kernel:
    ``x - zp`` beyond +-``range_radius`` saturates, else MBQM(x - zp, multiplier,
    left_shift) is a Q4.27 value whose gemmlowp logistic (Q0.31) is rounded to 1/256."""

    input: QTensor
    output: QTensor
    multiplier: int
    left_shift: int                    # positive = left
    range_radius: int
    op_type: str = "LOGISTIC"


@dataclass
class QTanh(QLogistic):
    """TANH int8 -> int8 (output scale 1/128, zero point 0): as LOGISTIC with gemmlowp's
    tanh, rounded to 1/128."""

    op_type: str = "TANH"


@dataclass
class QLogisticS16:
    """LOGISTIC int16 -> int16 (zero points 0, output scale 2^-15), TFLM's int16 kernel: the
    input on the table's scale, ``v = (x * multiplier + round) >> right_shift`` (1/(3*4096)
    per unit), interpolates :data:`quant_math.SIGMOID_TABLE_U16` at ``|v|`` (9 fraction bits
    per table step), mirrored for ``v < 0`` and rounded to Q0.15."""

    input: QTensor
    output: QTensor
    multiplier: int
    right_shift: int
    op_type: str = "LOGISTIC"


@dataclass
class QTanhS16(QLogisticS16):
    """TANH int16 -> int16: as LOGISTIC int16 with ``tanh(x) = 2 sigmoid(2x) - 1`` (8
    fraction bits per table step)."""

    op_type: str = "TANH"


@dataclass
class QL2Norm:
    """L2_NORMALIZATION int8 over the innermost axis (TFLM reference_integer_ops::
    L2Normalization): per row the int32 sum of squares of ``x - zp``; its inverse square
    root as a multiplier and right shift (TFLite GetInvSqrtQuantizedMultiplierExp: the sum
    normalised into [2^27, 2^29) by pairs of bits, five gemmlowp Newton-Raphson steps in
    Q3.28, times sqrt(2)/2; a sum <= 1 gives INT32_MAX, shift 0); each ``x - zp`` then
    MBQM(., multiplier, 7 - shift) clamped to int8. The output quantization is TFLM's
    fixed 1/128, zero point 0."""

    input: QTensor
    output: QTensor
    op_type: str = "L2_NORMALIZATION"


@dataclass
class QLeakyRelu:
    """LEAKY_RELU (TFLM QuantizeLeakyRelu): ``x - zp_in`` >= 0 is rescaled by the identity
    multiplier (in_scale / out_scale), negative values by the alpha multiplier
    (in_scale * alpha / out_scale, float32 products like TFLM); + zp_out, saturated."""

    input: QTensor
    output: QTensor
    alpha: float
    identity_multiplier: int
    identity_shift: int
    alpha_multiplier: int
    alpha_shift: int
    op_type: str = "LEAKY_RELU"


@dataclass
class QRelu:
    """RELU (TFLM ReluQuantized): MBQM(x - zp_in, in_scale / out_scale) + zp_out clamped to
    [max(qmin, zp_out), qmax]."""

    input: QTensor
    output: QTensor
    multiplier: int
    shift: int
    act_min: int
    act_max: int
    op_type: str = "RELU"


@dataclass
class QRelu6:
    """RELU6 (TFLM Relu6Quantized): the raw input clamped to [zp_in, q(6.0)] in the INPUT's
    quantization (TFLM ignores the output's)."""

    input: QTensor
    output: QTensor
    lower: int
    upper: int
    op_type: str = "RELU6"


@dataclass
class QHardSwish:
    """HARD_SWISH int8 (TFLM reference HardSwish): int16 fixed point; the multipliers are
    TFLite's QuantizeMultiplier results downscaled to Q0.15 (``*_fixedpoint``) with their
    exponents (``output_exponent`` <= 0)."""

    input: QTensor
    output: QTensor
    output_fixedpoint: int
    output_exponent: int
    reluish_fixedpoint: int
    reluish_exponent: int
    op_type: str = "HARD_SWISH"


@dataclass
class QAbs:
    """ABS (TFLM elementwise AbsEvalQuantized): ``|x - zp_in|``, rescaled by MBQM with
    in_scale / out_scale (float32 quotient) when the scales differ, + zp_out, saturated."""

    input: QTensor
    output: QTensor
    needs_rescale: bool
    multiplier: int
    shift: int
    op_type: str = "ABS"


@dataclass
class QPrelu:
    """PRELU int8 (TFLM BroadcastPrelu4DSlow): ``x - zp_in`` >= 0 is rescaled by
    in_scale / out_scale, else ``(x - zp_in) * (alpha - zp_alpha)`` by
    in_scale * alpha_scale / out_scale (double products); + zp_out, saturated."""

    input: QTensor
    alpha: QTensor
    output: QTensor
    multiplier1: int
    shift1: int
    multiplier2: int
    shift2: int
    op_type: str = "PRELU"


@dataclass
class QBatchMatMul:
    """BATCH_MATMUL (TFLM): ``lhs`` ``[..., M, K]`` (``adj_x``: stored ``[..., K, M]``),
    ``rhs`` ``[..., K, N]`` (``adj_y``: stored ``[..., N, K]``), output ``[..., M, N]``
    with the batch dimensions (up to 3, rank <= 5) broadcast numpy-style (each 1 or
    equal; a shorter operand is padded with leading 1s). Per-tensor quantization:
    ``out = sat(MBQM(sum_k (lhs - zp_l) * (rhs - zp_r), multiplier, shift) + zp_out)``
    with the multiplier of ``lhs_scale * rhs_scale / out_scale`` (double product of the
    float32 scales); int8 accumulates in int32 with TFLite's double rounding, int16 (zero
    points 0) in int64 with TFLite's int64 MultiplyByQuantizedMultiplier. ``rhs`` may be a
    constant (``rhs.data``)."""

    lhs: QTensor
    rhs: QTensor
    output: QTensor
    adj_x: bool
    adj_y: bool
    multiplier: int
    shift: int
    op_type: str = "BATCH_MATMUL"

    @property
    def depth(self) -> int:
        """K, the accumulation depth."""
        return self.lhs.shape[-2] if self.adj_x else self.lhs.shape[-1]


@dataclass
class QMinMax:
    """MAXIMUM / MINIMUM with broadcasting: TFLM compares the raw quantized values (the
    quantization of the operands is not looked at)."""

    input1: QTensor
    input2: QTensor
    output: QTensor
    maximum: bool
    op_type: str = "MAXIMUM"


@dataclass
class QSquaredDifference:
    """SQUARED_DIFFERENCE (TFLM): inputs shifted left by 7 and rescaled like ADD's, their
    difference squared, MBQM to the output."""

    input1: QTensor
    input2: QTensor
    output: QTensor
    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int
    op_type: str = "SQUARED_DIFFERENCE"


@dataclass
class QResize:
    """RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR (NHWC) on raw values, as TFLM: the input's
    quantization is not looked at. The source rows/columns of every output row/column are
    computed at compile time the way TFLM does: nearest in float32 (``rows``/``cols``);
    bilinear in TFLM's 10-bit fixed point (``rows``/``cols`` are the lower sources,
    ``rows1``/``cols1`` the upper ones, ``row_weights``/``col_weights`` the upper weights
    in 1/1024, which can be negative or above 1024 near a border with half-pixel centres)."""

    input: QTensor
    output: QTensor
    bilinear: bool
    align_corners: bool
    half_pixel_centers: bool
    rows: np.ndarray
    cols: np.ndarray
    rows1: np.ndarray | None = None
    cols1: np.ndarray | None = None
    row_weights: np.ndarray | None = None
    col_weights: np.ndarray | None = None
    op_type: str = "RESIZE_NEAREST_NEIGHBOR"


@dataclass
class QSvdfState:
    """SVDF, first half (TFLM EvalIntegerSvdfReference): the activation state ``[batch,
    filters * memory]`` (int8 or int16, the type of the time weights) shifted left by one
    element, and in the newest column (``f * memory + memory - 1``) of every filter ``f``
    the feature projection ``sum_d weight_feature[f, d] * (x[b, d] - zp_in)`` rescaled by
    in_scale * feature_scale / state_scale (float32 products, as TFLM), clamped to the
    state type's range and then offset by the state's zero point (the sum is stored
    truncated to the state type, as TFLM). The weights' zero points are ignored (TFLM)."""

    input: QTensor                     # int8 [batch, input_size]
    state: QTensor                     # the state before the step (a model state variable)
    output: QTensor                    # the state after the step, same shape and dtype
    weight_feature: np.ndarray         # int8 [filters, input_size]
    memory: int
    multiplier: int
    shift: int
    op_type: str = "SVDF"


@dataclass
class QSvdf:
    """SVDF, second half: per filter ``sum_m weight_time[f, m] * (state[b, f * memory + m]
    - zp_state)`` on the updated state (int32), summed over the ``rank`` filters of each
    unit plus the int32 bias, rescaled by state_scale * time_scale / out_scale (float32
    products), + zp_out, saturated to int8. TFLM's integer SVDF applies no fused
    activation."""

    state: QTensor                     # the updated state [batch, filters * memory]
    output: QTensor                    # int8 [batch, units]
    weight_time: np.ndarray            # int8 or int16 (the state's type) [filters, memory]
    bias: np.ndarray                   # int32 [units]
    rank: int
    multiplier: int
    shift: int
    op_type: str = "SVDF"


@dataclass
class QSvdfPair:
    """A whole SVDF as the cmsis-nn backend takes it (one CMSIS-NN call computes both
    halves): ``inputs`` are the input and the state before the step, ``output`` the int8
    output, ``new_state`` the updated state; ``state_output_index`` is the position of the
    updated state in the composite function's returned tuple (the output has the other)."""

    inputs: list[QTensor]              # [input, state]
    output: QTensor
    new_state: QTensor
    update: QSvdfState
    stage: QSvdf
    state_output_index: int = 1
    op_type: str = "SVDF"


def operands(op) -> list[QTensor]:
    """The activation operands of a dataclass (``inputs``, ``input1``/``input2`` or
    ``input``; ``lhs``/``rhs``), in operator order."""
    if hasattr(op, "inputs"):
        return list(op.inputs)
    if hasattr(op, "input1"):
        return [op.input1, op.input2]
    if hasattr(op, "lhs"):
        return [op.lhs, op.rhs]
    return [op.input]


def op_dtypes(op) -> set[str]:
    """The dtypes of a dataclass's activation operands and output."""
    tensors = [v for v in vars(op).values() if isinstance(v, QTensor)]
    tensors += [t for v in vars(op).values() if isinstance(v, list)
                for t in v if isinstance(t, QTensor)]
    return {t.dtype for t in tensors}


QOp = (QConv2D | QDepthwise | QFullyConnected | QAvgPool | QMaxPool | QSoftmax | QAdd | QMul
       | QMean | QConcat | QRequantize | QQuantize | QPad | QLogistic | QTanh | QLeakyRelu
       | QRelu | QRelu6 | QHardSwish | QMinMax | QSquaredDifference | QSub | QResize | QSum
       | QReduceMax | QTransposeConv | QAbs | QPrelu | QBatchMatMul | QSvdfState
       | QSvdf | QTranspose | QSvdfPair)


# ---------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------

def _dq(x: DFPattern) -> DFPattern:
    return is_op("relax.dequantize")(x, is_const(), is_const())


def _q(x: DFPattern) -> DFPattern:
    return is_op("relax.quantize")(x, is_const(), is_const())


def _clip(x: DFPattern) -> DFPattern:
    return is_op("relax.clip")(x, wildcard(), wildcard())


def _with_optional_clip(p: DFPattern) -> list[DFPattern]:
    return [_clip(p), p]


def _conv_patterns(depthwise: bool) -> list[DFPattern]:
    w = _dq(is_const())
    if depthwise:
        # per-channel: the 1HWC constant is dequantized then reshaped to HWOI in the graph;
        # per-tensor: the frontend reshapes the int8 constant itself (no reshape op)
        w = is_op("relax.reshape")(w, wildcard()) | w
    conv = is_op("relax.nn.conv2d")(_dq(wildcard()), w)
    with_bias = is_op("relax.add")(conv, _bias())
    out = []
    for body in (with_bias, conv):
        out += _with_optional_clip(_q(body))
    return out


def _transpose_conv_patterns() -> list[DFPattern]:
    conv = is_op("relax.nn.conv2d_transpose")(_dq(wildcard()), _dq(is_const()))
    with_bias = is_op("relax.add")(conv, _bias())
    out = []
    for body in (with_bias, conv):
        out += _with_optional_clip(_q(body))
    return out


def _fc_patterns() -> list[DFPattern]:
    w = _dq(is_op("relax.permute_dims")(is_const()))
    mm = is_op("relax.matmul")(_dq(wildcard()), w)
    # The bias scale is a constant, or in_scale*w_scale when the bias tensor has no
    # quantization parameters (the frontend then multiplies the two scale constants).
    bias_scale = is_const() | is_op("relax.multiply")(is_const(), is_const())
    with_bias = is_op("relax.add")(mm, _bias(bias_scale))
    out = []
    for body in (with_bias, mm):
        out += _with_optional_clip(_q(body))
    return out


def _float_act(x: DFPattern) -> list[DFPattern]:
    """The float activations the frontend puts between ADD/MUL and quantize."""
    return [is_op("relax.nn.relu")(x), _clip(x), x]


def _binary_patterns(op: str) -> list[DFPattern]:
    core = is_op(op)(_dq(wildcard()), _dq(wildcard()))
    return [_q(a) for a in _float_act(core)]


def _bias(scale: DFPattern | None = None) -> DFPattern:
    """A dequantized bias constant: ``dequantize(c)`` for an int32 bias, or
    ``multiply(astype(c), scale)`` for the int64 bias of an int16 ("16x8") model (see
    ``byoc.frontend``: relax.op.dequantize rejects int64)."""
    scale = is_const() if scale is None else scale
    return (is_op("relax.dequantize")(is_const(), scale, is_const())
            | is_op("relax.multiply")(is_op("relax.astype")(is_const()), scale))


def avg_pool_patterns() -> list[DFPattern]:
    avg = is_op("relax.astype")(is_op("relax.nn.avg_pool2d")(is_op("relax.astype")(wildcard())))
    return _with_optional_clip(avg)


def max_pool_patterns() -> list[DFPattern]:
    return _with_optional_clip(is_op("relax.nn.max_pool2d")(wildcard()))


def softmax_patterns() -> list[DFPattern]:
    sm_in = _dq(wildcard())
    return [_q(is_op("relax.nn.softmax")(is_op("relax.multiply")(sm_in, is_const()))),
            _q(is_op("relax.nn.softmax")(sm_in))]


def concat_patterns() -> list[DFPattern]:
    """Up to MAX_CONCAT_INPUTS inputs, most first."""
    out = []
    for n in range(MAX_CONCAT_INPUTS, 1, -1):
        out += _with_optional_clip(
            _q(is_op("relax.concat")(is_tuple([_dq(wildcard()) for _ in range(n)]))))
    return out


def squared_difference_patterns() -> list[DFPattern]:
    sqd = is_op("relax.subtract")(_dq(wildcard()), _dq(wildcard()))
    return [_q(is_op("relax.multiply")(sqd, sqd))]


def hard_swish_patterns() -> list[DFPattern]:
    hs_in = _dq(wildcard())
    return [_q(is_op("relax.divide")(is_op("relax.multiply")(hs_in, _clip(
        is_op("relax.add")(hs_in, is_const()))), is_const()))]


def batch_matmul_patterns() -> list[DFPattern]:
    """byoc.frontend's BATCH_MATMUL chain: ``quantize(matmul(a, b))`` where each operand
    is ``dequantize(t)`` or, for adj_x / adj_y, ``permute_dims(dequantize(t))`` (the
    last two axes swapped). A FULLY_CONNECTED without bias has the same outline with
    ``dequantize(permute_dims(W))``: its spec comes first, so it is fused before this
    pattern is tried (and the extractor refuses a permuted constant under a dequantize)."""
    def side():
        d = _dq(wildcard())
        return is_op("relax.permute_dims")(d) | d
    return [_q(is_op("relax.matmul")(side(), side()))]


def prelu_patterns() -> list[DFPattern]:
    x = _dq(wildcard())
    return [_q(is_op("relax.where")(is_op("relax.greater_equal")(x, is_const()), x,
                                    is_op("relax.multiply")(x, _dq(wildcard()))))]


def _reshape(x: DFPattern) -> DFPattern:
    return is_op("relax.reshape")(x, wildcard())


def svdf_state_patterns() -> list[DFPattern]:
    """byoc.frontend's SVDF state update: quantize(reshape(concat(strided_slice(reshape(
    dequantize(state))), expand_dims(matmul(dequantize(x), permute_dims(dequantize(W))))))),
    without the concat for memory 1."""
    feat = is_op("relax.expand_dims")(is_op("relax.matmul")(
        _dq(wildcard()), is_op("relax.permute_dims")(_dq(is_const()))))
    kept = is_op("relax.strided_slice")(_reshape(_dq(wildcard())), wildcard(), wildcard(),
                                        wildcard())
    return [_q(_reshape(is_op("relax.concat")(is_tuple([kept, feat])))), _q(_reshape(feat))]


def svdf_patterns() -> list[DFPattern]:
    """byoc.frontend's SVDF output: quantize(add(sum(reshape(sum(multiply(reshape(
    dequantize(new state)), dequantize(W_time))))), dequantize(bias)))."""
    timed = is_op("relax.sum")(is_op("relax.multiply")(_reshape(_dq(wildcard())),
                                                       _dq(is_const())))
    return [_q(is_op("relax.add")(is_op("relax.sum")(_reshape(timed)), _dq(is_const())))]
def l2_normalization_patterns() -> list[DFPattern]:
    """byoc.frontend's ``quantize(x / sqrt(sum(x * x)))`` on ``x = dequantize(.)``."""
    x = _dq(wildcard())
    norm = is_op("relax.sqrt")(is_op("relax.sum")(is_op("relax.multiply")(x, x)))
    return [_q(is_op("relax.divide")(x, norm))]


def svdf_pair_patterns() -> list[DFPattern]:
    """The SVDF output chain whose state operand is the state update chain itself (the
    cmsis-nn backend's one-call SVDF; the updated state leaves the match as a second
    result)."""
    out = []
    for update in svdf_state_patterns():
        timed = is_op("relax.sum")(is_op("relax.multiply")(_reshape(_dq(update)),
                                                           _dq(is_const())))
        out.append(_q(is_op("relax.add")(is_op("relax.sum")(_reshape(timed)), _dq(is_const()))))
    return out


def unary_patterns(op: str) -> list[DFPattern]:
    """``quantize(op(dequantize(x)))``."""
    return [_q(is_op(op)(_dq(wildcard())))]


def elementwise_patterns(op: str) -> list[DFPattern]:
    """``quantize(op(dequantize(a), dequantize(b)))`` (no float activation in between)."""
    return [_q(is_op(op)(_dq(wildcard()), _dq(wildcard())))]


def relu6_patterns() -> list[DFPattern]:
    return [_q(_clip(_dq(wildcard())))]


def resize_bilinear_patterns() -> list[DFPattern]:
    return [_q(is_op("relax.image.resize2d")(_dq(wildcard()), wildcard()))]


def resize_nearest_patterns() -> list[DFPattern]:
    return [is_op("relax.image.resize2d")(wildcard(), wildcard())]


def requantize_patterns() -> list[DFPattern]:
    return [_q(_dq(wildcard()))]


def float_quantize_patterns() -> list[DFPattern]:
    return [_q(wildcard())]


def pad_patterns() -> list[DFPattern]:
    return [is_op("relax.nn.pad")(wildcard())]


def transpose_patterns() -> list[DFPattern]:
    return [is_op("relax.permute_dims")(wildcard())]


def _check_transpose(ctx) -> bool:
    """An int8/int16 activation transposed (a TFLite TRANSPOSE); a constant operand is a
    weight layout change inside another operator's chain (e.g. FULLY_CONNECTED's)."""
    return _check_int_root(ctx) and \
        not isinstance(ctx.matched_expr.args[0], tvm.ir.GenericConst)


def _root_dtype(ctx) -> str:
    return ctx.matched_expr.ty.dtype


def _check_int8_root(ctx) -> bool:
    return _root_dtype(ctx) == "int8"


#: Activation dtypes of the integer kernels: int8, and int16 for the TFLite "16x8" operators.
INT_DTYPES = ("int8", "int16")


def _check_int_root(ctx) -> bool:
    return _root_dtype(ctx) in INT_DTYPES


def dtype_range(dtype: str) -> tuple[int, int]:
    """(min, max) of an integer activation dtype."""
    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max)


def _find_call(ctx, op_name: str):
    for value in ctx.matched_bindings.values():
        if isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.Op) \
                and value.op.name == op_name:
            return value
    return None


def _check_conv(ctx) -> bool:
    conv = _find_call(ctx, "relax.nn.conv2d")
    a = conv.attrs
    return (_check_int_root(ctx) and int(a.groups) == 1 and a.data_layout == "NHWC"
            and a.kernel_layout == "HWIO" and a.out_layout == "NHWC")


def _check_depthwise(ctx) -> bool:
    conv = _find_call(ctx, "relax.nn.conv2d")
    a = conv.attrs
    in_c = int(conv.args[0].ty.shape[3])
    # C > 1: HWOI kernel with groups == C. C == 1: the frontend emits an ordinary HWIO
    # conv (groups 1) of the reshaped 1HWC weight; still a depthwise conv.
    layout_ok = (a.kernel_layout == "HWOI" and int(a.groups) == in_c) or \
        (a.kernel_layout == "HWIO" and int(a.groups) == 1 and in_c == 1)
    return (_check_int_root(ctx) and a.data_layout == "NHWC" and layout_ok
            and a.out_layout == "NHWC")


def _check_transpose_conv(ctx) -> bool:
    a = _find_call(ctx, "relax.nn.conv2d_transpose").attrs
    return (_check_int_root(ctx) and int(a.groups) == 1 and a.data_layout == "NHWC"
            and a.kernel_layout == "IOHW" and a.out_layout == "NHWC")


def _check_avg_pool(ctx) -> bool:
    pool = _find_call(ctx, "relax.nn.avg_pool2d")
    a = pool.attrs
    return (_check_int_root(ctx) and pool.args[0].ty.dtype == "int32" and a.layout == "NHWC"
            and not bool(a.ceil_mode) and not bool(a.count_include_pad))


def _check_softmax(ctx) -> bool:
    sm = _find_call(ctx, "relax.nn.softmax")
    rank = len(sm.ty.shape)
    return _check_int_root(ctx) and int(sm.attrs.axis) in (-1, rank - 1)


def _check_resize(ctx) -> bool:
    r = _find_call(ctx, "relax.image.resize2d")
    return _check_int_root(ctx) and r.attrs.layout == "NHWC"


def _check_relu6(ctx) -> bool:
    clip = _find_call(ctx, "relax.clip")
    bounds = (float(clip.args[1].value), float(clip.args[2].value))
    return _check_int_root(ctx) and bounds == (0.0, 6.0)


def _check_relu_n1_to_1(ctx) -> bool:
    clip = _find_call(ctx, "relax.clip")
    bounds = (float(clip.args[1].value), float(clip.args[2].value))
    return _root_dtype(ctx) == "int8" and bounds == (-1.0, 1.0)


def _check_requantize(ctx) -> bool:
    dq = _find_call(ctx, "relax.dequantize")
    # int8/int16 in any combination (TFLM's QUANTIZE requantizes between them), and int8 ->
    # uint8 (a streaming model's uint8 output; TFLM's Requantize, whose same-scale XOR 0x80
    # fast path equals the general formula)
    if _root_dtype(ctx) == "uint8":
        return dq.args[0].ty.dtype == "int8"
    return _check_int_root(ctx) and dq.args[0].ty.dtype in INT_DTYPES


def _check_float_quantize(ctx) -> bool:
    q = ctx.matched_expr
    return _check_int_root(ctx) and q.args[0].ty.dtype == "float32" and \
        _np(q.args[1]).size == 1


# ---------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------

class ExtractError(ValueError):
    """A matched chain uses something the integer kernels do not implement."""


def _np(const) -> np.ndarray:
    return const.value.numpy()


def _scalar(const) -> float:
    return float(_np(const).reshape(-1)[0])


class _Chain:
    """Walks the bindings of a composite function from its root."""

    def __init__(self, func: relax.Function):
        self.func = func
        self.binds: dict[Any, Any] = {}
        for block in func.body.blocks:
            for b in block.bindings:
                self.binds[b.var] = b.value
        self.params = list(func.params)
        self.root = self.value(func.body.body)

    def value(self, e):
        while isinstance(e, relax.Var) and e in self.binds:
            e = self.binds[e]
        return e

    @staticmethod
    def is_op(e, name: str) -> bool:
        return isinstance(e, relax.Call) and isinstance(e.op, tvm.ir.Op) and e.op.name == name

    def arg(self, call, i: int = 0):
        return self.value(call.args[i])

    def operand(self, e, scale: float, zp: int) -> QTensor:
        """The tensor ``e`` (a parameter or a constant) as a QTensor."""
        shape = tuple(int(d) for d in e.ty.shape)
        dtype = str(e.ty.dtype)
        if isinstance(e, relax.Var) and e in self.params:
            return QTensor(shape, scale, zp, dtype, source=self.params.index(e))
        if isinstance(e, tvm.ir.GenericConst):
            return QTensor(shape, scale, zp, dtype, data=_np(e))
        raise ExtractError(f"unexpected operand {type(e).__name__}")

    def dequantized(self, dq) -> QTensor:
        """The operand of a per-tensor ``dequantize`` call."""
        scale = _np(dq.args[1])
        zp = _np(dq.args[2])
        if scale.size != 1 or zp.size != 1:
            raise ExtractError("per-axis quantized activation")
        return self.operand(self.arg(dq), float(scale.reshape(-1)[0]), int(zp.reshape(-1)[0]))


def _out_tensor(call, scale: float, zp: int) -> QTensor:
    return QTensor(tuple(int(d) for d in call.ty.shape), scale, zp, str(call.ty.dtype))


def _quantize_params(q) -> tuple[float, int]:
    scale, zp = _np(q.args[1]), _np(q.args[2])
    if scale.size != 1 or zp.size != 1:
        raise ExtractError("per-axis quantized output")
    return float(scale.reshape(-1)[0]), int(zp.reshape(-1)[0])


def act_range_from_clip(lo: float, hi: float, scale: float, zp: int,
                        dtype: str = "int8") -> tuple[int, int]:
    """TFLite's fused-activation clamp for a quantized-domain ``clip(lo, hi)``.

    The frontend derives the clip bounds with Python's round (half to even, double); TFLite
    uses float32 division and round half away from zero. Identify which TFLite activation
    produced the bounds and recompute them TFLite's way; unknown bounds are kept."""
    lo_i, hi_i = int(round(lo)), int(round(hi))
    s32 = np.float32(scale)

    def variants(f: float) -> set[int]:
        # the quotient in float32 or double, rounded half-even or half-away
        qs = (float(np.float32(f) / s32), f / float(s32))
        return {zp + int(r(v)) for v in qs for r in (round, lambda v: qm.tflite_round(v))}

    qmin, qmax = dtype_range(dtype)
    zero, six, m1, p1 = (variants(f) for f in (0.0, 6.0, -1.0, 1.0))
    cands = {
        "NONE": ({qmin}, {qmax}),
        "RELU": ({max(qmin, v) for v in zero}, {qmax}),
        "RELU6": ({max(qmin, v) for v in zero}, {min(qmax, v) for v in six}),
        "RELU_N1_TO_1": ({max(qmin, v) for v in m1}, {min(qmax, v) for v in p1}),
    }
    for act, (los, his) in cands.items():
        if lo_i in los and hi_i in his:
            return qm.activation_range(act, scale, zp, qmin, qmax)
    return max(qmin, lo_i), min(qmax, hi_i)


def _float_activation(chain: _Chain, e) -> tuple[str | None, Any]:
    """Peel a float activation (relu / clip) -> (TFLite activation name, inner expr)."""
    if chain.is_op(e, "relax.nn.relu"):
        return "RELU", chain.arg(e)
    if chain.is_op(e, "relax.clip"):
        lo, hi = float(e.args[1].value), float(e.args[2].value)
        names = {(0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}
        if (lo, hi) not in names:
            if lo == 0.0 and hi >= 3.0e38:
                return "RELU", chain.arg(e)
            raise ExtractError(f"float clip({lo}, {hi}) is not a TFLite activation")
        return names[(lo, hi)], chain.arg(e)
    return None, e


def _peel_clip(chain: _Chain, e) -> tuple[tuple[float, float] | None, Any]:
    if chain.is_op(e, "relax.clip"):
        return (float(e.args[1].value), float(e.args[2].value)), chain.arg(e)
    return None, e


def _act_from_quantized_clip(clip, out: QTensor) -> tuple[int, int]:
    if clip is None:
        return dtype_range(out.dtype)
    return act_range_from_clip(clip[0], clip[1], out.scale, out.zero_point, out.dtype)


def _bias_values(chain: _Chain, e) -> np.ndarray:
    """The integer bias of a ``_bias`` chain: int32 values for int8 models, int64 for int16."""
    if chain.is_op(e, "relax.multiply"):
        return _np(chain.arg(e, 0).args[0]).astype(np.int64).reshape(-1)
    return _np(e.args[0]).astype(np.int32).reshape(-1)


def _check_16x8(x: QTensor, out: QTensor, weight: np.ndarray, what: str) -> None:
    """TFLite's int16 operators ("16x8"): int8 weights, zero points 0 (TFLM refuses others)."""
    if x.dtype != out.dtype:
        raise ExtractError(f"{what} with {x.dtype} input and {out.dtype} output")
    if out.dtype == "int16":
        if weight is not None and weight.dtype != np.int8:
            raise ExtractError(f"int16 {what} with {weight.dtype} weights")
        if x.zero_point != 0 or out.zero_point != 0:
            raise ExtractError(f"int16 {what} with a non-zero zero point")


def _extract_conv(chain: _Chain, depthwise: bool):
    clip, e = _peel_clip(chain, chain.root)
    q = e
    out_s, out_zp = _quantize_params(q)
    e = chain.arg(q)
    bias = None
    if chain.is_op(e, "relax.add"):
        bias = _bias_values(chain, chain.arg(e, 1))
        e = chain.arg(e, 0)
    conv = e
    x = chain.dequantized(chain.arg(conv, 0))
    wdq = chain.arg(conv, 1)
    reshaped_in_graph = chain.is_op(wdq, "relax.reshape")
    if reshaped_in_graph:
        wdq = chain.arg(wdq)
    w = _np(wdq.args[0])
    if w.dtype != np.int8:
        raise ExtractError(f"{w.dtype} convolution weights")
    if depthwise and not reshaped_in_graph:
        # constant already in the conv's kernel layout (KH, KW, C*M, 1) or, for C == 1,
        # (KH, KW, 1, M): same element order as TFLite's 1HWC
        w = w.reshape(1, w.shape[0], w.shape[1], w.shape[2] * w.shape[3])
    w_scale = _np(wdq.args[1]).astype(np.float32).reshape(-1)
    w_zp = _np(wdq.args[2]).reshape(-1)
    # TFLM's int8/int16 convolutions ignore a weight zero point (measured: identical
    # outputs for zero points 0 and 3); so do the kernels. It is recorded so that the
    # CMSIS-NN partitioner can name it.
    w_zp_seen = int(w_zp[np.flatnonzero(w_zp)[0]]) if np.any(w_zp != 0) else 0
    a = conv.attrs
    out = _out_tensor(q, out_s, out_zp)
    if clip is not None:
        out = _out_tensor(chain.root, out_s, out_zp)
    _check_16x8(x, out, w, "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D")
    act = _act_from_quantized_clip(clip, out)
    pad = tuple(int(p) for p in a.padding)   # relax: (top, left, bottom, right)
    common = dict(strides=(int(a.strides[0]), int(a.strides[1])), padding=pad,
                  dilation=(int(a.dilation[0]), int(a.dilation[1])),
                  act_min=act[0], act_max=act[1])
    if depthwise:
        # Frontend weight constant is TFLite's 1HWC (quantized along axis 3).
        cout = w.shape[3]
        per_channel = w_scale.size > 1
        scales = np.broadcast_to(w_scale, (cout,)).astype(np.float32)
        mult, shift = qm.conv_multipliers(x.scale, scales, out_s)
        return QDepthwise(x, out, w.astype(np.int8), scales, bias, mult, shift,
                          depth_multiplier=cout // x.shape[3], per_channel=per_channel,
                          weight_zero_point=w_zp_seen, **common)
    # Frontend weight constant is HWIO (transposed from TFLite's OHWI at import).
    w_ohwi = np.ascontiguousarray(np.transpose(w, (3, 0, 1, 2))).astype(np.int8)
    cout = w_ohwi.shape[0]
    per_channel = w_scale.size > 1
    scales = np.broadcast_to(w_scale, (cout,)).astype(np.float32)
    mult, shift = qm.conv_multipliers(x.scale, scales, out_s)
    return QConv2D(x, out, w_ohwi, scales, bias, mult, shift, per_channel=per_channel,
                   weight_zero_point=w_zp_seen, **common)


def _extract_transpose_conv(chain: _Chain):
    clip, q = _peel_clip(chain, chain.root)
    out_s, out_zp = _quantize_params(q)
    e = chain.arg(q)
    bias = None
    if chain.is_op(e, "relax.add"):
        bias = _bias_values(chain, chain.arg(e, 1))
        e = chain.arg(e, 0)
    conv = e
    x = chain.dequantized(chain.arg(conv, 0))
    wdq = chain.arg(conv, 1)
    w = _np(wdq.args[0])                                   # IOHW
    if w.dtype != np.int8:
        raise ExtractError(f"{w.dtype} TRANSPOSE_CONV weights")
    out = _out_tensor(chain.root, out_s, out_zp)
    if x.dtype != "int8" or out.dtype != "int8":
        raise ExtractError(f"{x.dtype} TRANSPOSE_CONV has no integer kernel on the generic path")
    a = conv.attrs
    if any(int(d) != 1 for d in a.dilation):
        raise ExtractError("dilated TRANSPOSE_CONV")
    w_ohwi = np.ascontiguousarray(np.transpose(w, (1, 2, 3, 0))).astype(np.int8)
    cout = w_ohwi.shape[0]
    w_scale = _np(wdq.args[1]).astype(np.float32).reshape(-1)
    scales = np.broadcast_to(w_scale, (cout,)).astype(np.float32)
    mult, shift = qm.conv_multipliers(x.scale, scales, out_s)
    act = _act_from_quantized_clip(clip, out)
    pad = tuple(int(p) for p in a.padding)
    return QTransposeConv(x, out, w_ohwi, scales, bias, mult, shift,
                          (int(a.strides[0]), int(a.strides[1])), (pad[0], pad[1]),
                          act[0], act[1], per_channel=w_scale.size > 1)


def _extract_fc(chain: _Chain):
    clip, q = _peel_clip(chain, chain.root)
    out_s, out_zp = _quantize_params(q)
    e = chain.arg(q)
    bias = None
    if chain.is_op(e, "relax.add"):
        bias = _bias_values(chain, chain.arg(e, 1))
        e = chain.arg(e, 0)
    mm = e
    x = chain.dequantized(chain.arg(mm, 0))
    wdq = chain.arg(mm, 1)
    perm = chain.arg(wdq)
    w = _np(perm.args[0])                           # TFLite layout [units, depth]
    if w.dtype != np.int8:
        raise ExtractError(f"{w.dtype} fully-connected weights")
    w_scale = _np(wdq.args[1]).astype(np.float32).reshape(-1)
    w_zp = _np(wdq.args[2]).reshape(-1)
    if w_zp.size != 1:
        raise ExtractError("per-channel weight zero points")
    units = w.shape[0]
    if bias is not None and bias.size != units:
        raise ExtractError(f"FC bias has {bias.size} values for {units} units")
    out = _out_tensor(chain.root, out_s, out_zp)
    _check_16x8(x, out, w, "FULLY_CONNECTED")
    act = _act_from_quantized_clip(clip, out)
    scales = np.broadcast_to(w_scale, (units,)).astype(np.float32)
    mult, shift = qm.conv_multipliers(x.scale, scales, out_s)
    return QFullyConnected(x, out, w, int(w_zp[0]), scales, bias, mult, shift, act[0], act[1],
                           per_channel=w_scale.size > 1)


def _pool_common(chain: _Chain, pool_op: str):
    clip, e = _peel_clip(chain, chain.root)
    if chain.is_op(e, "relax.astype"):
        e = chain.arg(e)
    pool = e
    inner = chain.arg(pool)
    if chain.is_op(inner, "relax.astype"):
        inner = chain.arg(inner)
    a = pool.attrs
    if any(int(d) != 1 for d in a.dilation):
        raise ExtractError("dilated pooling")
    # Pools keep the quantization; the scale is not in the graph (irrelevant here).
    x = chain.operand(inner, 1.0, 0)
    out = _out_tensor(chain.root, 1.0, 0)
    qmin, qmax = dtype_range(out.dtype)
    lo, hi = (qmin, qmax) if clip is None else (max(qmin, int(round(clip[0]))),
                                                min(qmax, int(round(clip[1]))))
    return dict(input=x, output=out, pool_size=(int(a.pool_size[0]), int(a.pool_size[1])),
                strides=(int(a.strides[0]), int(a.strides[1])),
                padding=tuple(int(p) for p in a.padding), act_min=lo, act_max=hi)


def _extract_softmax(chain: _Chain):
    q = chain.root
    out_s, out_zp = _quantize_params(q)
    sm = chain.arg(q)
    e = chain.arg(sm)
    beta = 1.0
    if chain.is_op(e, "relax.multiply"):
        beta = _scalar(e.args[1])
        e = chain.arg(e)
    x = chain.dequantized(e)
    out = _out_tensor(q, out_s, out_zp)
    _check_16x8(x, out, None, "SOFTMAX")
    if out.dtype == "int16":
        if out_s != 1.0 / 32768.0:
            raise ExtractError("int16 softmax output must have scale 1/32768, zero point 0")
        m, s = qm.softmax_s16_multiplier(x.scale, beta)
        return QSoftmax(x, out, beta, m, s, 0)
    if abs(out_s - 1.0 / 256.0) > 1e-12 or out_zp != -128:
        raise ExtractError("int8 softmax output must have scale 1/256, zero point -128")
    p = qm.softmax_params(x.scale, beta)
    return QSoftmax(x, _out_tensor(q, out_s, out_zp), beta, p["multiplier"], p["left_shift"],
                    p["diff_min"])


def _extract_binary(chain: _Chain, mul: bool):
    q = chain.root
    out_s, out_zp = _quantize_params(q)
    act, core = _float_activation(chain, chain.arg(q))
    a = chain.dequantized(chain.arg(core, 0))
    b = chain.dequantized(chain.arg(core, 1))
    out = _out_tensor(q, out_s, out_zp)
    if a.dtype != b.dtype:
        raise ExtractError(f"{'MUL' if mul else 'ADD'} of {a.dtype} and {b.dtype}")
    if mul:
        # int16 ADD (like SUB) takes any zero points: TFLM's general int16 path has offsets
        _check_16x8(a, out, None, "MUL")
        _check_16x8(b, out, None, "MUL")
    elif a.dtype != out.dtype:
        raise ExtractError(f"ADD of {a.dtype} to {out.dtype}")
    lo, hi = qm.activation_range(act, out_s, out_zp, *dtype_range(out.dtype))
    if mul:
        m, s = qm.mul_multiplier(a.scale, b.scale, out_s)
        return QMul(a, b, out, m, s, lo, hi)
    p = qm.add_params(a.scale, b.scale, out_s,
                      qm.ADD_LEFT_SHIFT_S16 if out.dtype == "int16" else qm.ADD_LEFT_SHIFT)
    return QAdd(a, b, out, p["left_shift"], p["in1_multiplier"], p["in1_shift"],
                p["in2_multiplier"], p["in2_shift"], p["out_multiplier"], p["out_shift"], lo, hi)


def _reduction(chain: _Chain):
    """(input, output, axes, keep_dims, count) of ``quantize(reduce(dequantize(x)))``."""
    q = chain.root
    out_s, out_zp = _quantize_params(q)
    red = chain.arg(q)
    x = chain.dequantized(chain.arg(red))
    out = _out_tensor(q, out_s, out_zp)
    if x.dtype != out.dtype:
        raise ExtractError(f"reduction from {x.dtype} to {out.dtype}")
    rank = len(x.shape)
    axes = red.attrs.axis
    axes = tuple(range(rank)) if axes is None else tuple(sorted({int(a) % rank for a in axes}))
    count = int(np.prod([x.shape[a] for a in axes]))
    return x, out, axes, bool(red.attrs.keepdims), count


def _extract_mean(chain: _Chain, total: bool = False):
    x, out, axes, keep, count = _reduction(chain)
    if total:
        m, s = qm.quantize_multiplier(qm.f32(x.scale) / qm.f32(out.scale))
        return QSum(x, out, axes, keep, count, m, s)
    m, s = qm.mean_multiplier(x.scale, out.scale, count)
    return QMean(x, out, axes, keep, count, m, s)


def _extract_reduce_max(chain: _Chain):
    x, out, axes, keep, _ = _reduction(chain)
    if (qm.f32(x.scale), x.zero_point) != (qm.f32(out.scale), out.zero_point):
        raise ExtractError("REDUCE_MAX with an output quantization other than the input's "
                           "(TFLM refuses it)")
    return QReduceMax(x, out, axes, keep)


def _extract_concat(chain: _Chain):
    clip, q = _peel_clip(chain, chain.root)
    out_s, out_zp = _quantize_params(q)
    cat = chain.arg(q)
    tup = chain.arg(cat)
    xs = [chain.dequantized(chain.value(f)) for f in tup.fields]
    out = _out_tensor(chain.root, out_s, out_zp)
    rank = len(out.shape)
    if out.dtype == "int16":
        # TFLM and LiteRT concatenate int16 tensors as raw values, whatever their
        # quantization (measured: no requantization, unlike int8's scaling path)
        if any(x.dtype != "int16" for x in xs):
            raise ExtractError("CONCATENATION of int16 with other types")
        return QConcat(xs, out, int(cat.attrs.axis) % rank, [None] * len(xs),
                       *_act_from_quantized_clip(clip, out))
    requant = []
    for x in xs:
        same = qm.f32(x.scale) == qm.f32(out_s) and x.zero_point == out_zp
        requant.append(None if same else qm.requantize_multiplier(x.scale, out_s))
    act = _act_from_quantized_clip(clip, out)
    return QConcat(xs, out, int(cat.attrs.axis) % rank, requant, act[0], act[1])


def _extract_requantize(chain: _Chain):
    q = chain.root
    out_s, out_zp = _quantize_params(q)
    x = chain.dequantized(chain.arg(q))
    m, s = qm.requantize_multiplier(x.scale, out_s)
    return QRequantize(x, _out_tensor(q, out_s, out_zp), m, s)


def _extract_float_quantize(chain: _Chain):
    q = chain.root
    out_s, out_zp = _quantize_params(q)
    x = chain.operand(chain.arg(q), 1.0, 0)
    return QQuantize(x, _out_tensor(q, out_s, out_zp))


def _extract_pad(chain: _Chain):
    pad = chain.root
    x = chain.operand(chain.arg(pad), 1.0, 0)
    a = pad.attrs
    if str(a.pad_mode) != "constant":
        raise ExtractError(f"pad mode {a.pad_mode}")
    w = [int(v) for v in a.pad_width]
    paddings = tuple((w[2 * i], w[2 * i + 1]) for i in range(len(w) // 2))
    value = float(a.pad_value)
    qmin, qmax = dtype_range(x.dtype)
    if value != int(value) or not qmin <= value <= qmax:
        raise ExtractError(f"{x.dtype} pad value {value}")
    return QPad(x, _out_tensor(pad, 1.0, 0), paddings, int(value))


def _extract_transpose(chain: _Chain):
    t = chain.root
    x = chain.operand(chain.arg(t), 1.0, 0)
    axes = t.attrs.axes
    rank = len(x.shape)
    perm = tuple(range(rank))[::-1] if axes is None else tuple(int(a) % rank for a in axes)
    return QTranspose(x, _out_tensor(t, 1.0, 0), perm)


def _extract_sigmoid_like(chain: _Chain, tanh: bool):
    """LOGISTIC / TANH: TFLM's int8 kernels fix the output quantization."""
    q = chain.root
    out_s, out_zp = _quantize_params(q)
    x = chain.dequantized(chain.arg(chain.arg(q)))
    out = _out_tensor(q, out_s, out_zp)
    name = "TANH" if tanh else "LOGISTIC"
    if x.dtype != out.dtype or x.dtype not in ("int8", "int16"):
        raise ExtractError(f"{x.dtype} {name} has no integer kernel on the generic path"
                           if x.dtype == out.dtype else f"{name} from {x.dtype} to {out.dtype}")
    if x.dtype == "int16":
        return _extract_sigmoid_like_s16(x, out, tanh)
    want = (1.0 / 128.0, 0) if tanh else (1.0 / 256.0, -128)
    if (qm.f32(out_s), out_zp) != want:
        raise ExtractError(f"int8 {name} output must have scale 1/{round(1 / want[0])}, "
                           f"zero point {want[1]} (TFLM)")
    try:
        m, s, r = qm.sigmoid_input_params(x.scale)
    except ValueError as err:
        raise ExtractError(f"{name}: {err}") from None
    return (QTanh if tanh else QLogistic)(x, out, m, s, r)



def _extract_sigmoid_like_s16(x: QTensor, out: QTensor, tanh: bool):
    """LOGISTIC / TANH int16: what TFLM's Prepare requires (zero points 0, an output scale
    of 2^-15 within CheckedLog2's tolerance, a multiplier its int32 arithmetic holds)."""
    name = "TANH" if tanh else "LOGISTIC"
    if x.zero_point != 0 or out.zero_point != 0:
        raise ExtractError(f"int16 {name} needs zero points 0 (TFLM: input "
                           f"{x.zero_point}, output {out.zero_point})")
    pot, log2 = qm.checked_log2(out.scale)
    if not pot or log2 != -15:
        raise ExtractError(f"int16 {name} output must have scale 1/32768 (TFLM), "
                           f"not {out.scale:g}")
    try:
        m, s = qm.activation_s16_params(x.scale, tanh)
    except ValueError as err:
        raise ExtractError(f"int16 {name}: {err}") from None
    return (QTanhS16 if tanh else QLogisticS16)(x, out, m, s)

def _unary(chain: _Chain) -> tuple[QTensor, QTensor, Any]:
    """(input, output, the float op) of ``quantize(op(dequantize(x)))``."""
    q = chain.root
    out_s, out_zp = _quantize_params(q)
    core = chain.arg(q)
    x = chain.dequantized(chain.arg(core))
    out = _out_tensor(q, out_s, out_zp)
    if x.dtype != out.dtype:
        raise ExtractError(f"{x.dtype} input and {out.dtype} output")
    return x, out, core


def _multiplier(real: float, what: str) -> tuple[int, int]:
    m, s = qm.quantize_multiplier(real)
    if not -31 <= s <= 30 or m < 0:
        raise ExtractError(f"{what} multiplier {real} out of range")
    return m, s


def _extract_leaky_relu(chain: _Chain):
    x, out, core = _unary(chain)
    alpha = float(core.attrs.alpha)
    f32 = np.float32
    identity = float(f32(x.scale) / f32(out.scale))
    scaled_alpha = float(f32(f32(x.scale) * f32(alpha)) / f32(out.scale))
    if scaled_alpha < 0:
        raise ExtractError(f"LEAKY_RELU with a negative alpha {alpha}")
    mi, si = _multiplier(identity, "LEAKY_RELU identity")
    ma, sa = _multiplier(scaled_alpha, "LEAKY_RELU alpha")
    return QLeakyRelu(x, out, alpha, mi, si, ma, sa)


def _extract_relu(chain: _Chain):
    x, out, _ = _unary(chain)
    m, s = _multiplier(qm.f32(x.scale) / qm.f32(out.scale), "RELU")
    qmin, qmax = dtype_range(out.dtype)
    # zp + roundf(0 / scale) = zp
    return QRelu(x, out, m, s, max(qmin, out.zero_point), qmax)


def _extract_abs(chain: _Chain):
    x, out, _ = _unary(chain)
    if x.dtype == "int16" and (x.zero_point != 0 or out.zero_point != 0):
        raise ExtractError("int16 ABS with a non-zero zero point (TFLM requires 0)")
    rescale = qm.f32(x.scale) != qm.f32(out.scale)
    m, s = _multiplier(qm.f32(x.scale) / qm.f32(out.scale), "ABS") if rescale else (0, 0)
    return QAbs(x, out, rescale, m, s)


def _extract_relu_n1_to_1(chain: _Chain):
    """RELU_N1_TO_1 int8. TFLM has no kernel for it: the golden reference is LiteRT's
    (activations.cc QuantizedReluX(-1, 1)): MBQM(x - zp_in, in_scale / out_scale) + zp_out
    clamped to the quantized [-1, 1] of the output (float32 division, roundf)."""
    x, out, _ = _unary(chain)
    m, s = _multiplier(qm.f32(x.scale) / qm.f32(out.scale), "RELU_N1_TO_1")
    lo, hi = qm.activation_range("RELU_N1_TO_1", out.scale, out.zero_point,
                                 *dtype_range(out.dtype))
    return QRelu(x, out, m, s, lo, hi, op_type="RELU_N1_TO_1")


def _swapped_last_two(chain: _Chain, e) -> tuple[Any, bool]:
    """(the dequantize under an optional last-two-axes ``permute_dims``, whether permuted)."""
    if not chain.is_op(e, "relax.permute_dims"):
        return e, False
    rank = len(e.ty.shape)
    axes = [int(a) for a in e.attrs.axes] if e.attrs.axes is not None else None
    if rank < 2 or axes != list(range(rank - 2)) + [rank - 1, rank - 2]:
        raise ExtractError(f"BATCH_MATMUL operand permutation {axes}")
    return chain.arg(e), True


def _extract_batch_matmul(chain: _Chain):
    q = chain.root
    out = _out_tensor(q, *_quantize_params(q))
    mm = chain.arg(q)
    lhs_dq, adj_x = _swapped_last_two(chain, chain.arg(mm, 0))
    rhs_dq, adj_y = _swapped_last_two(chain, chain.arg(mm, 1))
    lhs, rhs = chain.dequantized(lhs_dq), chain.dequantized(rhs_dq)
    if not lhs.dtype == rhs.dtype == out.dtype or out.dtype not in INT_DTYPES:
        raise ExtractError(f"BATCH_MATMUL of {lhs.dtype} and {rhs.dtype} to {out.dtype} "
                           "(TFLM: all int8 or all int16)")
    if out.dtype == "int16" and (lhs.zero_point, rhs.zero_point, out.zero_point) != (0, 0, 0):
        raise ExtractError("int16 BATCH_MATMUL with a zero point != 0 (TFLM requires 0)")
    if not 2 <= min(len(lhs.shape), len(rhs.shape)) <= max(len(lhs.shape), len(rhs.shape)) <= 5:
        raise ExtractError(f"BATCH_MATMUL of ranks {len(lhs.shape)} and {len(rhs.shape)} "
                           "(TFLM: 2 to 5)")
    real = float(np.float32(lhs.scale)) * float(np.float32(rhs.scale)) / \
        float(np.float32(out.scale))
    m, s = _multiplier(real, "BATCH_MATMUL")
    return QBatchMatMul(lhs, rhs, out, adj_x, adj_y, m, s)


def _extract_prelu(chain: _Chain):
    q = chain.root
    out = _out_tensor(q, *_quantize_params(q))
    w = chain.arg(q)
    x = chain.dequantized(chain.arg(w, 1))
    alpha = chain.dequantized(chain.arg(chain.arg(w, 2), 1))
    if not x.dtype == alpha.dtype == out.dtype == "int8":
        raise ExtractError(f"PRELU of {x.dtype} and {alpha.dtype} to {out.dtype} (TFLM: int8)")
    if tuple(out.shape) != tuple(x.shape) or len(out.shape) > 4:
        raise ExtractError(f"PRELU output shape {list(out.shape)} (input {list(x.shape)})")
    m1, s1 = _multiplier(float(x.scale) / float(out.scale), "PRELU identity")
    m2, s2 = _multiplier(float(x.scale) * float(alpha.scale) / float(out.scale), "PRELU alpha")
    return QPrelu(x, alpha, out, m1, s1, m2, s2)


def _svdf_multiplier(a: float, b: float, c: float, what: str) -> tuple[int, int]:
    """TFLM's SVDF effective scale ``a * b / c``: float32 arithmetic, then
    QuantizeMultiplier of that value as a double."""
    f32 = np.float32
    return _multiplier(float(f32(f32(a) * f32(b)) / f32(c)), what)


def _extract_svdf_state(chain: _Chain):
    q = chain.root
    state_out = _out_tensor(q, *_quantize_params(q))
    e = chain.arg(chain.arg(q))                     # concat, or expand_dims (memory 1)
    state_in = None
    if chain.is_op(e, "relax.concat"):
        kept, e = (chain.value(f) for f in chain.value(e.args[0]).fields)
        state_in = chain.dequantized(chain.arg(chain.arg(kept)))
    mm = chain.arg(e)
    x = chain.dequantized(chain.arg(mm, 0))
    wdq = chain.arg(chain.arg(mm, 1))
    w = _np(wdq.args[0])
    filters, depth = w.shape
    batch, size = state_out.shape
    memory = size // filters
    if state_in is None:                            # memory 1: the old state is not read
        state_in = QTensor(state_out.shape, state_out.scale, state_out.zero_point,
                           state_out.dtype, source=None, data=None)
    if x.dtype != "int8" or w.dtype != np.int8 or state_out.dtype not in ("int8", "int16"):
        raise ExtractError(f"SVDF with {x.dtype} input, {w.dtype} feature weights and "
                           f"{state_out.dtype} state (TFLM: int8, int8, int8 or int16)")
    if state_in.dtype != state_out.dtype or (state_in.scale, state_in.zero_point) != \
            (state_out.scale, state_out.zero_point) or tuple(x.shape) != (batch, depth):
        raise ExtractError("SVDF state update with inconsistent shapes or quantization")
    m, s = _svdf_multiplier(x.scale, _scalar(wdq.args[1]), state_out.scale, "SVDF feature")
    return QSvdfState(x, state_in, state_out, w, memory, m, s)


def _extract_svdf(chain: _Chain, q=None, state: QTensor | None = None):
    """The output half rooted at quantize ``q`` (default: the chain's root); ``state`` the
    operand when it is computed inside the match (the pair form)."""
    q = chain.root if q is None else q
    out = _out_tensor(q, *_quantize_params(q))
    add = chain.arg(q)
    bias = _np(chain.arg(add, 1).args[0]).astype(np.int32).reshape(-1)
    timed = chain.arg(chain.arg(chain.arg(add, 0)))   # sum over memory, under the rank sum
    mul = chain.arg(timed)
    if state is None:
        state = chain.dequantized(chain.arg(chain.arg(mul, 0)))
    wdq = chain.arg(mul, 1)
    w = _np(wdq.args[0])
    batch, units = out.shape
    filters, memory = w.shape
    rank = filters // units
    if out.dtype != "int8" or w.dtype.name != state.dtype or state.dtype not in ("int8",
                                                                                 "int16"):
        raise ExtractError(f"SVDF with {state.dtype} state, {w.dtype} time weights and "
                           f"{out.dtype} output (TFLM: int8 or int16 state and time "
                           "weights of the same type, int8 output)")
    if rank * units != filters or bias.size != units or \
            tuple(state.shape) != (batch, filters * memory):
        raise ExtractError(f"SVDF with {filters} filters, {units} units, {bias.size} biases")
    m, s = _svdf_multiplier(state.scale, _scalar(wdq.args[1]), out.scale, "SVDF time")
    return QSvdf(state, out, w, bias, rank, m, s)


#: The largest innermost size whose int32 sum of squares (|x - zp| <= 255) cannot overflow.
L2_NORM_MAX_DEPTH = ((1 << 31) - 1) // (255 * 255)


def _extract_l2_normalization(chain: _Chain):
    """L2_NORMALIZATION int8: TFLM's kernel writes 1/128 steps with zero point 0 whatever
    the output tensor says, so any other output quantization is refused."""
    q = chain.root
    out = _out_tensor(q, *_quantize_params(q))
    div = chain.arg(q)
    x = chain.dequantized(chain.arg(div))
    total = chain.arg(chain.arg(div, 1))
    axes = [int(a) for a in total.attrs.axis]
    if not x.dtype == out.dtype == "int8":
        raise ExtractError(f"L2_NORMALIZATION from {x.dtype} to {out.dtype} (TFLM: int8)")
    if (qm.f32(out.scale), out.zero_point) != (1.0 / 128.0, 0):
        raise ExtractError(f"int8 L2_NORMALIZATION output must have scale 1/128, zero point "
                           f"0 (TFLM computes that quantization whatever the output tensor "
                           f"says; this one has {out.scale:g}, {out.zero_point})")
    rank = len(x.shape)
    if axes not in ([rank - 1], [-1]) or tuple(out.shape) != tuple(x.shape) or rank > 4:
        raise ExtractError(f"L2_NORMALIZATION of a {rank}-D input over axes {axes} "
                           "(TFLM: the innermost axis of at most 4 dimensions)")
    if x.shape[-1] > L2_NORM_MAX_DEPTH:
        raise ExtractError(f"L2_NORMALIZATION over {x.shape[-1]} elements: the int32 sum of "
                           f"squares can overflow (at most {L2_NORM_MAX_DEPTH})")
    return QL2Norm(x, out)


def _extract_svdf_pair(chain: _Chain):
    """A whole SVDF (:func:`svdf_pair_patterns`): at check time the root is the output's
    quantize; in the composite function it is the returned (output, new state) tuple."""
    root, index = chain.root, 1
    if isinstance(root, relax.Tuple):
        fields = [chain.value(f) for f in root.fields]
        outs = [k for k, f in enumerate(fields) if chain.is_op(chain.arg(f), "relax.add")]
        if len(fields) != 2 or len(outs) != 1:
            raise ExtractError("SVDF: unexpected composite function results")
        root, index = fields[outs[0]], 1 - outs[0]
    mul = chain.arg(chain.arg(chain.arg(chain.arg(chain.arg(root)), 0)))
    q_state = chain.arg(chain.arg(chain.arg(mul, 0)))
    sub = object.__new__(type(chain))
    sub.__dict__.update(chain.__dict__)
    sub.root = q_state
    update = _extract_svdf_state(sub)
    stage = _extract_svdf(chain, root, update.output)
    return QSvdfPair([update.input, update.state], stage.output, update.output, update, stage,
                     index)


def _extract_relu6(chain: _Chain):
    x, out, _ = _unary(chain)
    qmin, qmax = dtype_range(x.dtype)
    # FloatToQuantizedType(6.0f, scale, zp): float32 division, round half away from zero
    six = int(qm.tflite_round(np.float32(6.0) / np.float32(x.scale))) + x.zero_point
    return QRelu6(x, out, x.zero_point, min(max(six, qmin), qmax))


def _extract_hard_swish(chain: _Chain):
    q = chain.root
    out_s, out_zp = _quantize_params(q)
    mul = chain.arg(chain.arg(q))
    x = chain.dequantized(chain.arg(mul, 0))
    out = _out_tensor(q, out_s, out_zp)
    if x.dtype != "int8" or out.dtype != "int8":
        raise ExtractError(f"{x.dtype} HARD_SWISH has no integer kernel (TFLM: int8 only)")
    f32 = np.float32
    hires = f32(1.0 / 128.0) * f32(x.scale)
    om, oe = qm.quantize_multiplier(float(hires / f32(out_s)))
    rm, re = qm.quantize_multiplier(float(hires / f32(3.0 / 32768.0)))
    if oe > 0:
        raise ExtractError("HARD_SWISH output multiplier above 1 (TFLM refuses it)")
    return QHardSwish(x, out, qm.downscale_multiplier_s16(om), oe,
                      qm.downscale_multiplier_s16(rm), re)


def _two_inputs(chain: _Chain, name: str):
    q = chain.root
    out_s, out_zp = _quantize_params(q)
    act, core = _float_activation(chain, chain.arg(q))
    a = chain.dequantized(chain.arg(core, 0))
    b = chain.dequantized(chain.arg(core, 1))
    out = _out_tensor(q, out_s, out_zp)
    if not a.dtype == b.dtype == out.dtype:
        raise ExtractError(f"{name} of {a.dtype} and {b.dtype} to {out.dtype}")
    return a, b, out, act, core


def _extract_min_max(chain: _Chain, maximum: bool):
    name = "MAXIMUM" if maximum else "MINIMUM"
    a, b, out, _, _ = _two_inputs(chain, name)
    return QMinMax(a, b, out, maximum, name)


def _extract_squared_difference(chain: _Chain):
    q = chain.root
    out_s, out_zp = _quantize_params(q)
    sub = chain.arg(chain.arg(q), 0)
    a = chain.dequantized(chain.arg(sub, 0))
    b = chain.dequantized(chain.arg(sub, 1))
    out = _out_tensor(q, out_s, out_zp)
    if not a.dtype == b.dtype == out.dtype == "int8":
        raise ExtractError(f"{out.dtype} SQUARED_DIFFERENCE has no integer kernel on the "
                           "generic path")
    p = qm.squared_difference_params(a.scale, b.scale, out_s)
    return QSquaredDifference(a, b, out, p["left_shift"], p["in1_multiplier"], p["in1_shift"],
                              p["in2_multiplier"], p["in2_shift"], p["out_multiplier"],
                              p["out_shift"], *dtype_range(out.dtype))


def _extract_sub(chain: _Chain):
    a, b, out, act, _ = _two_inputs(chain, "SUB")
    lo, hi = qm.activation_range(act, out.scale, out.zero_point, *dtype_range(out.dtype))
    p = qm.add_params(a.scale, b.scale, out.scale,
                      qm.ADD_LEFT_SHIFT_S16 if out.dtype == "int16" else qm.ADD_LEFT_SHIFT)
    return QSub(a, b, out, p["left_shift"], p["in1_multiplier"], p["in1_shift"],
                p["in2_multiplier"], p["in2_shift"], p["out_multiplier"], p["out_shift"], lo, hi)


def _resize_mode(r) -> tuple[bool, bool]:
    """(align_corners, half_pixel_centers) of the frontend's resize2d attributes."""
    mode = str(r.attrs.coordinate_transformation_mode)
    modes = {"align_corners": (True, False), "half_pixel": (False, True),
             "asymmetric": (False, False)}
    if mode not in modes:
        raise ExtractError(f"resize coordinate transformation {mode}")
    return modes[mode]


def _extract_resize(chain: _Chain, bilinear: bool):
    root = chain.root
    if bilinear:
        r = chain.arg(root)
        x = chain.dequantized(chain.arg(r))
        out = _out_tensor(root, *_quantize_params(root))
    else:
        r = root
        x = chain.operand(chain.arg(r), 1.0, 0)
        out = _out_tensor(r, 1.0, 0)
    if x.dtype != out.dtype:
        raise ExtractError(f"resize from {x.dtype} to {out.dtype}")
    align, half = _resize_mode(r)
    (_, ih, iw, _), (_, oh, ow, _) = x.shape, out.shape
    op_type = "RESIZE_BILINEAR" if bilinear else "RESIZE_NEAREST_NEIGHBOR"
    if not bilinear:
        rows = qm.resize_nearest_sources(ih, oh, align, half)
        cols = qm.resize_nearest_sources(iw, ow, align, half)
        return QResize(x, out, False, align, half, rows, cols, op_type=op_type)
    r0, r1, rw = qm.resize_bilinear_sources(ih, oh, align, half)
    c0, c1, cw = qm.resize_bilinear_sources(iw, ow, align, half)
    return QResize(x, out, True, align, half, r0, c0, r1, c1, rw, cw, op_type=op_type)
