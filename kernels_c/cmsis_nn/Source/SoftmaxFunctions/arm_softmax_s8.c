/*
 * arm_softmax_s8.c - s8 softmax, TFLite's integer algorithm (bit-exact with TFLite Micro).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Per row of row_size int8 values, with max = the row maximum and d = x - max (<= 0):
 *   - d < diff_min: output -128.
 *   - otherwise s = SRDHM(d << shift, mult) is d * beta * input_scale in Q5.26, e = exp(s) in
 *     Q0.31 (gemmlowp exp_on_negative_values: Taylor polynomial on [-1/4, 0) plus a barrel
 *     shifter of exp(-2^k) constants), the row sum of e >> 12 (rounded) is a Q12.19 value whose
 *     reciprocal comes from Newton-Raphson (gemmlowp one_over_one_plus_x_for_x_in_0_1), and
 *     out = clamp(RDBPOT(SRDHM(reciprocal, e), bits_over_unit + 23) - 128, -128, 127).
 * Output quantization is TFLite's fixed one: scale 1/256, zero point -128. No scratch.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

#define ACCUM_BITS 12

/* diff * 2^shift for diff >= diff_min, where the product fits in int32 by construction of
 * diff_min; done on the unsigned value because shift reaches 31 for large input scales
 * (then diff is 0 or -1), where a signed 1 << 31 is undefined. */
static inline int32_t scale_diff(const int32_t diff, const int32_t shift)
{
    return (int32_t)((uint32_t)diff << shift);
}

/* exp(x) for x in [-1/4, 0), Q0.31 in and out. */
static int32_t exp_on_interval(const int32_t a)
{
    const int32_t x = a + (1 << 28); /* x = a + 1/8 */
    const int32_t x2 = byoc_nn_doubling_high_mult(x, x);
    const int32_t x3 = byoc_nn_doubling_high_mult(x2, x);
    const int32_t x4 = byoc_nn_doubling_high_mult(x2, x2);
    const int32_t x4_over_4 = byoc_nn_divide_by_power_of_two(x4, 2);
    const int32_t poly =
        byoc_nn_divide_by_power_of_two(byoc_nn_doubling_high_mult(x4_over_4 + x3, 715827883) + x2, 1);
    return 1895147668 + byoc_nn_doubling_high_mult(1895147668, x + poly); /* exp(-1/8) * (1 + x + ...) */
}

/* exp(a) for a <= 0 in Q5.26, result in Q0.31. */
static int32_t exp_on_negative_values(const int32_t a)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t quarter = 1 << 24;
    const int32_t a_mod = (a & (quarter - 1)) - quarter; /* in [-1/4, 0) */
    int32_t result = exp_on_interval(byoc_nn_sat_shl(a_mod, 5));
    const int32_t remainder = a_mod - a;
    for (int32_t i = 0; i < 7; i++)
    {
        if (remainder & (1 << (24 + i)))
        {
            result = byoc_nn_doubling_high_mult(result, barrel[i]);
        }
    }
    return a == 0 ? NN_Q31_MAX : result;
}

/* 1 / (1 + x) for x in [0, 1), Q0.31 in and out. */
static int32_t one_over_one_plus_x(const int32_t a)
{
    const int64_t sum = (int64_t)a + NN_Q31_MAX;
    const int32_t half_den = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + byoc_nn_doubling_high_mult(half_den, -1010580540); /* 48/17 - 32/17 d, Q2.29 */
    for (int32_t i = 0; i < 3; i++)
    {
        const int32_t one_minus = (1 << 29) - byoc_nn_doubling_high_mult(half_den, x);
        x = x + byoc_nn_sat_shl(byoc_nn_doubling_high_mult(x, one_minus), 2);
    }
    return byoc_nn_sat_shl(x, 1);
}

static int32_t count_leading_zeros(const uint32_t x)
{
    return x == 0 ? 32 : __builtin_clz(x);
}

#if defined(ARM_MATH_MVEI)

/* Lane-wise exp_on_interval (Q0.31). */
static inline int32x4_t exp_on_interval_mve(const int32x4_t a)
{
    const int32x4_t x = vaddq_n_s32(a, 1 << 28);
    const int32x4_t x2 = vqrdmulhq_s32(x, x);
    const int32x4_t x3 = vqrdmulhq_s32(x2, x);
    const int32x4_t x4 = vqrdmulhq_s32(x2, x2);
    const int32x4_t x4_over_4 = byoc_nn_divide_by_power_of_two_mve(x4, 2);
    const int32x4_t poly = byoc_nn_divide_by_power_of_two_mve(
        vaddq_s32(vqrdmulhq_n_s32(vaddq_s32(x4_over_4, x3), 715827883), x2), 1);
    return vaddq_n_s32(vqrdmulhq_n_s32(vaddq_s32(x, poly), 1895147668), 1895147668);
}

/* Lane-wise exp_on_negative_values: Q5.26 (<= 0) in, Q0.31 out. */
static inline int32x4_t exp_on_negative_values_mve(const int32x4_t a)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32x4_t a_mod = vsubq_s32(vandq_s32(a, vdupq_n_s32((1 << 24) - 1)), vdupq_n_s32(1 << 24));
    /* a_mod is in [-2^24, 0): the saturating shift by 5 cannot saturate. */
    int32x4_t result = exp_on_interval_mve(vshlq_n_s32(a_mod, 5));
    const int32x4_t remainder = vsubq_s32(a_mod, a);
    for (int32_t i = 0; i < 7; i++)
    {
        /* (vcmpneq_n_s32(x, 0) here makes GCC 12 crash: compare with a zero vector.) */
        const mve_pred16_t bit = vcmpneq_s32(vandq_s32(remainder, vdupq_n_s32(1 << (24 + i))), vdupq_n_s32(0));
        result = vpselq_s32(vqrdmulhq_n_s32(result, barrel[i]), result, bit);
    }
    return vpselq_s32(vdupq_n_s32(NN_Q31_MAX), result, vcmpeqq_n_s32(a, 0));
}

