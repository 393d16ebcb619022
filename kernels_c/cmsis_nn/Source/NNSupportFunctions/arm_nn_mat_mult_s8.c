/*
 * arm_nn_mat_mult_s8.c - int8 rows x transposed int8 weights with requantization: the core of
 * 1x1 convolution, im2col convolution and fully connected layers.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * lhs: `lhs_rows` rows of `k` int8 values, row r at lhs + r * lhs_stride.
 * rhs: weights [n_out][k], row o contiguous.
 * dst: dst[r * dst_stride + o], int8.
 *   acc = (kernel_sum ? kernel_sum[o] + sum_j (w + rhs_offset) * x
 *                     : bias[o] + sum_j (w + rhs_offset) * (x + lhs_offset))
 *   dst = clamp(requantize(acc, mult[o or 0], shift[o or 0]) + dst_offset, act_min, act_max)
 * Scratch memory: none. The Helium path reads lhs/rhs with tail predication (never past k).
 */
#include "arm_nnsupportfunctions.h"


arm_cmsis_nn_status arm_nn_mat_mult_s8(const int8_t *lhs,
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
                                       int32_t dst_stride)
{
    for (int32_t r = 0; r < lhs_rows; r++)
    {
        const int8_t *row = lhs + r * lhs_stride;
        int8_t *out = dst + r * dst_stride;
        for (int32_t o = 0; o < n_out; o++)
        {
            const int8_t *w = rhs + o * k;
            int32_t acc;
            if (kernel_sum != NULL)
            {
                acc = kernel_sum[o];
                for (int32_t j = 0; j < k; j++)
                {
                    acc += (w[j] + rhs_offset) * row[j];
                }
            }
            else
            {
                acc = bias != NULL ? bias[o] : 0;
                for (int32_t j = 0; j < k; j++)
                {
                    acc += (w[j] + rhs_offset) * (row[j] + lhs_offset);
                }
            }
            const int32_t q = per_channel ? o : 0;
            acc = arm_nn_requantize(acc, mult[q], shift[q]) + dst_offset;
            out[o] = arm_nn_clamp_s8(acc, act_min, act_max);
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
