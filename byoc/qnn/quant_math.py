"""TFLite/TFLM integer quantization arithmetic: compile-time multiplier computation and
numpy reference implementations.

Conventions
-----------
* A real multiplier ``m`` is represented as ``(multiplier, shift)`` with ``multiplier`` an
  int32 Q0.31 value in [2^30, 2^31) (or 0) and ``shift`` a power-of-two exponent where a
  POSITIVE shift means a LEFT shift:  m ~= multiplier * 2^(shift - 31).
* All numpy helpers work on int64 arrays holding int32 values and reproduce the int32
  C semantics of TFLite's reference kernels exactly (including the int32 wrap-around of
  ``x * (1 << left_shift)``, which real models never trigger).

The formulas are the documented TFLite ones (``QuantizeMultiplier``,
``MultiplyByQuantizedMultiplier`` = SaturatingRoundingDoublingHighMul followed by
RoundingDivideByPOT, i.e. TFLM's default "double rounding" mode).
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


# ---------------------------------------------------------------------------------------
# Compile-time multipliers
# ---------------------------------------------------------------------------------------

def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite ``QuantizeMultiplier``: real (a double) -> (int32 multiplier, shift).

    ``real = q * 2^shift`` with ``q`` in [0.5, 1) (frexp); ``multiplier = round(q * 2^31)``
    with rounding half away from zero (std::round). When rounding reaches 2^31 the
    multiplier is halved and the shift incremented. Multipliers so small that
    ``shift < -31`` become (0, 0). Shift positive = left shift.
    """
    real = float(real)
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    # std::round: half away from zero (q*2^31 is exact in double, no double rounding)
    q_fixed = int(math.floor(abs(q) * (1 << 31) + 0.5))
    if q < 0:
        q_fixed = -q_fixed
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift = 0
        q_fixed = 0
    return int(q_fixed), int(shift)


def quantize_multiplier_array(reals) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`quantize_multiplier` -> (int32 multipliers, int32 shifts)."""
    reals = np.asarray(reals, np.float64).reshape(-1)
    out = [quantize_multiplier(r) for r in reals]
    mult = np.asarray([m for m, _ in out], np.int32)
    shift = np.asarray([s for _, s in out], np.int32)
    return mult, shift


def conv_multipliers(input_scale: float, weight_scales, output_scale: float):
    """Per-channel requantization of a conv/depthwise/FC accumulator.

    TFLite computes ``double(input_scale) * double(weight_scale[c]) / double(output_scale)``
    from the float32 scales (``PopulateConvolutionQuantizationParams``).
    Returns (int32 multipliers, int32 shifts), one per entry of ``weight_scales``.
    """
    ws = np.asarray(weight_scales, np.float32).astype(np.float64).reshape(-1)
    reals = np.float64(np.float32(input_scale)) * ws / np.float64(np.float32(output_scale))
    return quantize_multiplier_array(reals)


def f32(x) -> float:
    """The double value of ``x`` rounded to float32 (scales are float32 in TFLite)."""
    return float(np.float32(x))


# ---------------------------------------------------------------------------------------
# Fixed-point primitives (numpy, int64 arrays holding int32 values)
# ---------------------------------------------------------------------------------------

def wrap_int32(x) -> np.ndarray:
    """Two's complement wrap of int64 values to the int32 range."""
    x = np.asarray(x, np.int64)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _trunc_div(a: np.ndarray, b: int) -> np.ndarray:
    """C integer division (truncation toward zero) of int64 arrays by a positive int."""
    a = np.asarray(a, np.int64)
    q = np.abs(a) // b
    return np.where(a < 0, -q, q)


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    """gemmlowp SRDHM: round(a * b / 2^31) with TFLite's nudge, saturating INT_MIN*INT_MIN."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    res = _trunc_div(ab + nudge, 1 << 31)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(overflow, INT32_MAX, res).astype(np.int64)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero."""
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> exponent) + (remainder > threshold).astype(np.int64)


