/*
 * arm_avgpool_s8.c - s8 average pooling (TFLite AVERAGE_POOL_2D).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input [N, H, W, C], window filter_dims->h x filter_dims->w, output [N, OH, OW, C]. For each
 * output the window is cut to the input (padding is not counted):
 *   sum = sum of the count inputs inside; avg = (sum +- count / 2) / count (C division, so ties
 *   round away from zero); out = clamp(avg, act_min, act_max).
 * Scratch: the DSP build uses ctx->buf (arm_avgpool_s8_get_buffer_size(): 4 * C bytes) for
 * per-channel int32 sums when it is not NULL; the other builds use none.
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

static int32_t rounded_average(const int32_t sum, const int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

arm_cmsis_nn_status arm_avgpool_s8(const cmsis_nn_context *ctx,
                                   const cmsis_nn_pool_params *pool_params,
                                   const cmsis_nn_dims *input_dims,
                                   const int8_t *input_data,
                                   const cmsis_nn_dims *filter_dims,
                                   const cmsis_nn_dims *output_dims,
                                   int8_t *output_data)
{
    (void)ctx;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t ch = input_dims->c;
    const int32_t act_min = pool_params->activation.min;
    const int32_t act_max = pool_params->activation.max;
    if (ch != output_dims->c)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int8_t *in_batch = input_data + b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; oy++)
        {
            const int32_t y0 = oy * pool_params->stride.h - pool_params->padding.h;
            const int32_t ky0 = MAX(0, -y0);
            const int32_t ky1 = MIN(filter_dims->h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ox++)
            {
                const int32_t x0 = ox * pool_params->stride.w - pool_params->padding.w;
                const int32_t kx0 = MAX(0, -x0);
                const int32_t kx1 = MIN(filter_dims->w, in_w - x0);
                const int32_t count = (ky1 - ky0) * (kx1 - kx0);
                for (int32_t c = 0; c < ch; c++)
                {
                    int32_t sum = 0;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *p = in_batch + ((y0 + ky) * in_w + x0) * ch + c;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
                            sum += p[kx * ch];
                        }
                    }
                    const int32_t avg = count > 0 ? rounded_average(sum, count) : 0;
                    *output_data++ = arm_nn_clamp_s8(avg, act_min, act_max);
                }
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
