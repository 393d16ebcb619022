/*
 * arm_svdf_s8.c - SVDF with an int8 state and int8 time weights (TFLite SVDF, TFLM's integer reference).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * One call is one time step of every batch:
 *   1. the state [batches, filters, memory] moves left by one element (flat, as TFLM does:
 *      each filter's oldest value drops out, the newest slot is refilled next);
 *   2. newest slot of filter f: sum_d (x[b, d] - input_offset) * weights_feature[f, d],
 *      requantized with input_quant_params, clamped to svdf_params->input_activation;
 *   3. time sums (input_ctx, int32 [batches, filters]): sum_m weights_time[f, m] * state[b, f, m];
 *   4. byoc_nn_svdf_output_s8: bias + rank sums (output_ctx), requantized, + output_offset,
 *      clamped to svdf_params->output_activation.
 * The state's zero point is taken as 0 (TFLM passes none to the CMSIS-NN kernels). Sums are
 * int32 with wrap-around. ctx: the Helium path's kernel sums in Arm's
 * implementation (arm_svdf_s8_get_buffer_size); this one applies input_offset directly and
 * does not read them. Scratch: input_ctx batches * filters int32, output_ctx batches * units int32.
 */
#include <string.h>

#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"
#include "Internal/byoc_nn_svdf.h"

arm_cmsis_nn_status arm_svdf_s8(const cmsis_nn_context *ctx,
                                const cmsis_nn_context *input_ctx,
                                const cmsis_nn_context *output_ctx,
                                const cmsis_nn_svdf_params *svdf_params,
                                const cmsis_nn_per_tensor_quant_params *input_quant_params,
                                const cmsis_nn_per_tensor_quant_params *output_quant_params,
                                const cmsis_nn_dims *input_dims,
                                const int8_t *input_data,
                                const cmsis_nn_dims *state_dims,
                                int8_t *state_data,
                                const cmsis_nn_dims *weights_feature_dims,
                                const int8_t *weights_feature_data,
                                const cmsis_nn_dims *weights_time_dims,
                                const int8_t *weights_time_data,
                                const cmsis_nn_dims *bias_dims,
                                const int32_t *bias_data,
                                const cmsis_nn_dims *output_dims,
                                int8_t *output_data)
{
    (void)ctx; /* Helium kernel sums (Arm's contract): not needed here */
    (void)state_dims;
    (void)bias_dims;
    (void)output_dims;
    const int32_t batches = input_dims->n;
    const int32_t depth = input_dims->h;
    const int32_t filters = weights_feature_dims->n;
    const int32_t memory = weights_time_dims->h;
    const int32_t rank = svdf_params->rank;
    const arm_cmsis_nn_status check = byoc_nn_svdf_check(input_ctx, output_ctx, rank, filters);
    if (check != ARM_CMSIS_NN_SUCCESS)
    {
        return check;
    }
    const int32_t total = batches * filters * memory;
    if (total > 1)
    {
        memmove(state_data, state_data + 1, (size_t)(total - 1) * sizeof(int8_t));
    }
    const int32_t input_offset = svdf_params->input_offset;
    for (int32_t b = 0; b < batches; b++)
    {
        const int8_t *x = input_data + b * depth;
        int8_t *newest = state_data + b * filters * memory + (memory - 1);
        for (int32_t f = 0; f < filters; f++)
        {
            const int8_t *w = weights_feature_data + f * depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < depth; d++)
            {
                acc += ((int32_t)x[d] - input_offset) * (int32_t)w[d];
            }
            const int32_t v = byoc_nn_requantize(acc, input_quant_params->multiplier,
                                                 input_quant_params->shift);
            newest[f * memory] = (int8_t)CLAMP(v, svdf_params->input_activation.max,
                                                svdf_params->input_activation.min);
        }
    }
    int32_t *time_sums = (int32_t *)input_ctx->buf;
    for (int32_t b = 0; b < batches; b++)
    {
        const int8_t *s = state_data + b * filters * memory;
        for (int32_t f = 0; f < filters; f++)
        {
            const int8_t *wt = weights_time_data + f * memory;
            uint32_t sum = 0u;
            for (int32_t m = 0; m < memory; m++)
            {
                sum += (uint32_t)((int32_t)wt[m] * (int32_t)s[f * memory + m]);
            }
            time_sums[b * filters + f] = (int32_t)sum;
        }
    }
    byoc_nn_svdf_output_s8(time_sums, (int32_t *)output_ctx->buf, bias_data, batches, filters / rank,
                           rank, output_quant_params->multiplier, output_quant_params->shift,
                           svdf_params->output_offset, svdf_params->output_activation.min,
                           svdf_params->output_activation.max, output_data);
    return ARM_CMSIS_NN_SUCCESS;
}
