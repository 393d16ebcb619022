/*
 * Internal/byoc_nn_support.h - byoc-only helpers shared by the kernels (not part of the API the
 * generated code calls).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Fixed-point arithmetic follows TFLite's reference integer kernels ("double rounding"):
 *   requantize(x, m, s) = RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x << max(s, 0), m),
 *                                             max(-s, 0))
 * SaturatingRoundingDoublingHighMul(a, b) rounds a*b/2^31 to nearest with ties away from zero,
 * which equals floor((a*b + 2^30) / 2^31) (the Helium VQRDMULH result) for every input pair.
 * RoundingDivideByPOT rounds to nearest with ties away from zero.
 */
#ifndef BYOC_NN_SUPPORT_H
#define BYOC_NN_SUPPORT_H

#include "arm_nn_math_types.h"
#include "arm_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LEFT_SHIFT(_shift) ((_shift) > 0 ? (_shift) : 0)
#define RIGHT_SHIFT(_shift) ((_shift) > 0 ? 0 : -(_shift))
#ifndef MAX
    #define MAX(A, B) ((A) > (B) ? (A) : (B))
#endif
#ifndef MIN
    #define MIN(A, B) ((A) < (B) ? (A) : (B))
#endif
#define CLAMP(x, h, l) MAX(MIN((x), (h)), (l))

/* --------------------------------------------------------------------------------------------
 * Scalar fixed point
 * ------------------------------------------------------------------------------------------ */

/** Round-to-nearest a*b/2^31 (TFLite SaturatingRoundingDoublingHighMul). */
ARM_NN_INLINE int32_t byoc_nn_doubling_high_mult(const int32_t a, const int32_t b)
{
    if (a == NN_Q31_MIN && b == NN_Q31_MIN)
    {
        return NN_Q31_MAX;
    }
    const int64_t prod = (int64_t)a * (int64_t)b + ((int64_t)1 << 30);
    return (int32_t)(prod >> 31);
}

