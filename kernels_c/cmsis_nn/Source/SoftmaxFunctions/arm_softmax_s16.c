/*
 * arm_softmax_s16.c - s16 softmax (TFLite SOFTMAX int16, lookup-table based).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Per row: d = requantize(x - max, mult, shift) maps [-10, 0] onto [-65535, 0]; e = exp LUT at
 * d + 32767 (Q0.15); s = sum e (Q16.15); 1/s through the 1/(1+x) LUT after normalising s to
 * [1, 2); out = e * (1/s) rescaled to Q0.15 and clamped to [0, 32767].
 * LUT lookup: 513 entries over int16 inputs, index 256 + (v >> 7), linear interpolation of the
 * low 7 bits rounded half up.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

static int16_t lut_s16(const int16_t *lut, const int32_t value)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t frac = value & 0x7f;
    const int32_t base = lut[index];
    const int32_t slope = lut[index + 1] - base;
    return (int16_t)(base + ((slope * frac + 64) >> 7));
}

static int32_t clz_u32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0)
    {
        return 32;
    }
    while ((x & 0x80000000u) == 0)
    {
        x <<= 1;
        n++;
    }
    return n;
}

arm_cmsis_nn_status arm_softmax_s16(const int16_t *input,
                                    const int32_t num_rows,
                                    const int32_t row_size,
                                    const int32_t mult,
                                    const int32_t shift,
                                    const cmsis_nn_softmax_lut_s16 *softmax_params,
                                    int16_t *output)
{
    if (softmax_params == NULL || softmax_params->exp_lut == NULL || softmax_params->one_by_one_lut == NULL)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int16_t *exp_lut = softmax_params->exp_lut;
    const int16_t *recip_lut = softmax_params->one_by_one_lut;

    for (int32_t r = 0; r < num_rows; r++)
    {
        const int16_t *in = input + (int64_t)r * row_size;
        int16_t *out = output + (int64_t)r * row_size;
        int32_t max = -32768;
        for (int32_t i = 0; i < row_size; i++)
        {
            max = MAX(max, (int32_t)in[i]);
        }
        /* First pass: sum of the exponentials (recomputed in the second pass, so the kernel
         * needs no scratch and writes the output once). */
        int32_t sum = 0;
        for (int32_t i = 0; i < row_size; i++)
        {
            int32_t d = byoc_nn_requantize(in[i] - max, mult, shift) + 32767;
            d = MAX(d, -32768);
            d = MIN(d, 32767);
            sum += lut_s16(exp_lut, d);
        }
        const int32_t headroom_plus_one = clz_u32((uint32_t)sum);
        const int32_t shifted = (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        int32_t sym = shifted - ((1 << 15) + (1 << 16));
        sym = MAX(sym, -32768);
        sym = MIN(sym, 32767);
        const int32_t recip = lut_s16(recip_lut, sym);
        const int32_t right_shift = 31 - headroom_plus_one;
        const int64_t round = (int64_t)1 << (right_shift - 1);
        for (int32_t i = 0; i < row_size; i++)
        {
            int32_t d = byoc_nn_requantize(in[i] - max, mult, shift) + 32767;
            d = MAX(d, -32768);
            d = MIN(d, 32767);
            const int32_t e = lut_s16(exp_lut, d);
            int32_t res = (int32_t)(((int64_t)e * recip + round) >> right_shift);
            res = MAX(res, 0);
            res = MIN(res, 32767);
            out[i] = (int16_t)res;
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
