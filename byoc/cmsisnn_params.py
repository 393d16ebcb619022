"""Compile-time constants of CMSIS-NN v7 kernel calls, computed exactly as TFLite / TFLM do.

Shared by the CMSIS-NN code generator and the kernel tests. Everything here is plain Python
and numpy (no TVM):

* requantization parameters of convolution, depthwise convolution, fully connected, softmax,
  ADD and MUL (multipliers and TFLite-style shifts, offsets, activation clamps);
* TFLite SAME / VALID output sizes and padding;
* kernel sums for the Helium fully-connected path (``arm_vector_sum_s8``), so generated code
  can place them in flash;
* the scratch-buffer size of every kernel for each kernel path ("mve", "dsp", "c"), equal to
  the ``*_get_buffer_size`` functions of ``kernels_c/cmsis_nn`` and of Arm's CMSIS-NN v7.

Offsets follow CMSIS-NN: ``input_offset = -input_zero_point``, ``output_offset =
output_zero_point``. Shifts are positive for a left shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from byoc.cpus import KERNEL_PATHS
from byoc.qnn import quant_math
from byoc.tflite.builder import same_padding

#: Kernel path per Cortex-M core (the compile-time choice of ``arm_nn_math_types.h``).
CPU_PATHS = KERNEL_PATHS
PATHS = ("mve", "dsp", "c")

INT8_MIN, INT8_MAX = -128, 127


def kernel_path(cpu: str) -> str:
    """"mve", "dsp" or "c" for a ``-mcpu`` name such as "cortex-m55" or "cortex-m55+nomve"."""
    base, _, ext = cpu.partition("+")
    if base not in CPU_PATHS:
        raise ValueError(f"unknown Cortex-M core '{cpu}'; known: {', '.join(CPU_PATHS)}")
    path = CPU_PATHS[base]
    if path == "mve" and "nomve" in ext.split("+"):
        path = "dsp"
    return path


def _check_path(path: str) -> None:
    if path not in PATHS:
        raise ValueError(f"kernel path must be one of {PATHS}, not {path!r}")


# ---------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------

def output_size_and_padding(size: int, kernel: int, stride: int, padding: str,
                            dilation: int = 1) -> tuple[int, int]:
    """TFLite output size and the padding before the first element (CMSIS-NN ``padding``).

    SAME: :func:`byoc.tflite.builder.same_padding`. VALID: no padding.
    """
    if padding == "SAME":
        out, before, _ = same_padding(size, kernel, stride, dilation)
        return out, before
    eff = (kernel - 1) * dilation + 1
    if padding == "VALID":
        return (size - eff) // stride + 1, 0
    raise ValueError(f"padding must be SAME or VALID, not {padding!r}")


# ---------------------------------------------------------------------------------------
# Requantization parameters
# ---------------------------------------------------------------------------------------

@dataclass
class ConvQuant:
    """Offsets, per-channel multipliers/shifts and clamp of a conv / depthwise / FC call."""

    input_offset: int
    output_offset: int
    multiplier: np.ndarray  # int32 [C_OUT] (or [1] per tensor)
    shift: np.ndarray       # int32 [C_OUT] (or [1])
    act_min: int
    act_max: int


def conv_quant(input_scale: float, input_zero_point: int, weight_scales,
               output_scale: float, output_zero_point: int,
               activation: str | None = None) -> ConvQuant:
    """CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED requantization (TFLite
    ``PopulateConvolutionQuantizationParams``): one (multiplier, shift) per weight scale."""
    mult, shift = quant_math.conv_multipliers(input_scale, weight_scales, output_scale)
    lo, hi = quant_math.activation_range(activation, output_scale, output_zero_point)
    return ConvQuant(-int(input_zero_point), int(output_zero_point), mult, shift, lo, hi)


def softmax_params(input_scale: float, beta: float = 1.0) -> tuple[int, int, int]:
    """(mult, shift, diff_min) of ``arm_softmax_s8`` for an int8 input (TFLite
    PreprocessSoftmaxScaling + CalculateInputRadius with 5 integer bits)."""
    p = quant_math.softmax_params(input_scale, beta)
    return p["multiplier"], p["left_shift"], p["diff_min"]


@dataclass
class AddParams:
    """Arguments of ``arm_elementwise_add_s8`` besides the data pointers and block size."""

    input_1_offset: int
    input_1_mult: int
    input_1_shift: int
    input_2_offset: int
    input_2_mult: int
    input_2_shift: int
    left_shift: int
    out_offset: int
    out_mult: int
    out_shift: int
    out_activation_min: int
    out_activation_max: int


def add_params(scale1: float, zp1: int, scale2: float, zp2: int, out_scale: float, out_zp: int,
               activation: str | None = None) -> AddParams:
    """TFLite int8 ADD parameters (left shift 20, inputs rescaled to twice the larger scale)."""
    p = quant_math.add_params(scale1, scale2, out_scale)
    lo, hi = quant_math.activation_range(activation, out_scale, out_zp)
    return AddParams(-int(zp1), p["in1_multiplier"], p["in1_shift"], -int(zp2), p["in2_multiplier"],
                     p["in2_shift"], p["left_shift"], int(out_zp), p["out_multiplier"], p["out_shift"],
                     lo, hi)


@dataclass
class MulParams:
    """Arguments of ``arm_elementwise_mul_s8`` besides the data pointers and block size."""

    input_1_offset: int
    input_2_offset: int
    out_offset: int
    out_mult: int
    out_shift: int
    out_activation_min: int
    out_activation_max: int


def mul_params(scale1: float, zp1: int, scale2: float, zp2: int, out_scale: float, out_zp: int,
               activation: str | None = None) -> MulParams:
    """TFLite int8 MUL parameters: multiplier of s1 * s2 / s_out."""
    m, s = quant_math.mul_multiplier(scale1, scale2, out_scale)
    lo, hi = quant_math.activation_range(activation, out_scale, out_zp)
    return MulParams(-int(zp1), -int(zp2), int(out_zp), m, s, lo, hi)


def pool_activation(activation: str | None, scale: float, zero_point: int) -> tuple[int, int]:
    """Clamp of a pooling layer (pools keep the input quantization)."""
    return quant_math.activation_range(activation, scale, zero_point)


# ---------------------------------------------------------------------------------------
# Helium fully connected kernel sums
# ---------------------------------------------------------------------------------------

def vector_sum(weights: np.ndarray, lhs_offset: int, rhs_offset: int = 0,
               bias: np.ndarray | None = None) -> np.ndarray:
    """``arm_vector_sum_s8``: kernel_sum[r] = bias[r] + lhs_offset * sum_j (w[r, j] + rhs_offset)
    for weights [C_OUT, depth] (int32 wrap-around like the C code)."""
    w = np.asarray(weights, np.int64).reshape(weights.shape[0], -1)
    sums = (w + int(rhs_offset)).sum(axis=1) * int(lhs_offset)
    if bias is not None:
        sums = sums + np.asarray(bias, np.int64)
    return quant_math.wrap_int32(sums).astype(np.int32)


# ---------------------------------------------------------------------------------------
# Scratch-buffer sizes (bytes), per kernel path
# ---------------------------------------------------------------------------------------

def svdf_buffer_size(path: str, filters: int) -> int:
    """``arm_svdf_s8_get_buffer_size``: the Helium kernel sums (one int32 per filter), none
    on the DSP and portable paths (arm_svdf_state_s16_s8 takes no such buffer)."""
    return 4 * filters if path == "mve" else 0


def _round_up(x: int, m: int) -> int:
    return (x + m - 1) // m * m


def _c_div(a: int, b: int) -> int:
    """C integer division (truncation toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _c_rem(a: int, b: int) -> int:
    return a - _c_div(a, b) * b


def _one_by_n_size_mve(in_c: int, in_w: int, kw: int, out_w: int, pad_w: int, stride_w: int) -> int:
    total = (out_w - 1) * stride_w + kw - in_w
    odd = _c_rem(total, 2)
    right = pad_w + odd
    n_left = max(1, _c_div(pad_w + stride_w - 1, stride_w)) if pad_w != 0 else 0
    n_right = max(1, _c_div(right + stride_w - 1, stride_w)) if right != 0 else 0
    n_mid = max(out_w - n_left - n_right, 0)
    if n_left + n_mid + n_right != out_w:
        return 4 * _round_up(in_c * kw, 16)
    return max((kw + pad_w) * in_c, (kw - 1) * in_c + (n_right * in_c if odd != 0 else pad_w * in_c))


def conv_buffer_size(path: str, input_nhwc, filter_ohwi, output_nhwc, padding_hw=(0, 0),
                     stride_hw=(1, 1), dilation_hw=(1, 1)) -> int:
    """``arm_convolve_wrapper_s8_get_buffer_size`` of the given path."""
    _check_path(path)
    _, h, w, c = (int(v) for v in input_nhwc)
    _, kh, kw, _ = (int(v) for v in filter_ohwi)
    ph, pw = padding_hw
    sh, sw = stride_hw
    dh, dw = dilation_hw
    if ph == 0 and pw == 0 and kh == 1 and kw == 1 and dh == 1 and dw == 1:
        return 0
    col = c * kh * kw
    if path == "mve":
        if h == 1 and dw == 1 and kh == 1 and (sw * c) % 4 == 0:
            return _one_by_n_size_mve(c, w, kw, int(output_nhwc[2]), pw, sw)
        return 4 * _round_up(col, 16)
    return 4 * _round_up(col, 4)


def depthwise_buffer_size(path: str, input_nhwc, filter_1hwc, output_nhwc, padding_hw=(0, 0),
                          stride_hw=(1, 1), dilation_hw=(1, 1), ch_mult: int = 1) -> int:
    """``arm_depthwise_conv_wrapper_s8_get_buffer_size`` of the given path."""
    _check_path(path)
    n, _, _, c = (int(v) for v in input_nhwc)
    _, kh, kw, cout = (int(v) for v in filter_1hwc)
    ph, pw = padding_hw
    opt = ch_mult == 1 and n == 1 and tuple(dilation_hw) == (1, 1)
    if path == "mve":
        if opt:
            return 4 * 124 * kh * kw
        if c == 1 and ch_mult > 1:
            return conv_buffer_size("mve", input_nhwc, (cout, kh, kw, 1), output_nhwc, padding_hw,
                                    stride_hw, dilation_hw) + kh * kw * cout
        return 0
    if path == "dsp":
        if not opt or (kh == 3 and kw == 3 and ph <= 1 and pw <= 1):
            return 0
        return c * kh * kw * 2
    return 0


#: Arm's transpose convolution takes its "reverse" path (an upsampled arm_convolve_s8 on the
#: flipped filter) for both strides <= 2 and more input channels than this (v7.0.0 and main).
REVERSE_TCONV_MIN_C = 17


def transpose_conv_buffer_sizes(path: str, input_nhwc, filter_ohwi, output_nhwc,
                                stride_hw) -> tuple[int, int]:
    """Bytes of ``ctx`` and of ``reverse_conv_ctx`` for ``arm_transpose_conv_wrapper_s8``
    (byoc's kernel needs neither; the sizes are those Arm's v7.0.0 and main need, equal on
    every path). ``ctx`` of Arm's scatter path is what its kernel writes: max(KH, stride.h)
    rows of ((W - 1) * stride.w + max(KW, stride.w)) * C_OUT int32 values, which exceeds
    ``arm_transpose_conv_s8_get_buffer_size`` (it uses stride.h for the row length) when
    stride.w > max(KW, stride.h)."""
    _check_path(path)
    _, _, w, c = (int(v) for v in input_nhwc)
    o, kh, kw, _ = (int(v) for v in filter_ohwi)
    sh, sw = (int(v) for v in stride_hw)
    if sh <= 2 and sw <= 2 and c >= REVERSE_TCONV_MIN_C:
        col = c * kh * kw
        return 4 * _round_up(col, 16 if path == "mve" else 4), col * o
    arm = 4 * max(kh, sh) * ((w - 1) * sw + max(kw, sh)) * int(output_nhwc[3])
    written = 4 * max(kh, sh) * ((w - 1) * sw + max(kw, sw)) * int(output_nhwc[3])
    return max(arm, written), 0


def fully_connected_buffer_size(path: str, out_channels: int) -> int:
    """``arm_fully_connected_s8_get_buffer_size``: the Helium kernel sums (4 bytes per output)."""
    _check_path(path)
    return 4 * int(out_channels) if path == "mve" else 0


def avgpool_buffer_size(path: str, out_width: int, channels: int) -> int:
    """``arm_avgpool_s8_get_buffer_size``: one int32 per channel on the DSP path."""
    _check_path(path)
    del out_width
    return 4 * int(channels) if path == "dsp" else 0


# ---------------------------------------------------------------------------------------
# int16 activations / int8 weights (TFLite 16x8): arguments of the *_s16 kernels
# ---------------------------------------------------------------------------------------

INT16_MIN, INT16_MAX = -32768, 32767
#: TFLite's ADD left shift for int16 operands (20 for int8).
ADD_LEFT_SHIFT_S16 = quant_math.ADD_LEFT_SHIFT_S16


def conv_quant_s16(input_scale: float, weight_scales, output_scale: float,
                   activation: str | None = None) -> ConvQuant:
    """CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED 16x8: zero points are 0, same per-channel
    multipliers as int8, clamp in the int16 range."""
    mult, shift = quant_math.conv_multipliers(input_scale, weight_scales, output_scale)
    lo, hi = quant_math.activation_range(activation, output_scale, 0, INT16_MIN, INT16_MAX)
    return ConvQuant(0, 0, mult, shift, lo, hi)


def pool_activation_s16(activation: str | None, scale: float) -> tuple[int, int]:
    return quant_math.activation_range(activation, scale, 0, INT16_MIN, INT16_MAX)


def add_params_s16(scale1: float, scale2: float, out_scale: float,
                   activation: str | None = None) -> AddParams:
    """TFLite int16 ADD (general path, left shift 15, zero points 0)."""
    p = quant_math.add_params(scale1, scale2, out_scale, ADD_LEFT_SHIFT_S16)
    lo, hi = quant_math.activation_range(activation, out_scale, 0, INT16_MIN, INT16_MAX)
    return AddParams(0, p["in1_multiplier"], p["in1_shift"], 0, p["in2_multiplier"],
                     p["in2_shift"], ADD_LEFT_SHIFT_S16, 0, p["out_multiplier"],
                     p["out_shift"], lo, hi)


def mul_params_s16(scale1: float, scale2: float, out_scale: float,
                   activation: str | None = None) -> MulParams:
    """TFLite int16 MUL (zero points 0)."""
    m, s = quant_math.mul_multiplier(scale1, scale2, out_scale)
    lo, hi = quant_math.activation_range(activation, out_scale, 0, INT16_MIN, INT16_MAX)
    return MulParams(0, 0, 0, m, s, lo, hi)


def softmax_params_s16(input_scale: float, beta: float = 1.0) -> tuple[int, int]:
    """(mult, shift) of ``arm_softmax_s16``: input_scale * beta / (10 / 65535) (the exp LUT
    covers [-10, 0] over the int16 range)."""
    return quant_math.softmax_s16_multiplier(input_scale, beta)


def softmax_luts_s16() -> tuple[np.ndarray, np.ndarray]:
    """(exp_lut, one_by_one_lut) of ``cmsis_nn_softmax_lut_s16``, as TFLite computes them:
    exp(x) on [-10, 0] and 1 / (1 + x) on [0, 1], int16 Q0.15, 513 entries each."""
    return quant_math.softmax_luts_s16()


# ---------------------------------------------------------------------------------------
# Scratch-buffer sizes of the *_s16 kernels (bytes), per kernel path. The values are those of
# Arm's CMSIS-NN size functions for A16W8 (checked against its compiled functions in
# tests/test_cmsis_nn_kernels.py), so that a plan fits either library; byoc's own kernels use
# at most this much.
# ---------------------------------------------------------------------------------------

def conv_buffer_size_s16(path: str, input_nhwc, filter_ohwi, output_nhwc, padding_hw=(0, 0),
                         stride_hw=(1, 1), dilation_hw=(1, 1)) -> int:
    """``arm_convolve_wrapper_s16_get_buffer_size`` of the given path: int16 im2col columns of
    C_IN * KH * KW values, two on the DSP / portable paths, four (rounded up to 8 values) on
    Helium."""
    _check_path(path)
    del output_nhwc, padding_hw, stride_hw, dilation_hw
    c = int(input_nhwc[3])
    _, kh, kw, _ = (int(v) for v in filter_ohwi)
    col = c * kh * kw
    if path == "mve":
        return 4 * 2 * _round_up(col, 8)
    return 2 * 2 * col


def depthwise_buffer_size_s16(path: str, input_nhwc, filter_1hwc, output_nhwc, padding_hw=(0, 0),
                              stride_hw=(1, 1), dilation_hw=(1, 1), ch_mult: int = 1) -> int:
    """``arm_depthwise_conv_wrapper_s16_get_buffer_size`` of the given path: non-zero only for
    channel multiplier 1 without dilation on the DSP (one int16 window of C * KH * KW values)
    and Helium (four windows + 8 bytes) paths."""
    _check_path(path)
    del output_nhwc, padding_hw, stride_hw
    c = int(input_nhwc[3])
    _, kh, kw, _ = (int(v) for v in filter_1hwc)
    if path == "c" or ch_mult != 1 or tuple(dilation_hw) != (1, 1):
        return 0
    if path == "mve":
        return 4 * 2 * c * kh * kw + 8
    return 2 * c * kh * kw


def fully_connected_buffer_size_s16(path: str, out_channels: int = 0) -> int:
    """``arm_fully_connected_s16_get_buffer_size``: 0 on every path."""
    _check_path(path)
    del out_channels
    return 0


def avgpool_buffer_size_s16(path: str, out_width: int, channels: int) -> int:
    """``arm_avgpool_s16_get_buffer_size``: one int32 per channel on the DSP path."""
    _check_path(path)
    del out_width
    return 4 * int(channels) if path == "dsp" else 0


# ---------------------------------------------------------------------------------------
# Batch matmul (arm_batch_matmul_s8 / _s16)
# ---------------------------------------------------------------------------------------

def batch_matmul_batches(lhs_batch, rhs_batch) -> tuple[tuple, tuple, tuple] | None:
    """The batch dimensions of a BATCH_MATMUL as CMSIS-NN's two, ``(n, h)`` per operand and
    for the output: ``(lhs, rhs, out)``, or None when they do not fold into two.

    TFLite allows up to three batch dimensions, broadcast numpy-style; the kernels take n and
    h, each operand's equal to the output's or 1. Output dimensions of size 1 are dropped,
    and adjacent dimensions are merged when both operands broadcast alike over them (each
    operand full on both or 1 on both), which keeps row-major order."""
    rank = max(len(lhs_batch), len(rhs_batch))
    a = (1,) * (rank - len(lhs_batch)) + tuple(int(d) for d in lhs_batch)
    b = (1,) * (rank - len(rhs_batch)) + tuple(int(d) for d in rhs_batch)
    out = tuple(max(x, y) for x, y in zip(a, b))
    groups: list[list[int]] = []           # [lhs, rhs, out] sizes per folded dimension
    for x, y, o in zip(a, b, out):
        if o == 1:
            continue
        kind = (x == o, y == o)
        if groups and groups[-1][3] == kind:
            groups[-1][0] *= x
            groups[-1][1] *= y
            groups[-1][2] *= o
        else:
            groups.append([x, y, o, kind])
    if len(groups) > 2:
        return None
    groups = [[1, 1, 1, None]] * (2 - len(groups)) + groups
    return tuple(tuple(g[i] for g in groups) for i in range(3))


def batch_matmul_s16_exact(depth: int, multiplier: int, shift: int) -> bool:
    """Whether Arm's arm_batch_matmul_s16 equals TFLite's int64 requantization for every
    accumulator of ``depth`` int16 x int16 products (zero points 0, |product| <= 2^30):
    Arm truncates ``acc * reduced >> (14 - shift)`` to 32 bits before its last rounding
    shift, TFLite keeps 64 bits; the two roundings give the same value while it fits
    (at most ``INT32_MAX - 1``: Arm's rounding adds 1 in 32 bits)."""
    try:
        reduced, total = quant_math.reduced_multiplier_s64(multiplier, shift)
    except ValueError:
        return False
    return (int(depth) << 30) * reduced >> (total - 1) <= (1 << 31) - 2


def batch_matmul_scratch(path: str, dtype: str, cols: int, lhs_bytes: int,
                         rhs_bytes: int) -> tuple[int, int, int, int]:
    """Scratch layout of one batch-matmul call: ``(ctx bytes, lhs copy offset, rhs copy
    offset, total)``. ``ctx`` comes first: Arm's Helium s8 kernel writes its kernel sums
    there (4 bytes per output column, ``arm_fully_connected_s8_get_buffer_size`` with c =
    columns; 0 on other paths and for s16). Then the run-time transposed copies of the
    operands the kernel needs in its layout (``lhs_bytes`` for adj_x, ``rhs_bytes`` for a
    computed RHS without adj_y; 0 when not needed), each at a 4-byte aligned offset."""
    ctx = fully_connected_buffer_size(path, cols) if dtype == "int8" else 0
    lhs_off = _round_up(ctx, 4)
    rhs_off = _round_up(lhs_off + int(lhs_bytes), 4)
    total = rhs_off + int(rhs_bytes)
    return ctx, lhs_off, rhs_off, (total if lhs_bytes or rhs_bytes else ctx)
