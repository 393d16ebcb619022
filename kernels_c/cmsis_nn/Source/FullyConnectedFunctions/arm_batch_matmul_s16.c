/*
 * arm_batch_matmul_s16.c - s16 batch matrix multiplication (TFLite BATCH_MATMUL, int16).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Layouts and batch broadcasting as arm_batch_matmul_s8 (lhs [n, h, M, K], rhs transposed
 * [n, h, N, K], output [n, h, M, N]; adj flags not read). TFLite's int16 BATCH_MATMUL has zero
 * points 0, so the fc_params offsets are not read (as in Arm's v7):
 *   acc = sum_k lhs[m][k] * rhs[j][k]                     (int64)
 *   out[m][j] = clamp(requantize_s64(acc, multiplier, shift) + output_offset, act_min, act_max)
 * requantize_s64 is TFLite's int64 MultiplyByQuantizedMultiplier (multiplier rounded to Q0.15,
 * one rounding right shift by 15 - shift, shift <= 14). Arm's v7 kernel truncates the scaled
 * product to 32 bits before its last rounding step; the two agree whenever
 * |acc * reduced_multiplier| >> (14 - shift) fits in an int32 (byoc's code generator only calls
 * this function then, see byoc/cmsisnn_params.py). Scratch: none.
 * Two output columns per pass over an lhs row; each product is exact in 32 bits, the sums are 64-bit.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support_s16.h"

static void matrix_s16(const int16_t *lhs,
                       const int16_t *rhs,
                       int16_t *out,
                       const int32_t rows,
                       const int32_t cols,
                       const int32_t depth,
                       const cmsis_nn_per_tensor_quant_params *q,
                       const cmsis_nn_fc_params *fc)
{
    const int32_t lo = fc->activation.min, hi = fc->activation.max, off = fc->output_offset;
    for (int32_t m = 0; m < rows; m++)
    {
        const int16_t *row = lhs + (int64_t)m * depth;
        int16_t *dst = out + (int64_t)m * cols;
        int32_t j = 0;
        for (; j + 1 < cols; j += 2)
        {
            const int16_t *c0 = rhs + (int64_t)j * depth;
            const int16_t *c1 = c0 + depth;
            int64_t acc0 = 0, acc1 = 0;
            for (int32_t k = 0; k < depth; k++)
            {
                const int32_t x = row[k];
                acc0 += (int32_t)(x * c0[k]);
                acc1 += (int32_t)(x * c1[k]);
            }
            dst[j] = byoc_nn_finish_s16(acc0, NULL, 0, q->multiplier, q->shift, off, lo, hi);
            dst[j + 1] = byoc_nn_finish_s16(acc1, NULL, 0, q->multiplier, q->shift, off, lo, hi);
        }
        if (j < cols)
        {
            const int16_t *c0 = rhs + (int64_t)j * depth;
            int64_t acc0 = 0;
            for (int32_t k = 0; k < depth; k++)
            {
                acc0 += (int32_t)(row[k] * c0[k]);
            }
            dst[j] = byoc_nn_finish_s16(acc0, NULL, 0, q->multiplier, q->shift, off, lo, hi);
        }
    }
}

arm_cmsis_nn_status arm_batch_matmul_s16(const cmsis_nn_context *ctx,
                                         const cmsis_nn_bmm_params *bmm_params,
                                         const cmsis_nn_per_tensor_quant_params *quant_params,
                                         const cmsis_nn_dims *input_lhs_dims,
                                         const int16_t *input_lhs,
                                         const cmsis_nn_dims *input_rhs_dims,
                                         const int16_t *input_rhs,
                                         const cmsis_nn_dims *output_dims,
                                         int16_t *output)
{
    (void)ctx;
    const int32_t rows = input_lhs_dims->w;
    const int32_t cols = input_rhs_dims->w;
    const int32_t depth = input_rhs_dims->c;
    const int64_t lhs_size = (int64_t)rows * depth;
    const int64_t rhs_size = (int64_t)cols * depth;
    const int64_t out_size = (int64_t)rows * cols;
    for (int32_t n = 0; n < output_dims->n; n++)
    {
        const int32_t lhs_n = input_lhs_dims->n == 1 ? 0 : n;
        const int32_t rhs_n = input_rhs_dims->n == 1 ? 0 : n;
        for (int32_t h = 0; h < output_dims->h; h++)
        {
            const int32_t lhs_h = input_lhs_dims->h == 1 ? 0 : h;
            const int32_t rhs_h = input_rhs_dims->h == 1 ? 0 : h;
            matrix_s16(input_lhs + ((int64_t)lhs_n * input_lhs_dims->h + lhs_h) * lhs_size,
                       input_rhs + ((int64_t)rhs_n * input_rhs_dims->h + rhs_h) * rhs_size,
                       output + ((int64_t)n * output_dims->h + h) * out_size, rows, cols, depth, quant_params,
                       &bmm_params->fc_params);
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
