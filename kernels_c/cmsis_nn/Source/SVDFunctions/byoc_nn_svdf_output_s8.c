/*
 * byoc_nn_svdf_output_s8.c - SVDF output stage and argument checks (see Internal/byoc_nn_svdf.h).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * TFLM's integer SVDF adds the bias to the sum of each unit's rank filters and requantizes
 * with the state * time-weights / output scale; no fused activation is applied beyond the
 * int8 clamp the caller passes.
 */
#include "Internal/byoc_nn_support.h"
#include "Internal/byoc_nn_svdf.h"

void byoc_nn_svdf_output_s8(const int32_t *time_sums,
                            int32_t *unit_sums,
                            const int32_t *bias,
                            int32_t batches,
                            int32_t units,
                            int32_t rank,
                            int32_t multiplier,
                            int32_t shift,
                            int32_t output_offset,
                            int32_t act_min,
                            int32_t act_max,
                            int8_t *output)
{
    for (int32_t b = 0; b < batches; b++)
    {
        const int32_t *sums = time_sums + b * units * rank;
        for (int32_t u = 0; u < units; u++)
        {
            uint32_t acc = bias != NULL ? (uint32_t)bias[u] : 0u;
            for (int32_t r = 0; r < rank; r++)
            {
                acc += (uint32_t)sums[u * rank + r];
            }
            unit_sums[b * units + u] = (int32_t)acc;
        }
    }
    for (int32_t i = 0; i < batches * units; i++)
    {
        const int32_t y = byoc_nn_requantize(unit_sums[i], multiplier, shift) + output_offset;
        output[i] = (int8_t)CLAMP(y, act_max, act_min);
    }
}

arm_cmsis_nn_status byoc_nn_svdf_check(const cmsis_nn_context *input_ctx,
                                       const cmsis_nn_context *output_ctx,
                                       int32_t rank,
                                       int32_t filters)
{
    if (input_ctx == NULL || input_ctx->buf == NULL || output_ctx == NULL || output_ctx->buf == NULL)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    if (rank < 1 || filters % rank != 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    return ARM_CMSIS_NN_SUCCESS;
}
