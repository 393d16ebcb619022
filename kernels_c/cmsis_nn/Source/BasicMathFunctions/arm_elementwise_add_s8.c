/*
 * arm_elementwise_add_s8.c - s8 elementwise addition (TFLite ADD, equal shapes).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * For each of block_size elements:
 *   a' = requantize((a + input_1_offset) << left_shift, input_1_mult, input_1_shift)
 *   b' = requantize((b + input_2_offset) << left_shift, input_2_mult, input_2_shift)
 *   out = clamp(requantize(a' + b', out_mult, out_shift) + out_offset, act_min, act_max)
 * Offsets are negated input zero points; left_shift is 20 for int8. No scratch. Helium: four
 * lanes per vector. DSP / portable, 1024 elements or more: a' and b' tabulated over the 256 int8
 * values once per call (2 KB of stack), then a table look-up each.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

/* DSP / portable: from this many elements on, the two input rescalings are tabulated per call
 * (2 x 256 int32 on the stack, 2 KB) instead of computed per element. */
#define ADD_TABLE_MIN 1024

arm_cmsis_nn_status arm_elementwise_add_s8(const int8_t *input_1_vect,
                                           const int8_t *input_2_vect,
                                           const int32_t input_1_offset,
                                           const int32_t input_1_mult,
                                           const int32_t input_1_shift,
                                           const int32_t input_2_offset,
                                           const int32_t input_2_mult,
                                           const int32_t input_2_shift,
                                           const int32_t left_shift,
                                           int8_t *output,
                                           const int32_t out_offset,
                                           const int32_t out_mult,
                                           const int32_t out_shift,
                                           const int32_t out_activation_min,
                                           const int32_t out_activation_max,
                                           const int32_t block_size)
{
#if defined(ARM_MATH_MVEI)
    /* Four elements per int32 vector, tail-predicated. */
    const int32x4_t act_min = vdupq_n_s32(out_activation_min);
    const int32x4_t act_max = vdupq_n_s32(out_activation_max);
    for (int32_t i = 0; i < block_size; i += 4)
    {
        const mve_pred16_t p = vctp32q((uint32_t)(block_size - i));
        int32x4_t a = vaddq_n_s32(vldrbq_z_s32(input_1_vect + i, p), input_1_offset);
        int32x4_t b = vaddq_n_s32(vldrbq_z_s32(input_2_vect + i, p), input_2_offset);
        a = byoc_nn_requantize_mve(vshlq_r_s32(a, left_shift), input_1_mult, input_1_shift);
        b = byoc_nn_requantize_mve(vshlq_r_s32(b, left_shift), input_2_mult, input_2_shift);
        int32x4_t sum = byoc_nn_requantize_mve(vaddq_s32(a, b), out_mult, out_shift);
        sum = vminq_s32(vmaxq_s32(vaddq_n_s32(sum, out_offset), act_min), act_max);
        vstrbq_p_s32(output + i, sum, p);
    }
#else
    if (block_size >= ADD_TABLE_MIN && out_mult != NN_Q31_MIN)
    {
        /* a' and b' depend on one int8 value each: tabulated once per call (indexed by the byte
         * read as unsigned), the output requantization branch-free. */
        int32_t ta[256], tb[256];
        for (int32_t v = -128; v < 128; v++)
        {
            ta[(uint8_t)v] = byoc_nn_requantize(byoc_nn_shl_wrap(v + input_1_offset, left_shift), input_1_mult,
                                                input_1_shift);
            tb[(uint8_t)v] = byoc_nn_requantize(byoc_nn_shl_wrap(v + input_2_offset, left_shift), input_2_mult,
                                                input_2_shift);
        }
        const byoc_nn_quant q = byoc_nn_quant_of(out_mult, out_shift);
        const uint8_t *pa = (const uint8_t *)input_1_vect;
        const uint8_t *pb = (const uint8_t *)input_2_vect;
        for (int32_t i = 0; i < block_size; i++)
        {
            output[i] = byoc_nn_out_q(ta[pa[i]] + tb[pb[i]], q, out_offset, out_activation_min, out_activation_max);
        }
        return ARM_CMSIS_NN_SUCCESS;
    }
    for (int32_t i = 0; i < block_size; i++)
    {
        const int32_t a = byoc_nn_requantize(byoc_nn_shl_wrap(input_1_vect[i] + input_1_offset, left_shift),
                                            input_1_mult, input_1_shift);
        const int32_t b = byoc_nn_requantize(byoc_nn_shl_wrap(input_2_vect[i] + input_2_offset, left_shift),
                                            input_2_mult, input_2_shift);
        const int32_t sum = byoc_nn_requantize(a + b, out_mult, out_shift) + out_offset;
        output[i] = byoc_nn_clamp_s8(sum, out_activation_min, out_activation_max);
    }
#endif
    return ARM_CMSIS_NN_SUCCESS;
}
