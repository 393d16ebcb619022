/*
 * arm_batch_matmul_s8.c - s8 batch matrix multiplication (TFLite BATCH_MATMUL, int8).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Layouts (row-major, as Arm's v7 API): lhs [n, h, w = M, c = K]; rhs TRANSPOSED,
 * [n, h, w = N, c = K] (output column j is rhs row j); output [n, h, w = M, c = N] with the
 * output's n and h. Batch broadcasting: an operand's n (h) is the output's or 1 (that operand's
 * matrix is reused along the dimension). The adj_x / adj_y flags are not read (as in Arm's v7:
 * the caller passes lhs as [.., M, K] and rhs as [.., N, K]).
 *   acc = sum_k (lhs[m][k] + fc_params.input_offset) * (rhs[j][k] + fc_params.filter_offset)
 *   out[m][j] = clamp(requantize(acc, multiplier, shift) + output_offset, act_min, act_max)
 * Ranges: offsets as TFLite's int8 zero points ([-127, 128] for the input offsets, [-128, 127]
 * for output_offset); per-tensor multiplier/shift from QuantizeMultiplier; int32 accumulator.
 * Scratch: none used. Arm's Helium kernel requires ctx->buf of 4 * N bytes (its kernel sums,
 * arm_fully_connected_s8_get_buffer_size with filter c = N); byoc's ignores ctx.
 * Each batch is one byoc_nn_mat_mult_s8 call (lhs rows x rhs rows, every path's kernel).
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

arm_cmsis_nn_status arm_batch_matmul_s8(const cmsis_nn_context *ctx,
                                        const cmsis_nn_bmm_params *bmm_params,
                                        const cmsis_nn_per_tensor_quant_params *quant_params,
                                        const cmsis_nn_dims *input_lhs_dims,
                                        const int8_t *input_lhs,
                                        const cmsis_nn_dims *input_rhs_dims,
                                        const int8_t *input_rhs,
                                        const cmsis_nn_dims *output_dims,
                                        int8_t *output)
{
    (void)ctx;
    const cmsis_nn_fc_params *fc = &bmm_params->fc_params;
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
            const int8_t *lhs = input_lhs + ((int64_t)lhs_n * input_lhs_dims->h + lhs_h) * lhs_size;
            const int8_t *rhs = input_rhs + ((int64_t)rhs_n * input_rhs_dims->h + rhs_h) * rhs_size;
            int8_t *out = output + ((int64_t)n * output_dims->h + h) * out_size;
            const arm_cmsis_nn_status status =
                byoc_nn_mat_mult_s8(lhs, rows, depth, rhs, cols, depth, NULL, NULL, &quant_params->multiplier,
                                    &quant_params->shift, 0, fc->input_offset, fc->filter_offset,
                                    fc->output_offset, fc->activation.min, fc->activation.max, out, cols);
            if (status != ARM_CMSIS_NN_SUCCESS)
            {
                return status;
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