/*
 * Helium: four elements per int32 vector. Pass 1 sums the rescaled exponentials of the elements
 * not below diff_min; pass 2 recomputes them and scales by the reciprocal of the sum.
 */
static void softmax_row_mve(const int8_t *in,
                            const int32_t n,
                            const int32_t mult,
                            const int32_t shift,
                            const int32_t diff_min,
                            int8_t *out)
{
    int8x16_t vmax = vdupq_n_s8(NN_Q7_MIN);
    for (int32_t i = 0; i < n; i += 16)
    {
        const mve_pred16_t p = vctp8q((uint32_t)(n - i));
        vmax = vmaxq_m_s8(vmax, vmax, vldrbq_z_s8(in + i, p), p);
    }
    const int32_t max = vmaxvq_s8(NN_Q7_MIN, vmax);

    int32_t sum = 0;
    for (int32_t i = 0; i < n; i += 4)
    {
        const mve_pred16_t p = vctp32q((uint32_t)(n - i));
        const int32x4_t diff = vsubq_n_s32(vldrbq_z_s32(in + i, p), max);
        const mve_pred16_t valid = vcmpgeq_m_n_s32(diff, diff_min, p);
        const int32x4_t e = exp_on_negative_values_mve(vqrdmulhq_n_s32(vshlq_r_s32(diff, shift), mult));
        sum = vaddvaq_p_s32(sum, byoc_nn_divide_by_power_of_two_mve(e, ACCUM_BITS), valid);
    }

    const int32_t headroom = count_leading_zeros((uint32_t)sum);
    const int32_t bits_over_unit = ACCUM_BITS - headroom;
    const int32_t shifted_minus_one = (int32_t)(((uint32_t)sum << headroom) - (1u << 31));
    const int32_t reciprocal = one_over_one_plus_x(shifted_minus_one);
    for (int32_t i = 0; i < n; i += 4)
    {
        const mve_pred16_t p = vctp32q((uint32_t)(n - i));
        const int32x4_t diff = vsubq_n_s32(vldrbq_z_s32(in + i, p), max);
        const mve_pred16_t valid = vcmpgeq_n_s32(diff, diff_min);
        const int32x4_t e = exp_on_negative_values_mve(vqrdmulhq_n_s32(vshlq_r_s32(diff, shift), mult));
        int32x4_t res = byoc_nn_divide_by_power_of_two_mve(vqrdmulhq_n_s32(e, reciprocal), bits_over_unit + 23);
        res = vminq_s32(vaddq_n_s32(res, NN_Q7_MIN), vdupq_n_s32(NN_Q7_MAX));
        res = vmaxq_s32(res, vdupq_n_s32(NN_Q7_MIN));
        res = vpselq_s32(res, vdupq_n_s32(NN_Q7_MIN), valid);
        vstrbq_p_s32(out + i, res, p);
    }
}

#endif

void arm_softmax_s8(const int8_t *input,
                    const int32_t num_rows,
                    const int32_t row_size,
                    const int32_t mult,
                    const int32_t shift,
                    const int32_t diff_min,
                    int8_t *output)
{
#if defined(ARM_MATH_MVEI)
    for (int32_t r = 0; r < num_rows; r++)
    {
        softmax_row_mve(input + r * row_size, row_size, mult, shift, diff_min, output + r * row_size);
    }
    return;
#endif
    for (int32_t r = 0; r < num_rows; r++)
    {
        const int8_t *in = input + r * row_size;
        int8_t *out = output + r * row_size;
        int32_t max = NN_Q7_MIN;
        for (int32_t i = 0; i < row_size; i++)
        {
            max = MAX(max, in[i]);
        }
        int32_t sum = 0;
        for (int32_t i = 0; i < row_size; i++)
        {
            const int32_t diff = in[i] - max;
            if (diff >= diff_min)
            {
                const int32_t scaled = byoc_nn_doubling_high_mult(scale_diff(diff, shift), mult);
                sum += byoc_nn_divide_by_power_of_two(exp_on_negative_values(scaled), ACCUM_BITS);
            }
        }
        const int32_t headroom = count_leading_zeros((uint32_t)sum);
        const int32_t bits_over_unit = ACCUM_BITS - headroom;
        const int32_t shifted_minus_one = (int32_t)(((uint32_t)sum << headroom) - (1u << 31));
        const int32_t reciprocal = one_over_one_plus_x(shifted_minus_one);
        for (int32_t i = 0; i < row_size; i++)
        {
            const int32_t diff = in[i] - max;
            if (diff >= diff_min)
            {
                const int32_t scaled = byoc_nn_doubling_high_mult(scale_diff(diff, shift), mult);
                const int32_t e = exp_on_negative_values(scaled);
                const int32_t res =
                    byoc_nn_divide_by_power_of_two(byoc_nn_doubling_high_mult(reciprocal, e), bits_over_unit + 23);
                out[i] = byoc_nn_clamp_s8(res + NN_Q7_MIN, NN_Q7_MIN, NN_Q7_MAX);
            }
            else
            {
                out[i] = NN_Q7_MIN;
            }
        }
    }
}
