/*
 * Internal/byoc_nn_support_s16.h - byoc-only helpers of the int16-activation kernels.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#ifndef BYOC_NN_SUPPORT_S16_H
#define BYOC_NN_SUPPORT_S16_H

#include "byoc_nn_support.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * TFLite's MultiplyByQuantizedMultiplier for a 64-bit accumulator (16x8 kernels): the Q31
 * multiplier is rounded to 16 bits (saturating at 0x7FFF), then one rounding right shift by
 * 15 - shift (round half up).
 */
ARM_NN_INLINE int32_t byoc_nn_requantize_s64(const int64_t val, const int32_t multiplier, const int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? (int64_t)((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int32_t total_shift = 15 - shift;
    const int64_t result = (val * reduced + ((int64_t)1 << (total_shift - 1))) >> total_shift;
    return (int32_t)result;
}

/** Bias add, requantization, output offset and clamp of one int64 accumulator (16x8 rule). */
ARM_NN_INLINE int16_t byoc_nn_finish_s16(const int64_t acc,
                                        const int64_t *bias,
                                        const int32_t ch,
                                        const int32_t multiplier,
                                        const int32_t shift,
                                        const int32_t out_offset,
                                        const int32_t act_min,
                                        const int32_t act_max)
{
    const int64_t sum = bias != NULL ? acc + bias[ch] : acc;
    int32_t res = byoc_nn_requantize_s64(sum, multiplier, shift) + out_offset;
    res = MAX(res, act_min);
    res = MIN(res, act_max);
    return (int16_t)res;
}

/**
 * Multiplier of byoc_nn_finish_s16_fast for a channel, 0 when its shortcut does not apply. With
 * the 16-bit reduced multiplier r and ts = 15 - shift, multiplying numerator and denominator by
 * 2^(32 - ts) gives (x * r + 2^(ts - 1)) >> ts = (x * M + 2^31) >> 32 with M = r * 2^(17 + shift),
 * exact for every int32 x; M fits int32 for -17 <= shift <= -1 (|r| <= 2^15).
 */
ARM_NN_INLINE int32_t byoc_nn_s16_fast_mult(const int32_t multiplier, const int32_t shift)
{
    if (shift > -1 || shift < -17)
    {
        return 0;
    }
    const int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    return (int32_t)((uint32_t)reduced << (17 + shift));
}

/** byoc_nn_finish_s16 with the shortcut of byoc_nn_s16_fast_mult (m = its value for the channel)
 * when the biased accumulator fits 32 bits: one 32 x 32 -> 64 multiply-accumulate. */
ARM_NN_INLINE int16_t byoc_nn_finish_s16_fast(const int64_t acc,
                                             const int64_t *bias,
                                             const int32_t ch,
                                             const int32_t m,
                                             const int32_t multiplier,
                                             const int32_t shift,
                                             const int32_t out_offset,
                                             const int32_t act_min,
                                             const int32_t act_max)
{
    const int64_t sum = bias != NULL ? acc + bias[ch] : acc;
    int32_t res;
    if (m != 0 && sum == (int64_t)(int32_t)sum)
    {
        res = (int32_t)(((int64_t)(int32_t)sum * m + ((int64_t)1 << 31)) >> 32);
    }
    else
    {
        res = byoc_nn_requantize_s64(sum, multiplier, shift);
    }
    res += out_offset;
    res = MAX(res, act_min);
    res = MIN(res, act_max);
    return (int16_t)res;
}

/** The same for TFLite's int32-bias rule: the accumulator wraps to 32 bits, double rounding. */
ARM_NN_INLINE int16_t byoc_nn_finish_s16_b32(const int64_t acc,
                                            const int32_t *bias,
                                            const int32_t ch,
                                            const int32_t multiplier,
                                            const int32_t shift,
                                            const int32_t out_offset,
                                            const int32_t act_min,
                                            const int32_t act_max)
{
    uint32_t sum = (uint32_t)acc;
    if (bias != NULL)
    {
        sum += (uint32_t)bias[ch];
    }
    int32_t res = byoc_nn_requantize((int32_t)sum, multiplier, shift) + out_offset;
    res = MAX(res, act_min);
    res = MIN(res, act_max);
    return (int16_t)res;
}

#if defined(ARM_MATH_MVEI)
/**
 * Four dot products of `k` int16 values `x` with four int8 rows w + i * w_stride (i = 0..3),
 * exact in 64 bits (VMLALDAVA on int8 weights widened by the load). Rows may be unaligned.
 */
ARM_NN_INLINE void byoc_nn_dot4_s16_s8_mve(const int16_t *x,
                                          const int8_t *w,
                                          const int32_t w_stride,
                                          const int32_t k,
                                          int64_t *out)
{
    const int8_t *w0 = w;
    const int8_t *w1 = w + w_stride;
    const int8_t *w2 = w + 2 * w_stride;
    const int8_t *w3 = w + 3 * w_stride;
    int64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t j = 0;
    for (; j <= k - 8; j += 8)
    {
        const int16x8_t xv = vldrhq_s16(x + j);
        a0 = vmlaldavaq_s16(a0, xv, vldrbq_s16(w0 + j));
        a1 = vmlaldavaq_s16(a1, xv, vldrbq_s16(w1 + j));
        a2 = vmlaldavaq_s16(a2, xv, vldrbq_s16(w2 + j));
        a3 = vmlaldavaq_s16(a3, xv, vldrbq_s16(w3 + j));
    }
    if (j < k)
    {
        const mve_pred16_t p = vctp16q((uint32_t)(k - j));
        const int16x8_t xv = vldrhq_z_s16(x + j, p);
        a0 = vmlaldavaq_s16(a0, xv, vldrbq_z_s16(w0 + j, p));
        a1 = vmlaldavaq_s16(a1, xv, vldrbq_z_s16(w1 + j, p));
        a2 = vmlaldavaq_s16(a2, xv, vldrbq_z_s16(w2 + j, p));
        a3 = vmlaldavaq_s16(a3, xv, vldrbq_z_s16(w3 + j, p));
    }
    out[0] = a0;
    out[1] = a1;
    out[2] = a2;
    out[3] = a3;
}

/** One dot product of `k` int16 values with `k` int8 values, exact in 64 bits. */
ARM_NN_INLINE int64_t byoc_nn_dot1_s16_s8_mve(const int16_t *x, const int8_t *w, const int32_t k)
{
    int64_t a = 0;
    int32_t j = 0;
    for (; j <= k - 8; j += 8)
    {
        a = vmlaldavaq_s16(a, vldrhq_s16(x + j), vldrbq_s16(w + j));
    }
    if (j < k)
    {
        const mve_pred16_t p = vctp16q((uint32_t)(k - j));
        a = vmlaldavaq_s16(a, vldrhq_z_s16(x + j, p), vldrbq_z_s16(w + j, p));
    }
    return a;
}
#endif /* ARM_MATH_MVEI */

#if defined(ARM_MATH_DSP) && !defined(ARM_MATH_MVEI)
/**
 * Two dot products of `k` int16 values `x` with the int8 rows w and w + w_stride, exact in 64
 * bits: four values at a time, inputs regrouped into (x0, x2) / (x1, x3) pairs to match the
 * SXTB16 weight pairs, SMLALD.
 */
ARM_NN_INLINE void byoc_nn_dot2_s16_s8_dsp(const int16_t *x,
                                          const int8_t *w,
                                          const int32_t w_stride,
                                          const int32_t k,
                                          int64_t *out)
{
    const int8_t *w0 = w;
    const int8_t *w1 = w + w_stride;
    int64_t a0 = 0, a1 = 0;
    int32_t j = 0;
    for (; j <= k - 4; j += 4)
    {
        const uint32_t x01 = (uint32_t)byoc_nn_read_s16x2(x + j);
        const uint32_t x23 = (uint32_t)byoc_nn_read_s16x2(x + j + 2);
        const int16x2_t x02 = (int16x2_t)((x01 & 0xFFFFu) | (x23 << 16));
        const int16x2_t x13 = (int16x2_t)((x23 & 0xFFFF0000u) | (x01 >> 16));
        int32_t e, o;
        byoc_nn_expand_s8x4(byoc_nn_read_s8x4(w0 + j), &e, &o);
        a0 = __smlald(x02, (int16x2_t)e, a0);
        a0 = __smlald(x13, (int16x2_t)o, a0);
        byoc_nn_expand_s8x4(byoc_nn_read_s8x4(w1 + j), &e, &o);
        a1 = __smlald(x02, (int16x2_t)e, a1);
        a1 = __smlald(x13, (int16x2_t)o, a1);
    }
    for (; j < k; j++)
    {
        a0 += (int32_t)x[j] * w0[j];
        a1 += (int32_t)x[j] * w1[j];
    }
    out[0] = a0;
    out[1] = a1;
}

/** One dot product of `k` int16 values with `k` int8 values, exact in 64 bits (SMLALD). */
ARM_NN_INLINE int64_t byoc_nn_dot1_s16_s8_dsp(const int16_t *x, const int8_t *w, const int32_t k)
{
    int64_t a = 0;
    int32_t j = 0;
    for (; j <= k - 4; j += 4)
    {
        const uint32_t x01 = (uint32_t)byoc_nn_read_s16x2(x + j);
        const uint32_t x23 = (uint32_t)byoc_nn_read_s16x2(x + j + 2);
        const int16x2_t x02 = (int16x2_t)((x01 & 0xFFFFu) | (x23 << 16));
        const int16x2_t x13 = (int16x2_t)((x23 & 0xFFFF0000u) | (x01 >> 16));
        int32_t e, o;
        byoc_nn_expand_s8x4(byoc_nn_read_s8x4(w + j), &e, &o);
        a = __smlald(x02, (int16x2_t)e, a);
        a = __smlald(x13, (int16x2_t)o, a);
    }
    for (; j < k; j++)
    {
        a += (int32_t)x[j] * w[j];
    }
    return a;
}

/**
 * Four dot products of `k` int16 values `x` with the int8 rows w + c * w_stride (c < 4), exact
 * in 64 bits: each regrouped input pair (x0, x2) / (x1, x3) serves four rows, SMLAD into 32-bit
 * partial sums of up to 256 products (|x * w| <= 2^22, so they cannot overflow), then added to
 * the 64-bit sums.
 */
ARM_NN_INLINE void byoc_nn_dot4_s16_s8_dsp(const int16_t *x,
                                          const int8_t *w,
                                          const int32_t w_stride,
                                          const int32_t k,
                                          int64_t *out)
{
    /* rows 0 / 1 through two pointers, rows 2 / 3 at a register offset from them (registers) */
    const int8_t *w0 = w, *w1 = w + w_stride;
    const int32_t s2 = 2 * w_stride;
    int64_t s0 = 0, s1 = 0, s2sum = 0, s3 = 0;
    int32_t j = 0;
    while (j <= k - 4)
    {
        int32_t n = MIN((k - j) >> 2, 64);
        j += 4 * n;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (; n > 0; n--)
        {
            const uint32_t x01 = (uint32_t)byoc_nn_read_s16x2(x);
            const uint32_t x23 = (uint32_t)byoc_nn_read_s16x2(x + 2);
            x += 4;
            const int16x2_t x02 = (int16x2_t)((x01 & 0xFFFFu) | (x23 << 16));
            const int16x2_t x13 = (int16x2_t)((x23 & 0xFFFF0000u) | (x01 >> 16));
            int32_t v = byoc_nn_read_s8x4(w0);
            a0 = __smlad(x02, (int16x2_t)__sxtb16((uint32_t)v), a0);
            a0 = __smlad(x13, (int16x2_t)byoc_nn_sxtb16_ror8(v), a0);
            v = byoc_nn_read_s8x4(w1);
            a1 = __smlad(x02, (int16x2_t)__sxtb16((uint32_t)v), a1);
            a1 = __smlad(x13, (int16x2_t)byoc_nn_sxtb16_ror8(v), a1);
            v = byoc_nn_read_s8x4(w0 + s2);
            a2 = __smlad(x02, (int16x2_t)__sxtb16((uint32_t)v), a2);
            a2 = __smlad(x13, (int16x2_t)byoc_nn_sxtb16_ror8(v), a2);
            v = byoc_nn_read_s8x4(w1 + s2);
            a3 = __smlad(x02, (int16x2_t)__sxtb16((uint32_t)v), a3);
            a3 = __smlad(x13, (int16x2_t)byoc_nn_sxtb16_ror8(v), a3);
            w0 += 4;
            w1 += 4;
        }
        s0 += a0; s1 += a1; s2sum += a2; s3 += a3;
    }
    for (; j < k; j++)
    {
        const int32_t v = *x++;
        s0 += v * w0[0]; s1 += v * w1[0]; s2sum += v * w0[s2]; s3 += v * w1[s2];
        w0++;
        w1++;
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2sum;
    out[3] = s3;
}
#endif /* ARM_MATH_DSP && !ARM_MATH_MVEI */

#if !defined(ARM_MATH_DSP) && !defined(ARM_MATH_MVEI)
/* Portable path: |x * w| <= 2^15 * 2^7, so up to BYOC_NN_S16_BLOCK products are summed exactly in
 * 32 bits (single-word multiply-accumulates, cheap on Armv6-M too) before joining the 64-bit sum. */
    #define BYOC_NN_S16_BLOCK 256

/**
 * Four dot products of `k` int16 values `x` with the int8 rows w + c * w_stride (c < 4), exact
 * in 64 bits.
 */
ARM_NN_INLINE void byoc_nn_dot4_s16_s8_c(const int16_t *x,
                                        const int8_t *w,
                                        const int32_t w_stride,
                                        const int32_t k,
                                        int64_t *out)
{
    const int8_t *w0 = w, *w1 = w + w_stride, *w2 = w1 + w_stride, *w3 = w2 + w_stride;
    int64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int32_t left = k;
    while (left > 0)
    {
        int32_t n = MIN(left, BYOC_NN_S16_BLOCK);
        left -= n;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (; n >= 4; n -= 4)
        {
            int32_t v = x[0];
            a0 += v * w0[0]; a1 += v * w1[0]; a2 += v * w2[0]; a3 += v * w3[0];
            v = x[1];
            a0 += v * w0[1]; a1 += v * w1[1]; a2 += v * w2[1]; a3 += v * w3[1];
            v = x[2];
            a0 += v * w0[2]; a1 += v * w1[2]; a2 += v * w2[2]; a3 += v * w3[2];
            v = x[3];
            a0 += v * w0[3]; a1 += v * w1[3]; a2 += v * w2[3]; a3 += v * w3[3];
            x += 4; w0 += 4; w1 += 4; w2 += 4; w3 += 4;
        }
        for (; n > 0; n--)
        {
            const int32_t v = *x++;
            a0 += v * *w0++; a1 += v * *w1++; a2 += v * *w2++; a3 += v * *w3++;
        }
        s0 += a0; s1 += a1; s2 += a2; s3 += a3;
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
    out[3] = s3;
}

/** One dot product of `k` int16 values with `k` int8 values, exact in 64 bits. */
ARM_NN_INLINE int64_t byoc_nn_dot1_s16_s8_c(const int16_t *x, const int8_t *w, const int32_t k)
{
    int64_t s = 0;
    int32_t left = k;
    while (left > 0)
    {
        int32_t n = MIN(left, BYOC_NN_S16_BLOCK);
        left -= n;
        int32_t a = 0;
        for (; n > 0; n--)
        {
            a += (int32_t)*x++ * *w++;
        }
        s += a;
    }
    return s;
}
#endif

/**
 * Fills `col` with the int16 im2col column of output position (oy, ox): KH * KW slices of C_IN
 * values (zeros outside the input). Used by the optimised s16 convolutions (input offset 0).
 */
ARM_NN_INLINE void byoc_nn_im2col_s16(const int16_t *in,
                                     const int32_t in_h,
                                     const int32_t in_w,
                                     const int32_t in_c,
                                     const int32_t k_h,
                                     const int32_t k_w,
                                     const int32_t y0,
                                     const int32_t x0,
                                     const int32_t dil_h,
                                     const int32_t dil_w,
                                     int16_t *col)
{
    const size_t slice = (size_t)in_c * sizeof(int16_t);
    for (int32_t ky = 0; ky < k_h; ky++)
    {
        const int32_t y = y0 + ky * dil_h;
        for (int32_t kx = 0; kx < k_w; kx++)
        {
            const int32_t x = x0 + kx * dil_w;
            if (y < 0 || y >= in_h || x < 0 || x >= in_w)
            {
                memset(col, 0, slice);
            }
            else
            {
                memcpy(col, in + ((int64_t)y * in_w + x) * in_c, slice);
            }
            col += in_c;
        }
    }
}

#ifdef __cplusplus
}
#endif

#endif /* BYOC_NN_SUPPORT_S16_H */