/** x / 2^exponent rounded to nearest, ties away from zero (exponent in [0, 31]). */
ARM_NN_INLINE int32_t byoc_nn_divide_by_power_of_two(const int32_t x, const int32_t exponent)
{
    const int32_t mask = (int32_t)((1u << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** x * 2^exponent with int32 wrap-around (TFLite's `x * (1 << shift)`). */
ARM_NN_INLINE int32_t byoc_nn_shl_wrap(const int32_t x, const int32_t exponent)
{
    return (int32_t)((uint32_t)x << exponent);
}

/** TFLite MultiplyByQuantizedMultiplier: requantize an int32 accumulator. */
ARM_NN_INLINE int32_t byoc_nn_requantize(const int32_t val, const int32_t multiplier, const int32_t shift)
{
    return byoc_nn_divide_by_power_of_two(
        byoc_nn_doubling_high_mult(byoc_nn_shl_wrap(val, LEFT_SHIFT(shift)), multiplier), RIGHT_SHIFT(shift));
}

/** Saturating x * 2^exponent for 0 <= exponent < 31 (gemmlowp SaturatingRoundingMultiplyByPOT). */
ARM_NN_INLINE int32_t byoc_nn_sat_shl(const int32_t x, const int32_t exponent)
{
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold)
    {
        return NN_Q31_MAX;
    }
    if (x < -threshold)
    {
        return NN_Q31_MIN;
    }
    return byoc_nn_shl_wrap(x, exponent);
}

ARM_NN_INLINE int8_t byoc_nn_clamp_s8(const int32_t x, const int32_t lo, const int32_t hi)
{
    return (int8_t)(x < lo ? lo : (x > hi ? hi : x));
}

/** Requantization constants of one channel, derived once and reused for many outputs. */
typedef struct
{
    int32_t mult;
    int32_t left;  /* left shift before the multiply */
    int32_t right; /* rounding right shift after it */
    int32_t mask;  /* (1 << right) - 1 */
    int32_t half;  /* mask >> 1 */
} byoc_nn_quant;

ARM_NN_INLINE byoc_nn_quant byoc_nn_quant_of(const int32_t multiplier, const int32_t shift)
{
    byoc_nn_quant q;
    q.mult = multiplier;
    q.left = LEFT_SHIFT(shift);
    q.right = RIGHT_SHIFT(shift);
    q.mask = (int32_t)((1u << q.right) - 1u);
    q.half = q.mask >> 1;
    return q;
}

#if defined(__thumb__) && defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 1
/**
 * Armv6-M (no 32 x 32 -> 64 multiply; GCC calls __aeabi_lmul for int64 products):
 * (x * m + 2^30) >> 31, the doubling high multiply, for 0 <= m < 2^31 from four 32-bit
 * products of 16-bit halves. With x = xh * 2^16 + xl, m = mh * 2^16 + ml (xl, ml, mh unsigned,
 * xh signed), a = xh*mh, b = xh*ml, c = xl*mh, d = xl*ml = dh * 2^16 + dl:
 *   x*m + 2^30 = a * 2^32 + (b + c + dh + 2^14) * 2^16 + dl, and since dl < 2^16,
 *   floor((x*m + 2^30) / 2^31) = 2a + floor((b + c + dh + 2^14) / 2^15)
 *                              = 2a + (b >> 15) + (((b & (2^15 - 1)) + c + dh + 2^14) >> 15),
 * where every term fits 32 bits (|a| < 2^30, |b| < 2^31, 0 <= c < 2^31, the last sum < 2^32
 * unsigned). Exact for every x.
 */
ARM_NN_INLINE int32_t byoc_nn_high_mult_t1(const int32_t x, const uint32_t m)
{
    const uint32_t mh = m >> 16, ml = m & 0xFFFFu;
    const int32_t xh = x >> 16;
    const uint32_t xl = (uint32_t)x & 0xFFFFu;
    const int32_t a = xh * (int32_t)mh;
    const int32_t b = xh * (int32_t)ml;
    const uint32_t c = xl * mh;
    const uint32_t d = xl * ml;
    const uint32_t s = ((uint32_t)b & 0x7FFFu) + c + (d >> 16) + (1u << 14);
    return (int32_t)((uint32_t)a * 2u + (uint32_t)(b >> 15) + (s >> 15));
}
#endif

/**
 * byoc_nn_requantize without branches, plus the output offset and the activation clamp.
 * Valid for multiplier != INT32_MIN (the saturating case of the doubling multiply, which TFLite's
 * QuantizeMultiplier never produces; callers check and use byoc_nn_requantize otherwise).
 */
ARM_NN_INLINE int8_t byoc_nn_out_q(const int32_t acc, const byoc_nn_quant q, const int32_t dst_offset,
                                   const int32_t act_min, const int32_t act_max)
{
    const int32_t x = (int32_t)((uint32_t)acc << q.left);
#if defined(__thumb__) && defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 1
    const int32_t t = q.mult >= 0 ? byoc_nn_high_mult_t1(x, (uint32_t)q.mult)
                                  : (int32_t)(((int64_t)x * q.mult + ((int64_t)1 << 30)) >> 31);
#else
    const int32_t t = (int32_t)(((int64_t)x * q.mult + ((int64_t)1 << 30)) >> 31);
#endif
    int32_t r = (t >> q.right) + ((t & q.mask) > q.half - (t >> 31));
    r += dst_offset;
    r = r < act_min ? act_min : r;
    r = r > act_max ? act_max : r;
    return (int8_t)r;
}

/** 1 when one of the n multipliers is INT32_MIN (see byoc_nn_out_q). */
ARM_NN_INLINE int byoc_nn_has_min_mult(const int32_t *mult, const int32_t n)
{
    for (int32_t i = 0; i < n; i++)
    {
        if (mult[i] == NN_Q31_MIN)
        {
            return 1;
        }
    }
    return 0;
}

/* --------------------------------------------------------------------------------------------
 * Helium vector fixed point
 * ------------------------------------------------------------------------------------------ */
#if defined(ARM_MATH_MVEI)

/** Requantize four accumulators that share one multiplier and shift. */
ARM_NN_INLINE int32x4_t byoc_nn_requantize_mve(int32x4_t val, const int32_t multiplier, const int32_t shift)
{
    if (shift > 0)
    {
        val = vshlq_r_s32(val, shift);
    }
    val = vqrdmulhq_n_s32(val, multiplier);
    if (shift < 0)
    {
        /* vrshl rounds ties upwards; subtracting 1 from negative values first turns that into
         * TFLite's ties-away-from-zero. */
        val = vqaddq_s32(val, vshrq_n_s32(val, 31));
        val = vrshlq_n_s32(val, shift);
    }
    return val;
}

/** Requantize four accumulators with per-lane multipliers and shifts. */
ARM_NN_INLINE int32x4_t byoc_nn_requantize_mve_32x4(int32x4_t val, const int32x4_t multiplier, const int32x4_t shift)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t left = vmaxq_s32(shift, zero);
    const int32x4_t right = vminq_s32(shift, zero); /* <= 0: a right shift for vrshl */
    val = vshlq_s32(val, left);
    val = vqrdmulhq_s32(val, multiplier);
    const int32x4_t fixup = vandq_s32(vshrq_n_s32(val, 31), vshrq_n_s32(right, 31));
    val = vqaddq_s32(val, fixup);
    return vrshlq_s32(val, right);
}

/** Lane-wise SaturatingRoundingDoublingHighMul. */
ARM_NN_INLINE int32x4_t byoc_nn_doubling_high_mult_mve(const int32x4_t a, const int32x4_t b)
{
    return vqrdmulhq_s32(a, b);
}

/** Lane-wise RoundingDivideByPOT by a constant exponent in [1, 31]. */
ARM_NN_INLINE int32x4_t byoc_nn_divide_by_power_of_two_mve(int32x4_t x, const int32_t exponent)
{
    x = vqaddq_s32(x, vshrq_n_s32(x, 31));
    return vrshlq_n_s32(x, -exponent);
}

#endif /* ARM_MATH_MVEI */

/* --------------------------------------------------------------------------------------------
 * DSP (SIMD32) helpers
 * ------------------------------------------------------------------------------------------ */
#if defined(ARM_MATH_DSP)

/** Unaligned 32-bit load. */
ARM_NN_INLINE int32_t byoc_nn_read_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/** Unaligned 32-bit load (two int16). */
ARM_NN_INLINE int32_t byoc_nn_read_s16x2(const int16_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/** Rotate right by 8 (GCC 12's arm_acle.h has no __ror). */
ARM_NN_INLINE uint32_t byoc_nn_ror8(const uint32_t x)
{
    return (x >> 8) | (x << 24);
}

/** Sign-extends four int8 in `w` to two int16 pairs: *even = (b0, b2), *odd = (b1, b3). */
ARM_NN_INLINE void byoc_nn_expand_s8x4(const int32_t w, int32_t *even, int32_t *odd)
{
    *even = (int32_t)__sxtb16((uint32_t)w);
    *odd = (int32_t)__sxtb16(byoc_nn_ror8((uint32_t)w));
}

/** SXTB16 of x rotated right by 8 in one instruction: (b1, b3) sign-extended to int16. */
ARM_NN_INLINE int32_t byoc_nn_sxtb16_ror8(const int32_t x)
{
    int32_t r;
    __asm("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/** SXTAB16 of x rotated right by 8 in one instruction: (a.lo + b1, a.hi + b3). */
ARM_NN_INLINE int32_t byoc_nn_sxtab16_ror8(const int32_t a, const int32_t x)
{
    int32_t r;
    __asm("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

/**
 * byoc_nn_requantize (TFLite MultiplyByQuantizedMultiplier) in fewer instructions, same result
 * for every input: the high multiply is one SMLAL, and RoundingDivideByPOT(x, e) for e >= 1 is
 * ((y >> (e - 1)) + 1) >> 1 with y = x - 1 for negative x (saturating, so INT32_MIN stays, which
 * divides exactly): floor((x + 2^(e-1)) / 2^e) rounds ties up for x >= 0, and
 * floor((x - 1 + 2^(e-1)) / 2^e) rounds ties down for x < 0.
 */
ARM_NN_INLINE int32_t byoc_nn_requantize_dsp(const int32_t val, const int32_t multiplier, const int32_t shift)
{
    const int32_t x = byoc_nn_shl_wrap(val, LEFT_SHIFT(shift));
    int32_t r = byoc_nn_doubling_high_mult(x, multiplier);
    if (shift < 0)
    {
        const int32_t y = __qadd(r, r >> 31);
        const int32_t t = y >> (-shift - 1);
        r = (t >> 1) + (t & 1); /* (t + 1) >> 1 without overflow */
    }
    return r;
}

/** Both 16-bit lanes set to v. */
ARM_NN_INLINE int32_t byoc_nn_dup16(const int32_t v)
{
    return (int32_t)(((uint32_t)v << 16) | ((uint32_t)v & 0xFFFFu));
}

/*
 * Assembly dot-product blocks of the DSP path (byoc_nn_mat_mult_s8.c). Weights are int8 rows read
 * a word (4 values) at a time and widened with SXTB16 into the lane order (w0, w2), (w1, w3);
 * `groups` >= 1 is the number of such words; the accumulators are read and updated in place.
 *
 * byoc_nn_dsp_dot2x2_c16: two int16 im2col columns interleaved per group of four values as
 *   {col0 (x0, x2), col0 (x1, x3), col1 (x0, x2), col1 (x1, x3)} (16 bytes), against weight rows
 *   w and w + w_stride: acc = {col0.w0, col0.w1, col1.w0, col1.w1}.
 * byoc_nn_dsp_dot1x4_s8: one int8 row x (offset `off2` = the offset in both 16-bit lanes added to
 *   each value) against weight rows w, w + s, w2, w2 + s: acc = {x.w, x.(w+s), x.w2, x.(w2+s)}.
 * byoc_nn_dsp_dot2x2_s8: int8 rows x and x + s against weight rows w and w + s (no offsets):
 *   acc = {x.w, x.(w+s), (x+s).w, (x+s).(w+s)}.
 */
void byoc_nn_dsp_dot2x2_c16(const int16_t *cols, const int8_t *w, int32_t w_stride, int32_t groups, int32_t *acc);
void byoc_nn_dsp_dot1x4_s8(
    const int8_t *x, const int8_t *w, int32_t s, int32_t groups, const int8_t *w2, int32_t off2, int32_t *acc);
void byoc_nn_dsp_dot2x2_s8(const int8_t *x, const int8_t *w, int32_t s, int32_t groups, int32_t *acc);

#endif /* ARM_MATH_DSP */

/* --------------------------------------------------------------------------------------------
 * Internal kernels shared between the public functions
 * ------------------------------------------------------------------------------------------ */

/**
 * Reference-order convolution for any configuration (groups, dilation, padding, batches);
 * no scratch buffer. Used by the portable path and as fallback of the optimised paths.
 */
arm_cmsis_nn_status byoc_nn_convolve_s8_ref(const cmsis_nn_conv_params *conv_params,
                                           const cmsis_nn_per_channel_quant_params *quant_params,
                                           const cmsis_nn_dims *input_dims,
                                           const int8_t *input_data,
                                           const cmsis_nn_dims *filter_dims,
                                           const int8_t *filter_data,
                                           const int32_t *bias_data,
                                           const cmsis_nn_dims *output_dims,
                                           int8_t *output_data);

/**
 * Reference-order depthwise convolution (any channel multiplier, dilation, padding, batches);
 * no scratch buffer.
 */
arm_cmsis_nn_status byoc_nn_depthwise_conv_s8_ref(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                 const cmsis_nn_per_channel_quant_params *quant_params,
                                                 const cmsis_nn_dims *input_dims,
                                                 const int8_t *input_data,
                                                 const cmsis_nn_dims *filter_dims,
                                                 const int8_t *filter_data,
                                                 const int32_t *bias_data,
                                                 const cmsis_nn_dims *output_dims,
                                                 int8_t *output_data);

/**
 * Matrix (rows of `lhs`, each `k` int8 values apart by `lhs_stride`) times transposed weights
 * (`rhs`, [n_out][k]) with per-output-channel requantization:
 *   dst[r * dst_stride + o] = clamp(requant(sum_j (lhs[r][j] + lhs_offset) * rhs[o][j] + bias[o],
 *                                           mult[o], shift[o]) + dst_offset)
 * `lhs_rows` rows, any count. `mult`/`shift` per channel when `per_channel`, else element 0.
 * `kernel_sum` (optional, n_out entries) holds bias[o] + lhs_offset * sum_j rhs[o][j]; when given,
 * `bias` is ignored. `rhs_offset` is added to every weight (FULLY_CONNECTED filter offset).
 */
arm_cmsis_nn_status byoc_nn_mat_mult_s8(const int8_t *lhs,
                                       int32_t lhs_rows,
                                       int32_t lhs_stride,
                                       const int8_t *rhs,
                                       int32_t n_out,
                                       int32_t k,
                                       const int32_t *bias,
                                       const int32_t *kernel_sum,
                                       const int32_t *mult,
                                       const int32_t *shift,
                                       int32_t per_channel,
                                       int32_t lhs_offset,
                                       int32_t rhs_offset,
                                       int32_t dst_offset,
                                       int32_t act_min,
                                       int32_t act_max,
                                       int8_t *dst,
                                       int32_t dst_stride);

#if !defined(ARM_MATH_MVEI) && !defined(ARM_MATH_DSP)
/** Portable path: sums[o] = bias[o] (0 if bias is NULL) + lhs_offset * sum_j rhs[o][j], o < n_out
 * (the `kernel_sum` argument of byoc_nn_mat_mult_s8). */
void byoc_nn_kernel_sums_s8(const int8_t *rhs, int32_t n_out, int32_t k, const int32_t *bias, int32_t lhs_offset,
                            int32_t *sums);
#endif

/**
 * Depthwise convolution with channel multiplier > 1 (C_OUT = C_IN * ch_mult), every path: any
 * stride, padding, dilation, batch; no scratch memory (byoc_nn_depthwise_conv_s8_mult.c).
 */
void byoc_nn_depthwise_conv_s8_mult(const cmsis_nn_dw_conv_params *dw_conv_params,
                                   const cmsis_nn_per_channel_quant_params *quant_params,
                                   const cmsis_nn_dims *input_dims,
                                   const int8_t *input_data,
                                   const cmsis_nn_dims *filter_dims,
                                   const int8_t *filter_data,
                                   const int32_t *bias_data,
                                   const cmsis_nn_dims *output_dims,
                                   int8_t *output_data);

#if !defined(ARM_MATH_MVEI)
/**
 * DSP / portable depthwise convolution with channel multiplier 1: any stride, padding, dilation,
 * batch; no scratch memory (byoc_nn_depthwise_conv_s8_generic.c).
 */
void byoc_nn_depthwise_conv_s8_generic(const cmsis_nn_dw_conv_params *dw_conv_params,
                                      const cmsis_nn_per_channel_quant_params *quant_params,
                                      const cmsis_nn_dims *input_dims,
                                      const int8_t *input_data,
                                      const cmsis_nn_dims *filter_dims,
                                      const int8_t *filter_data,
                                      const int32_t *bias_data,
                                      const cmsis_nn_dims *output_dims,
                                      int8_t *output_data);
#endif

#if defined(ARM_MATH_MVEI)
/**
 * Helium: four rows (explicit pointers, may repeat) x all n_out weight rows, storing the first
 * nrows results to dst + r * dst_stride + o. Requantization, offsets and clamp as
 * byoc_nn_mat_mult_s8 (no kernel sums, no rhs offset).
 */
void byoc_nn_mat_mult_4rows_s8_mve(const int8_t *const rows[4],
                                  int32_t nrows,
                                  const int8_t *rhs,
                                  int32_t n_out,
                                  int32_t k,
                                  const int32_t *bias,
                                  const int32_t *mult,
                                  const int32_t *shift,
                                  int32_t per_channel,
                                  int32_t lhs_offset,
                                  int32_t dst_offset,
                                  int32_t act_min,
                                  int32_t act_max,
                                  int8_t *dst,
                                  int32_t dst_stride);

/**
 * Helium depthwise convolution with channel multiplier 1: any stride, padding, dilation, batch;
 * no scratch memory (byoc_nn_depthwise_conv_s8_mve.c).
 */
void byoc_nn_depthwise_conv_s8_mve(const cmsis_nn_dw_conv_params *dw_conv_params,
                                  const cmsis_nn_per_channel_quant_params *quant_params,
                                  const cmsis_nn_dims *input_dims,
                                  const int8_t *input_data,
                                  const cmsis_nn_dims *filter_dims,
                                  const int8_t *filter_data,
                                  const int32_t *bias_data,
                                  const cmsis_nn_dims *output_dims,
                                  int8_t *output_data);

/*
 * Tail-predicated Helium loops (DLSTP/WLSTP ... LETP) are written as inline assembly: GCC 12
 * never emits them, and its predicated-loop code spills the predicate every iteration.
 */

/** Helium: copy n bytes. */
ARM_NN_INLINE void byoc_nn_copy_s8_mve(int8_t *dst, const int8_t *src, int32_t n)
{
    __asm volatile("   wlstp.8     lr, %[n], 2f        \n"
                   "1: vldrb.8     q0, [%[s]], #16     \n"
                   "   vstrb.8     q0, [%[d]], #16     \n"
                   "   letp        lr, 1b              \n"
                   "2:                                 \n"
                   : [d] "+r"(dst), [s] "+r"(src)
                   : [n] "r"(n)
                   : "q0", "lr", "memory");
}

/** Helium: set n bytes to v. */
ARM_NN_INLINE void byoc_nn_fill_s8_mve(int8_t *dst, const int8_t v, int32_t n)
{
    __asm volatile("   vdup.8      q0, %[v]            \n"
                   "   wlstp.8     lr, %[n], 2f        \n"
                   "1: vstrb.8     q0, [%[d]], #16     \n"
                   "   letp        lr, 1b              \n"
                   "2:                                 \n"
                   : [d] "+r"(dst)
                   : [n] "r"(n), [v] "r"((int32_t)v)
                   : "q0", "lr", "memory");
}

/**
 * Helium: four dot products of one row x against four weight rows w0..w3 (k >= 1):
 *   acc[i] = sum_j x[j] * wi[j].
 */
ARM_NN_INLINE void byoc_nn_dot1x4_s8_mve(const int8_t *x,
                                        const int8_t *w0,
                                        const int8_t *w1,
                                        const int8_t *w2,
                                        const int8_t *w3,
                                        const int32_t k,
                                        int32_t *acc)
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    __asm volatile("   dlstp.8     lr, %[k]            \n"
                   "1: vldrb.8     q0, [%[x]], #16     \n"
                   "   vldrb.8     q1, [%[w0]], #16    \n"
                   "   vmlava.s8   %[a0], q0, q1       \n"
                   "   vldrb.8     q2, [%[w1]], #16    \n"
                   "   vmlava.s8   %[a1], q0, q2       \n"
                   "   vldrb.8     q3, [%[w2]], #16    \n"
                   "   vmlava.s8   %[a2], q0, q3       \n"
                   "   vldrb.8     q1, [%[w3]], #16    \n"
                   "   vmlava.s8   %[a3], q0, q1       \n"
                   "   letp        lr, 1b              \n"
                   : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [x] "+r"(x),
                     [w0] "+r"(w0), [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3)
                   : [k] "r"(k)
                   : "q0", "q1", "q2", "q3", "lr", "memory");
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/** Helium: sum of k int8 values (k >= 1). */
ARM_NN_INLINE int32_t byoc_nn_sum_s8_mve(const int8_t *x, const int32_t k)
{
    int32_t s = 0;
    __asm volatile("   dlstp.8     lr, %[k]            \n"
                   "1: vldrb.8     q0, [%[x]], #16     \n"
                   "   vaddva.s8   %[s], q0            \n"
                   "   letp        lr, 1b              \n"
                   : [s] "+Te"(s), [x] "+r"(x)
                   : [k] "r"(k)
                   : "q0", "lr", "memory");
    return s;
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* BYOC_NN_SUPPORT_H */