def multiply_by_quantized_multiplier(x, multiplier, shift) -> np.ndarray:
    """TFLite ``MultiplyByQuantizedMultiplier`` (double rounding) on int32 values.

    ``x * (1 << left_shift)`` wraps like int32 in C (the models we meet never overflow).
    ``multiplier``/``shift`` broadcast against ``x`` (per-channel arrays allowed).
    """
    x = np.asarray(x, np.int64)
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(wrap_int32(x << left), multiplier), right)


def saturating_left_shift(x, exponent: int) -> np.ndarray:
    """gemmlowp SaturatingRoundingMultiplyByPOT with a positive exponent."""
    x = np.asarray(x, np.int64)
    threshold = (1 << (31 - exponent)) - 1
    r = wrap_int32(x << exponent)
    r = np.where(x > threshold, INT32_MAX, r)
    return np.where(x < -threshold, INT32_MIN, r)


def rounding_half_sum(a, b) -> np.ndarray:
    """gemmlowp RoundingHalfSum for int32: (a + b + sign) / 2 truncated."""
    s = np.asarray(a, np.int64) + np.asarray(b, np.int64)
    return _trunc_div(s + np.where(s >= 0, 1, -1), 2)


def count_leading_zeros_u32(x) -> np.ndarray:
    """CLZ of the uint32 bit pattern of int32 values (32 for zero)."""
    x = np.asarray(x, np.int64) & 0xFFFFFFFF
    out = np.full(x.shape, 32, np.int64)
    for k in range(32):
        out = np.where(x >= (np.int64(1) << k), 31 - k, out)
    return out


# ---------------------------------------------------------------------------------------
# Activation ranges and rounding helpers
# ---------------------------------------------------------------------------------------

def tflite_round(x) -> np.ndarray:
    """TfLiteRound / std::round: half away from zero (works on float32 or float64)."""
    x = np.asarray(x)
    return np.sign(x) * np.floor(np.abs(x) + x.dtype.type(0.5))


def activation_range(activation: str | None, scale: float, zero_point: int,
                     qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """TFLite ``CalculateActivationRangeQuantized``: clamp bounds in the quantized domain.

    ``quantize(f) = zero_point + round_half_away(f / scale)`` computed in float32, like
    TFLite. ``activation`` is None/"NONE", "RELU", "RELU6" or "RELU_N1_TO_1".
    """
    s = np.float32(scale)

    def q(f: float) -> int:
        return int(zero_point) + int(tflite_round(np.float32(f) / s))

    if activation in (None, "NONE"):
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, q(0.0)), qmax
    if activation == "RELU6":
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    raise ValueError(f"unknown activation {activation!r}")


def requantize_ref(x, in_zp: int, multiplier, shift, out_zp: int,
                   qmin: int = -128, qmax: int = 127) -> np.ndarray:
    """TFLM int8->int8 QUANTIZE (Requantize): MBQM(x - in_zp) + out_zp, clamped."""
    x = np.asarray(x, np.int64) - in_zp
    y = multiply_by_quantized_multiplier(x, multiplier, shift) + out_zp
    return np.clip(y, qmin, qmax).astype(np.int8)


def requantize_multiplier(input_scale: float, output_scale: float) -> tuple[int, int]:
    """TFLM QUANTIZE int8->int8: double(in_scale) / double(out_scale)."""
    return quantize_multiplier(f32(input_scale) / f32(output_scale))


# ---------------------------------------------------------------------------------------
# ADD / MUL parameters (TFLM add.cc / mul.cc Prepare)
# ---------------------------------------------------------------------------------------

ADD_LEFT_SHIFT = 20  # int8 ADD: inputs are shifted left by 20 before rescaling
ADD_LEFT_SHIFT_S16 = 15  # int16 ADD (TFLM's general int16 path)


