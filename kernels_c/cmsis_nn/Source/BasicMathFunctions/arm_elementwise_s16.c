/*
 * arm_elementwise_s16.c - s16 elementwise add and multiply (TFLite ADD / MUL int16).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Same arithmetic as the s8 kernels (TFLite's general quantized ADD with left_shift 15 for
 * int16, MUL with one output multiplier), on int16 data.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

arm_cmsis_nn_status arm_elementwise_add_s16(const int16_t *input_1_vect,
                                            const int16_t *input_2_vect,
                                            const int32_t input_1_offset,
                                            const int32_t input_1_mult,
                                            const int32_t input_1_shift,
                                            const int32_t input_2_offset,
                                            const int32_t input_2_mult,
                                            const int32_t input_2_shift,
                                            const int32_t left_shift,
                                            int16_t *output,
                                            const int32_t out_offset,
                                            const int32_t out_mult,
                                            const int32_t out_shift,
                                            const int32_t out_activation_min,
                                            const int32_t out_activation_max,
                                            const int32_t block_size)
{
    for (int32_t i = 0; i < block_size; i++)
    {
        const int32_t a = byoc_nn_shl_wrap(input_1_vect[i] + input_1_offset, left_shift);
        const int32_t b = byoc_nn_shl_wrap(input_2_vect[i] + input_2_offset, left_shift);
        const int32_t sum = byoc_nn_requantize(a, input_1_mult, input_1_shift) +
            byoc_nn_requantize(b, input_2_mult, input_2_shift);
        int32_t res = byoc_nn_requantize(sum, out_mult, out_shift) + out_offset;
        res = MAX(res, out_activation_min);
        res = MIN(res, out_activation_max);
        output[i] = (int16_t)res;
    }
    return ARM_CMSIS_NN_SUCCESS;
}

arm_cmsis_nn_status arm_elementwise_mul_s16(const int16_t *input_1_vect,
                                            const int16_t *input_2_vect,
                                            const int32_t input_1_offset,
                                            const int32_t input_2_offset,
                                            int16_t *output,
                                            const int32_t out_offset,
                                            const int32_t out_mult,
                                            const int32_t out_shift,
                                            const int32_t out_activation_min,
                                            const int32_t out_activation_max,
                                            const int32_t block_size)
{
    for (int32_t i = 0; i < block_size; i++)
    {
        const int32_t a = input_1_vect[i] + input_1_offset;
        const int32_t b = input_2_vect[i] + input_2_offset;
        int32_t res = byoc_nn_requantize(a * b, out_mult, out_shift) + out_offset;
        res = MAX(res, out_activation_min);
        res = MIN(res, out_activation_max);
        output[i] = (int16_t)res;
    }
    return ARM_CMSIS_NN_SUCCESS;
}
