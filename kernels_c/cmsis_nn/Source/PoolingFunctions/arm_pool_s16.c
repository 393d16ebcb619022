/*
 * arm_pool_s16.c - s16 average and max pooling (TFLite AVERAGE_POOL_2D / MAX_POOL_2D int16).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Both consider only the window positions inside the input. The average divides the int32 sum
 * by the number of those positions, rounding half away from zero (TFLite).
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

static arm_cmsis_nn_status pool_s16(const cmsis_nn_pool_params *pool_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int16_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int16_t *output_data,
                                    const int is_max)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t act_min = pool_params->activation.min, act_max = pool_params->activation.max;
    const int32_t batches = input_dims->n > 0 ? input_dims->n : 1;

    for (int32_t b = 0; b < batches; b++)
    {
        const int16_t *in = input_data + (int64_t)b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < out_h; oy++)
        {
            const int32_t y0 = oy * pool_params->stride.h - pool_params->padding.h;
            const int32_t ky_lo = MAX(0, -y0), ky_hi = MIN(filter_dims->h, in_h - y0);
            for (int32_t ox = 0; ox < out_w; ox++)
            {
                const int32_t x0 = ox * pool_params->stride.w - pool_params->padding.w;
                const int32_t kx_lo = MAX(0, -x0), kx_hi = MIN(filter_dims->w, in_w - x0);
                const int32_t count = (ky_hi - ky_lo) * (kx_hi - kx_lo);
                int16_t *out = output_data + (((int64_t)b * out_h + oy) * out_w + ox) * ch;
                for (int32_t c = 0; c < ch; c++)
                {
                    int32_t acc = is_max ? -32768 : 0;
                    for (int32_t ky = ky_lo; ky < ky_hi; ky++)
                    {
                        for (int32_t kx = kx_lo; kx < kx_hi; kx++)
                        {
                            const int32_t v = in[((int64_t)(y0 + ky) * in_w + (x0 + kx)) * ch + c];
                            acc = is_max ? MAX(acc, v) : acc + v;
                        }
                    }
                    if (!is_max)
                    {
                        if (count == 0)
                        {
                            return ARM_CMSIS_NN_ARG_ERROR;
                        }
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    }
                    acc = MAX(acc, act_min);
                    acc = MIN(acc, act_max);
                    out[c] = (int16_t)acc;
                }
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}

arm_cmsis_nn_status arm_avgpool_s16(const cmsis_nn_context *ctx,
                                    const cmsis_nn_pool_params *pool_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int16_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int16_t *output_data)
{
    (void)ctx;
    return pool_s16(pool_params, input_dims, input_data, filter_dims, output_dims, output_data, 0);
}

arm_cmsis_nn_status arm_max_pool_s16(const cmsis_nn_context *ctx,
                                     const cmsis_nn_pool_params *pool_params,
                                     const cmsis_nn_dims *input_dims,
                                     const int16_t *input_data,
                                     const cmsis_nn_dims *filter_dims,
                                     const cmsis_nn_dims *output_dims,
                                     int16_t *output_data)
{
    (void)ctx;
    return pool_s16(pool_params, input_dims, input_data, filter_dims, output_dims, output_data, 1);
}

int32_t arm_avgpool_s16_get_buffer_size(const int dim_dst_width, const int ch_src)
{
#if defined(ARM_MATH_MVEI)
    return arm_avgpool_s16_get_buffer_size_mve(dim_dst_width, ch_src);
#elif defined(ARM_MATH_DSP)
    return arm_avgpool_s16_get_buffer_size_dsp(dim_dst_width, ch_src);
#else
    (void)dim_dst_width;
    (void)ch_src;
    return 0;
#endif
}

int32_t arm_avgpool_s16_get_buffer_size_mve(const int dim_dst_width, const int ch_src)
{
    (void)dim_dst_width;
    (void)ch_src;
    return 0;
}

/* byoc's kernel needs none; reserves one int32 sum per channel like the s8 DSP size. */
int32_t arm_avgpool_s16_get_buffer_size_dsp(const int dim_dst_width, const int ch_src)
{
    (void)dim_dst_width;
    return ch_src * (int32_t)sizeof(int32_t);
}
