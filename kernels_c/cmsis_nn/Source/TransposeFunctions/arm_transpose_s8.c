/*
 * arm_transpose_s8.c - int8 tensor transpose of up to four dimensions (TFLite TRANSPOSE).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Output dimension i is input dimension permutations[i]. A tensor of num_dims dimensions
 * stores them in the first num_dims fields of cmsis_nn_dims (n, h, w, c order), the unused
 * fields being ignored. The loop walks the output in order and steps through the input with
 * the permuted strides. No scratch.
 */
#include "arm_nnfunctions.h"

arm_cmsis_nn_status arm_transpose_s8(const int8_t *input_data,
                                     int8_t *const output_data,
                                     const cmsis_nn_dims *const input_dims,
                                     const cmsis_nn_dims *const output_dims,
                                     const cmsis_nn_transpose_params *const transpose_params)
{
    (void)output_dims;
    const int32_t rank = transpose_params->num_dims;
    if (rank < 1 || rank > 4)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int32_t fields[4] = {input_dims->n, input_dims->h, input_dims->w, input_dims->c};
    /* Input sizes and strides, right-aligned into 4 slots with leading size-1 dimensions. */
    int32_t in_size[4] = {1, 1, 1, 1};
    int32_t in_stride[4];
    for (int32_t d = 0; d < rank; d++)
    {
        in_size[4 - rank + d] = fields[d];
    }
    in_stride[3] = 1;
    for (int32_t d = 2; d >= 0; d--)
    {
        in_stride[d] = in_stride[d + 1] * in_size[d + 1];
    }
    /* Output slot i walks input slot 4 - rank + permutations[i]. */
    int32_t out_size[4] = {1, 1, 1, 1};
    int32_t step[4] = {0, 0, 0, 0};
    uint32_t seen = 0;
    for (int32_t i = 0; i < rank; i++)
    {
        const uint32_t p = transpose_params->permutations[i];
        if (p >= (uint32_t)rank || (seen & (1u << p)) != 0)
        {
            return ARM_CMSIS_NN_ARG_ERROR;
        }
        seen |= 1u << p;
        out_size[4 - rank + i] = in_size[4 - rank + p];
        step[4 - rank + i] = in_stride[4 - rank + p];
    }
    int8_t *out = output_data;
    for (int32_t a = 0; a < out_size[0]; a++)
    {
        for (int32_t b = 0; b < out_size[1]; b++)
        {
            for (int32_t c = 0; c < out_size[2]; c++)
            {
                const int8_t *src = input_data + a * step[0] + b * step[1] + c * step[2];
                for (int32_t d = 0; d < out_size[3]; d++)
                {
                    *out++ = src[d * step[3]];
                }
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
