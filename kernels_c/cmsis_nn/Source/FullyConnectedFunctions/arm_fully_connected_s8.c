/*
 * arm_fully_connected_s8.c - s8 fully connected layer (per-tensor and per-channel
 * requantization).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * input [N, depth] (input_dims: n batches of h*w*c = depth values), weights [C_OUT, depth]
 * (filter_dims->n = depth, filter_dims->c = C_OUT), output [N, C_OUT]:
 *   acc = bias[o] + sum_j (w[o][j] + filter_offset) * (x[j] + input_offset)
 *   out = clamp(requantize(acc, mult, shift) + output_offset, act_min, act_max)
 * Scratch: Helium builds take the kernel sums of arm_vector_sum_s8() from ctx->buf when it is
 * not NULL (bias_data is then ignored, the sums include it) and compute them on the fly
 * otherwise; other builds ignore ctx.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

static arm_cmsis_nn_status fully_connected(const cmsis_nn_context *ctx,
                                           const cmsis_nn_fc_params *fc_params,
                                           const int32_t *mult,
                                           const int32_t *shift,
                                           int32_t per_channel,
                                           const cmsis_nn_dims *input_dims,
                                           const int8_t *input_data,
                                           const cmsis_nn_dims *filter_dims,
                                           const int8_t *filter_data,
                                           const int32_t *bias_data,
                                           const cmsis_nn_dims *output_dims,
                                           int8_t *output_data)
{
    const int32_t depth = filter_dims->n;
    const int32_t out_c = output_dims->c;
    const int32_t *kernel_sum = NULL;
#if defined(ARM_MATH_MVEI)
    if (ctx != NULL && ctx->buf != NULL)
    {
        kernel_sum = (const int32_t *)ctx->buf;
    }
#else
    (void)ctx;
#endif
    return byoc_nn_mat_mult_s8(input_data, input_dims->n, depth, filter_data, out_c, depth, bias_data, kernel_sum,
                              mult, shift, per_channel, fc_params->input_offset, fc_params->filter_offset,
                              fc_params->output_offset, fc_params->activation.min, fc_params->activation.max,
                              output_data, out_c);
}

arm_cmsis_nn_status arm_fully_connected_s8(const cmsis_nn_context *ctx,
                                           const cmsis_nn_fc_params *fc_params,
                                           const cmsis_nn_per_tensor_quant_params *quant_params,
                                           const cmsis_nn_dims *input_dims,
                                           const int8_t *input_data,
                                           const cmsis_nn_dims *filter_dims,
                                           const int8_t *filter_data,
                                           const cmsis_nn_dims *bias_dims,
                                           const int32_t *bias_data,
                                           const cmsis_nn_dims *output_dims,
                                           int8_t *output_data)
{
    (void)bias_dims;
    return fully_connected(ctx, fc_params, &quant_params->multiplier, &quant_params->shift, 0, input_dims,
                           input_data, filter_dims, filter_data, bias_data, output_dims, output_data);
}

arm_cmsis_nn_status arm_fully_connected_per_channel_s8(const cmsis_nn_context *ctx,
                                                       const cmsis_nn_fc_params *fc_params,
                                                       const cmsis_nn_per_channel_quant_params *quant_params,
                                                       const cmsis_nn_dims *input_dims,
                                                       const int8_t *input_data,
                                                       const cmsis_nn_dims *filter_dims,
                                                       const int8_t *filter_data,
                                                       const cmsis_nn_dims *bias_dims,
                                                       const int32_t *bias_data,
                                                       const cmsis_nn_dims *output_dims,
                                                       int8_t *output_data)
{
    (void)bias_dims;
    return fully_connected(ctx, fc_params, quant_params->multiplier, quant_params->shift, 1, input_dims,
                           input_data, filter_dims, filter_data, bias_data, output_dims, output_data);
}

arm_cmsis_nn_status arm_fully_connected_wrapper_s8(const cmsis_nn_context *ctx,
                                                   const cmsis_nn_fc_params *fc_params,
                                                   const cmsis_nn_quant_params *quant_params,
                                                   const cmsis_nn_dims *input_dims,
                                                   const int8_t *input_data,
                                                   const cmsis_nn_dims *filter_dims,
                                                   const int8_t *filter_data,
                                                   const cmsis_nn_dims *bias_dims,
                                                   const int32_t *bias_data,
                                                   const cmsis_nn_dims *output_dims,
                                                   int8_t *output_data)
{
    (void)bias_dims;
    return fully_connected(ctx, fc_params, quant_params->multiplier, quant_params->shift,
                           quant_params->is_per_channel != 0, input_dims, input_data, filter_dims, filter_data,
                           bias_data, output_dims, output_data);
}