def add_params(scale1: float, scale2: float, out_scale: float,
               left_shift: int = ADD_LEFT_SHIFT) -> dict:
    """Multipliers of TFLite's quantized ADD (int8: left_shift 20; int16: 15).

    twice_max = 2 * max(s1, s2); input multipliers s_i / twice_max; output multiplier
    twice_max / (2^left_shift * s_out); all in double from the float32 scales.
    """
    s1, s2, so = f32(scale1), f32(scale2), f32(out_scale)
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * so))
    return dict(left_shift=left_shift, in1_multiplier=m1, in1_shift=sh1,
                in2_multiplier=m2, in2_shift=sh2, out_multiplier=mo, out_shift=sho)


def add_ref(a, b, a_zp, b_zp, out_zp, p: dict, act_min=-128, act_max=127) -> np.ndarray:
    """TFLM int8 ADD on broadcast numpy arrays."""
    a = (np.asarray(a, np.int64) - a_zp) << p["left_shift"]
    b = (np.asarray(b, np.int64) - b_zp) << p["left_shift"]
    sa = multiply_by_quantized_multiplier(a, p["in1_multiplier"], p["in1_shift"])
    sb = multiply_by_quantized_multiplier(b, p["in2_multiplier"], p["in2_shift"])
    raw = multiply_by_quantized_multiplier(sa + sb, p["out_multiplier"], p["out_shift"]) + out_zp
    return np.clip(raw, act_min, act_max).astype(np.int8)


def mul_multiplier(scale1: float, scale2: float, out_scale: float) -> tuple[int, int]:
    """TFLite quantized MUL: double(s1) * double(s2) / double(s_out)."""
    return quantize_multiplier(f32(scale1) * f32(scale2) / f32(out_scale))


def mul_ref(a, b, a_zp, b_zp, out_zp, multiplier, shift, act_min=-128, act_max=127):
    """TFLM int8 MUL on broadcast numpy arrays."""
    prod = (np.asarray(a, np.int64) - a_zp) * (np.asarray(b, np.int64) - b_zp)
    raw = multiply_by_quantized_multiplier(prod, multiplier, shift) + out_zp
    return np.clip(raw, act_min, act_max).astype(np.int8)


def round_div_away(acc, count) -> np.ndarray:
    """TFLM's rounded average: (acc +- count/2) / count with C truncating division."""
    acc = np.asarray(acc, np.int64)
    count = np.asarray(count, np.int64)
    half = count // 2
    num = np.where(acc > 0, acc + half, acc - half)
    q = np.abs(num) // count
    return np.where(num < 0, -q, q)


# ---------------------------------------------------------------------------------------
# MEAN (TFLM reduce: integer QuantizedMeanOrSum)
# ---------------------------------------------------------------------------------------

def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """Requantization multiplier of TFLM's int8 MEAN over ``count`` elements.

    TFLM folds 1/count into the in/out multiplier: with (m, s) = QuantizeMultiplier(
    in_scale / out_scale) and k = min(floor(log2(count)), 32, 31 + s), the mean uses
    multiplier ``(m << k) // count`` (int64, truncating) and shift ``s - k``, applied to
    ``sum(x) - in_zp * count``. (Measured bit-exact against TFLM for every axis set.)
    """
    m, s = quantize_multiplier(f32(input_scale) / f32(output_scale))
    k = min(int(count).bit_length() - 1, 32, 31 + s)
    return int((m << k) // count), int(s - k)


def mean_ref(x, axes, keep_dims, in_zp, in_scale, out_zp, out_scale) -> np.ndarray:
    """TFLM int8 MEAN on a numpy array."""
    axes = tuple(a % x.ndim for a in axes)
    count = int(np.prod([x.shape[a] for a in axes]))
    m, s = mean_multiplier(in_scale, out_scale, count)
    acc = np.asarray(x, np.int64).sum(axis=axes, keepdims=keep_dims) - in_zp * count
    return np.clip(multiply_by_quantized_multiplier(acc, m, s) + out_zp, -128, 127).astype(np.int8)


# ---------------------------------------------------------------------------------------
# SOFTMAX (int8 in, int8 out; gemmlowp fixed point as used by TFLite/TFLM)
# ---------------------------------------------------------------------------------------

SOFTMAX_SCALED_DIFF_INT_BITS = 5    # exp() input is Q5.26
SOFTMAX_ACCUM_INT_BITS = 12         # sum of exps is Q12.19

# exp(-2^k) for k = -2..4 in Q0.31 (round(exp(-2^k) * 2^31)): the barrel shifter factors.
EXP_BARREL = [(-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
              (2, 39332535), (3, 720401), (4, 242)]
EXP_MINUS_ONE_EIGHTH_Q31 = 1895147668   # exp(-1/8)
ONE_THIRD_Q31 = 715827883               # 1/3
FORTY_EIGHT_17THS_Q2 = 1515870810       # 48/17 in Q2.29
NEG_THIRTY_TWO_17THS_Q2 = -1010580540   # -32/17 in Q2.29


def softmax_params(input_scale: float, beta: float = 1.0) -> dict:
    """TFLite ``PreprocessSoftmaxScaling`` + ``CalculateInputRadius`` for int8 softmax.

    real = min(beta * in_scale * 2^(31 - 5), 2^31 - 1) quantized with QuantizeMultiplier
    (shift >= 0 is the left shift); diff_min = -floor((2^5 - 1) * 2^26 / 2^shift).
    """
    ib = SOFTMAX_SCALED_DIFF_INT_BITS
    real = min(float(beta) * f32(input_scale) * float(1 << (31 - ib)), float((1 << 31) - 1))
    mult, shift = quantize_multiplier(real)
    radius = math.floor(((1 << ib) - 1) * float(1 << (31 - ib)) / float(1 << shift))
    return dict(multiplier=mult, left_shift=shift, diff_min=-int(radius))


def softmax_s16_multiplier(input_scale: float, beta: float = 1.0) -> tuple[int, int]:
    """TFLM int16 softmax: (multiplier, shift) of input_scale * beta / (10 / 65535), so that
    the int16 range of scaled differences covers the exp LUT's [-10, 0]."""
    return quantize_multiplier(f32(input_scale) * f32(beta) / (10.0 / 65535.0))


def _fx_mul(a, b):
    return saturating_rounding_doubling_high_mul(a, b)


def exp_on_interval_q0(a):
    """exp(a) for a in [-1/4, 0) (Q0.31 in and out): Taylor expansion around -1/8."""
    x = a + (1 << 28)                                  # a + 1/8
    x2 = _fx_mul(x, x)
    x3 = _fx_mul(x2, x)
    x4 = _fx_mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = rounding_divide_by_pot(_fx_mul(x4_over_4 + x3, ONE_THIRD_Q31) + x2, 1)
    return EXP_MINUS_ONE_EIGHTH_Q31 + _fx_mul(EXP_MINUS_ONE_EIGHTH_Q31, x + poly)


def exp_on_negative_values_q5(a):
    """exp(a) for a <= 0 in Q5.26, result in Q0.31 (gemmlowp exp_on_negative_values)."""
    a = np.asarray(a, np.int64)
    frac_bits = 31 - SOFTMAX_SCALED_DIFF_INT_BITS            # 26
    quarter = 1 << (frac_bits - 2)
    a_mod_q_minus_q = (a & (quarter - 1)) - quarter          # in [-1/4, 0)
    result = exp_on_interval_q0(saturating_left_shift(a_mod_q_minus_q, SOFTMAX_SCALED_DIFF_INT_BITS))
    remainder = a_mod_q_minus_q - a                          # >= 0: the multiple of 1/4 removed
    for exponent, mult in EXP_BARREL:
        if SOFTMAX_SCALED_DIFF_INT_BITS > exponent:
            bit = (remainder >> (frac_bits + exponent)) & 1
            result = np.where(bit != 0, _fx_mul(result, mult), result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x_q0(a):
    """1/(1+x) for x in [0,1) (Q0.31 in and out), Newton-Raphson in Q2.29."""
    half_den = rounding_half_sum(a, INT32_MAX)
    x = FORTY_EIGHT_17THS_Q2 + _fx_mul(half_den, NEG_THIRTY_TWO_17THS_Q2)
    for _ in range(3):
        one_minus = (1 << 29) - _fx_mul(half_den, x)
        x = x + saturating_left_shift(_fx_mul(x, one_minus), 2)
    return saturating_left_shift(x, 1)


def reciprocal_q0(sum_q12):
    """TFLite ``GetReciprocal`` for a positive Q12.19 sum -> (Q0.31 scale, num_bits_over_unit)."""
    s = np.asarray(sum_q12, np.int64)
    headroom_plus_one = count_leading_zeros_u32(s)
    bits_over_unit = SOFTMAX_ACCUM_INT_BITS - headroom_plus_one
    shifted_minus_one = wrap_int32(((s << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31))
    return one_over_one_plus_x_q0(shifted_minus_one), bits_over_unit


def softmax_ref(x, params: dict, out_zp: int = -128) -> np.ndarray:
    """TFLM int8 softmax over the last axis (output scale 1/256, zero point -128)."""
    x = np.asarray(x, np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    valid = diff >= params["diff_min"]
    scaled = saturating_rounding_doubling_high_mul(diff << params["left_shift"],
                                                   params["multiplier"])
    exps = exp_on_negative_values_q5(scaled)
    exps_q12 = rounding_divide_by_pot(exps, SOFTMAX_ACCUM_INT_BITS)
    total = np.where(valid, exps_q12, 0).sum(axis=-1, keepdims=True)
    scale, bits = reciprocal_q0(total)
    out = rounding_divide_by_pot(_fx_mul(scale, exps), bits + 31 - 8) + out_zp
    out = np.clip(out, -128, 127)
    return np.where(valid, out, -128).astype(np.int8)


# ---------------------------------------------------------------------------------------
# int16 activations (TFLite "16x8"): 64-bit requantization and the SOFTMAX lookup tables
# ---------------------------------------------------------------------------------------

INT16_MIN = -(1 << 15)
INT16_MAX = (1 << 15) - 1


def reduced_multiplier_s64(multiplier: int, shift: int) -> tuple[int, int]:
    """(reduced multiplier, total right shift) of TFLite's int64 ``MultiplyByQuantizedMultiplier``.

    The Q0.31 multiplier is rounded to Q0.15 (``(m + 2^15) >> 16``, or 0x7FFF when that
    would reach 2^15) and the shift becomes the right shift ``15 - shift`` applied after
    the 64-bit product. Raises ValueError when that right shift is not in [1, 62]."""
    m = int(multiplier)
    reduced = (m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF
    total = 15 - int(shift)
    if not 1 <= total <= 62:
        raise ValueError(f"int64 requantization shift {shift} out of range")
    return reduced, total


def multiply_by_quantized_multiplier_s64(x, multiplier, shift) -> np.ndarray:
    """TFLite's int64 ``MultiplyByQuantizedMultiplier`` (16x8 accumulators): round-half-up
    ``x * reduced >> total`` in int64, then truncated to int32. Per-channel arrays allowed."""
    x = np.asarray(x, np.int64)
    pairs = [reduced_multiplier_s64(m, s) for m, s in
             zip(np.atleast_1d(multiplier).reshape(-1), np.atleast_1d(shift).reshape(-1))]
    red = np.asarray([p[0] for p in pairs], np.int64)
    tot = np.asarray([p[1] for p in pairs], np.int64)
    if np.ndim(multiplier) == 0:
        red, tot = red[0], tot[0]
    r = (x * red + (np.int64(1) << (tot - 1))) >> tot
    return wrap_int32(r)


def lut_s16(func, input_min: float, input_max: float) -> np.ndarray:
    """TFLite's 513-entry int16 lookup table of ``func`` on [input_min, input_max] (output
    range [-1, 1] as Q0.15), computed like TFLite in float32.

    Entry i samples ``func`` at ``input_min + i * step`` (step = range / 512) and is
    corrected by half the error the linear interpolation makes at the segment's midpoint,
    so that the interpolated lookup errs symmetrically; entry 512 is the plain sample at
    ``input_max`` (used only for the slope of the last segment). Rounding is half away
    from zero; entries saturate to the int16 range."""
    f = np.float32
    n = 512
    lo, hi = f(input_min), f(input_max)
    step = f((hi - lo) / f(n))
    half_step = f(step / f(2))
    q_one = f(32768.0)

    def q(v) -> np.float32:
        return f(tflite_round(f(v)))

    def sat(v) -> int:
        return int(min(max(f(v), f(INT16_MIN)), f(INT16_MAX)))

    table = np.empty(n + 1, np.int16)
    for i in range(n):
        x0 = f(lo + f(f(i) * step))
        x1 = f(lo + f(f(i + 1) * step))
        y0 = q(f(f(func(x0)) * q_one))
        y_mid = q(f(f(func(f(x0 + half_step))) * q_one))
        y_interp = q(f(f(f(f(func(x1)) * q_one) + y0) / f(2)))
        correction = q(f(f(y_interp - y_mid) / f(2)))
        table[i] = sat(f(y0 - correction))
    table[n] = sat(q(f(f(func(hi)) * q_one)))
    return table


_SOFTMAX_LUTS: tuple[np.ndarray, np.ndarray] | None = None


def softmax_luts_s16() -> tuple[np.ndarray, np.ndarray]:
    """(exp table on [-10, 0], 1/(1+x) table on [0, 1]) of TFLite's int16 SOFTMAX, int16
    Q0.15, 513 entries each (computed once; callers get copies)."""
    global _SOFTMAX_LUTS
    if _SOFTMAX_LUTS is None:
        one = np.float32(1.0)
        _SOFTMAX_LUTS = (lut_s16(lambda v: np.exp(np.float32(v)), -10.0, 0.0),
                         lut_s16(lambda v: one / (one + np.float32(v)), 0.0, 1.0))
    return _SOFTMAX_LUTS[0].copy(), _SOFTMAX_LUTS[1].copy()


def lut_lookup_s16(value, table) -> np.ndarray:
    """TFLite's interpolated int16 table lookup: entry ``256 + (v >> 7)`` plus the slope
    times the low 7 bits, rounded (``+ 64 >> 7``)."""
    v = np.asarray(value, np.int64)
    t = np.asarray(table, np.int64)
    idx = 256 + (v >> 7)
    base = t[idx]
    slope = t[idx + 1] - base
    return base + ((slope * (v & 0x7F) + 64) >> 7)


def softmax_s16_ref(x, multiplier: int, shift: int) -> np.ndarray:
    """TFLM int16 SOFTMAX over the last axis (output scale 1/32768, zero point 0)."""
    exp_lut, recip_lut = softmax_luts_s16()
    x = np.asarray(x, np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    scaled = multiply_by_quantized_multiplier(diff, multiplier, shift) + INT16_MAX
    e = lut_lookup_s16(np.clip(scaled, INT16_MIN, INT16_MAX), exp_lut)
    total = e.sum(axis=-1, keepdims=True)
    hpo = count_leading_zeros_u32(total)
    shifted = ((total << (hpo - 1)) + (1 << 13)) >> 14
    sym = np.clip(shifted - ((1 << 15) + (1 << 16)), INT16_MIN, INT16_MAX)
    recip = lut_lookup_s16(sym, recip_lut)
    rs = 31 - hpo
    out = (e * recip + (np.int64(1) << (rs - 1))) >> rs
    return np.clip(out, 0, INT16_MAX).astype(np.int16)


# ---------------------------------------------------------------------------------------
# LOGISTIC / TANH (int8): gemmlowp fixed point on a Q4.27 input
# ---------------------------------------------------------------------------------------

#: Integer bits of the fixed-point input of TFLM's int8 LOGISTIC and TANH.
SIGMOID_INPUT_INT_BITS = 4


def sigmoid_input_params(input_scale: float) -> tuple[int, int, int]:
    """TFLM's int8 LOGISTIC/TANH preparation: ``(input_multiplier, input_left_shift,
    input_range_radius)`` for an input of ``input_scale``. The real multiplier
    ``scale * 2^27`` is split with frexp (mantissa rounded half away to Q0.31); inputs whose
    magnitude (minus the zero point) reaches the radius saturate the output.
    Raises ValueError when the shift is not in [0, 30] (scale outside about [4e-9, 8])."""
    ib = SIGMOID_INPUT_INT_BITS
    real = f32(input_scale) * float(1 << (31 - ib))
    mantissa, exponent = math.frexp(real)
    multiplier = int(tflite_round(mantissa * float(1 << 31)))
    if not 0 <= exponent <= 30 or multiplier >= 1 << 31:
        raise ValueError(f"input scale {input_scale} out of the supported range")
    radius = math.floor(1.0 * ((1 << ib) - 1) * float(1 << (31 - ib)) / float(1 << exponent))
    return multiplier, exponent, radius



# ---------------------------------------------------------------------------------------
# LOGISTIC / TANH (int16): interpolation in a 256-point logistic table
# ---------------------------------------------------------------------------------------

#: 65536 / (1 + exp(-i / 24)) for i in 0..255 as TFLite's int16 LOGISTIC / TANH tabulate it
#: (the last entry clipped to 65535; a few entries differ by one from rounding the formula),
#: measured from TFLM's int16 TANH; the same table as kernels_c's arm_nn_activation_s16.c
#: (tests/test_int16_activation.py checks both against TFLM and each other).
SIGMOID_TABLE_U16: tuple[int, ...] = (
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535,
)

#: Largest input multiplier TFLM's int16 LOGISTIC / TANH admit (its Prepare checks it in
#: debug builds only; beyond it the int32 product ``x * multiplier`` can overflow).
ACTIVATION_S16_MAX_MULTIPLIER = 32767


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLite ``CheckedLog2`` (float32 arithmetic): (is ``x`` within 1e-3 of a power of two
    in log2, that power rounded half away from zero)."""
    lg = np.float32(np.log(np.float32(x))) * np.float32(1.0 / np.log(np.float32(2.0)))
    rounded = np.float32(np.sign(lg) * np.floor(np.abs(lg) + np.float32(0.5)))
    return bool(abs(np.float32(lg - rounded)) < np.float32(1e-3)), int(rounded)


def activation_s16_params(input_scale: float, tanh: bool) -> tuple[int, int]:
    """TFLM's int16 LOGISTIC / TANH preparation as the kernel uses it: ``(multiplier,
    right_shift)`` with the table-scale input ``(x * multiplier + 2^(right_shift-1)) >>
    right_shift`` (1/(3 * 4096) per unit; no rounding term when the shift is 0).

    A power-of-two scale 2^-12 (TANH also 2^-11; within CheckedLog2's tolerance) gives
    ``(3 << (12 + log2 scale), 0)``. Any other scale: ``scale * 4096 * 3`` (double) doubled
    until above 32767 / 2 or 31 doublings, truncated. Raises ValueError where TFLM's
    arithmetic breaks: a multiplier above 32767 (input scale above about 2.67, the int32
    product overflows) or of 0 (a scale below about 4e-14)."""
    pot, log2 = checked_log2(input_scale)
    shift = 12 + log2
    if pot and (shift in (0, 1) if tanh else shift == 0):
        return 3 << shift, 0
    multiplier = f32(input_scale) * 4096.0 * 3.0
    shift = 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    m = int(multiplier)
    if not 0 < m <= ACTIVATION_S16_MAX_MULTIPLIER:
        raise ValueError(f"input scale {input_scale} gives TFLM's input multiplier {m} "
                         f"(its kernel needs 1..{ACTIVATION_S16_MAX_MULTIPLIER})")
    return m, shift


def activation_s16_left_shift(multiplier: int, right_shift: int) -> int | None:
    """The ``left_shift`` of CMSIS-NN's ``arm_nn_activation_s16`` that computes the same
    table-scale input as TFLM's ``(multiplier, right_shift)``, or None when there is none.

    Arm's kernel scales by ``3 << left_shift`` (``left_shift`` >= 0) or ``(3x + 2^(-l-1)) >>
    -l``; TFLM's ``(x * 3 * 2^j + 2^(s-1)) >> s`` is exactly that with ``l = j - s`` (the
    rounding term divides out, or is below one unit when ``s <= j``). A multiplier that is
    not 3 * 2^j (any input scale not 2^k / 4096 up to float truncation) has no such shift."""
    j = 0
    while multiplier > 3 and multiplier % 2 == 0:
        multiplier //= 2
        j += 1
    return j - right_shift if multiplier == 3 else None


def downscale_multiplier_s16(multiplier: int) -> int:
    """TFLite ``DownScaleInt32ToInt16Multiplier``: a Q0.31 multiplier rounded to Q0.15
    (``(m + 2^15) >> 16``; 32767 when that would overflow)."""
    if multiplier >= INT32_MAX - (1 << 15):
        return INT16_MAX
    return (int(multiplier) + (1 << 15)) >> 16


#: SQUARED_DIFFERENCE shifts its int8 inputs left by 7 before rescaling them.
SQUARED_DIFFERENCE_LEFT_SHIFT = 7


def squared_difference_params(scale1: float, scale2: float, out_scale: float) -> dict:
    """TFLM SQUARED_DIFFERENCE (int8) multipliers: inputs s_i / (2 max(s1, s2)); output
    (2 max)^2 / (2^(2*7) * s_out); in double from the float32 scales."""
    s1, s2, so = f32(scale1), f32(scale2), f32(out_scale)
    shift = SQUARED_DIFFERENCE_LEFT_SHIFT
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max * twice_max / ((1 << (2 * shift)) * so))
    return dict(left_shift=shift, in1_multiplier=m1, in1_shift=sh1,
                in2_multiplier=m2, in2_shift=sh2, out_multiplier=mo, out_shift=sho)


# ---------------------------------------------------------------------------------------
# RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR source coordinates (TFLM reference)
# ---------------------------------------------------------------------------------------

def resize_nearest_sources(in_size: int, out_size: int, align_corners: bool,
                           half_pixel_centers: bool) -> np.ndarray:
    """TFLM ``GetNearestNeighbor`` for every output coordinate (float32 arithmetic like
    TFLM): int32 [out_size] source indices."""
    f = np.float32
    if align_corners and out_size > 1:
        scale = f(in_size - 1) / f(out_size - 1)
    else:
        scale = f(in_size) / f(out_size)
    offset = f(0.5) if half_pixel_centers else f(0.0)
    out = np.empty(out_size, np.int32)
    for i in range(out_size):
        v = (f(i) + offset) * scale
        src = int(tflite_round(v)) if align_corners else int(np.floor(v))
        src = min(src, in_size - 1)
        out[i] = max(0, src) if half_pixel_centers else src
    return out


def _trunc_div_int(a: int, b: int) -> int:
    """C integer division (truncation toward zero) of Python ints, b > 0."""
    return -((-a) // b) if a < 0 else a // b


def resize_bilinear_sources(in_size: int, out_size: int, align_corners: bool,
                            half_pixel_centers: bool):
    """TFLM ``ResizeBilinearInteger`` per output coordinate: (lower source, upper source,
    upper weight in 1/1024), each int32 [out_size]; the lower weight is 1024 - upper."""
    scale = ((1 << 10) * in_size + out_size // 2) // out_size
    if align_corners and out_size > 1:
        scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    lo, hi, w = (np.empty(out_size, np.int32) for _ in range(3))
    for i in range(out_size):
        v = i * scale + (scale // 2 - (1 << 9) if half_pixel_centers else 0)
        lo[i] = max(_trunc_div_int(v, 1 << 10), 0)
        hi[i] = min(_trunc_div_int(v + (1 << 10) - 1, 1 << 10), in_size - 1)
        w[i] = v - (1 << 10) * int(lo[i])
    return lo, hi, w
