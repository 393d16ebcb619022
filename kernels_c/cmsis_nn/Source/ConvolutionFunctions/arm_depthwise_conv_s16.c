/*
 * arm_depthwise_conv_s16.c - s16 depthwise convolution (TFLite DEPTHWISE_CONV_2D 16x8).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Direct loop; 64-bit accumulation, int64 bias, TFLite's int64 requantization.
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions_s16.h"

arm_cmsis_nn_status arm_depthwise_conv_s16(const cmsis_nn_context *ctx,
                                           const cmsis_nn_dw_conv_params *dw_conv_params,
                                           const cmsis_nn_per_channel_quant_params *quant_params,
                                           const cmsis_nn_dims *input_dims,
                                           const int16_t *input_data,
                                           const cmsis_nn_dims *filter_dims,
                                           const int8_t *filter_data,
                                           const cmsis_nn_dims *bias_dims,
                                           const int64_t *bias_data,
                                           const cmsis_nn_dims *output_dims,
                                           int16_t *output_data)
{
    (void)ctx;
    (void)bias_dims;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t ch_mult = dw_conv_params->ch_mult;
    if (ch_mult <= 0 || out_c != in_c * ch_mult)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int32_t act_min = dw_conv_params->activation.min, act_max = dw_conv_params->activation.max;
    const int32_t in_offset = dw_conv_params->input_offset;
    const int32_t out_offset = dw_conv_params->output_offset;

    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int16_t *in = input_data + (int64_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; oy++)
        {
            for (int32_t ox = 0; ox < out_w; ox++)
            {
                const int32_t y0 = oy * dw_conv_params->stride.h - dw_conv_params->padding.h;
                const int32_t x0 = ox * dw_conv_params->stride.w - dw_conv_params->padding.w;
                for (int32_t oc = 0; oc < out_c; oc++)
                {
                    const int32_t ic = oc / ch_mult;
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < k_h; ky++)
                    {
                        const int32_t y = y0 + ky * dw_conv_params->dilation.h;
                        if (y < 0 || y >= in_h)
                        {
                            continue;
                        }
                        for (int32_t kx = 0; kx < k_w; kx++)
                        {
                            const int32_t x = x0 + kx * dw_conv_params->dilation.w;
                            if (x < 0 || x >= in_w)
                            {
                                continue;
                            }
                            const int32_t v = in[((int64_t)y * in_w + x) * in_c + ic] + in_offset;
                            acc += (int64_t)v * filter_data[(ky * k_w + kx) * out_c + oc];
                        }
                    }
                    if (bias_data != NULL)
                    {
                        acc += bias_data[oc];
                    }
                    int32_t res = arm_nn_requantize_s64(acc, quant_params->multiplier[oc], quant_params->shift[oc]);
                    res += out_offset;
                    res = MAX(res, act_min);
                    res = MIN(res, act_max);
                    output_data[(((int64_t)b * out_h + oy) * out_w + ox) * out_c + oc] = (int16_t)res;
                }
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}

arm_cmsis_nn_status arm_depthwise_conv_wrapper_s16(const cmsis_nn_context *ctx,
                                                   const cmsis_nn_dw_conv_params *dw_conv_params,
                                                   const cmsis_nn_per_channel_quant_params *quant_params,
                                                   const cmsis_nn_dims *input_dims,
                                                   const int16_t *input_data,
                                                   const cmsis_nn_dims *filter_dims,
                                                   const int8_t *filter_data,
                                                   const cmsis_nn_dims *bias_dims,
                                                   const int64_t *bias_data,
                                                   const cmsis_nn_dims *output_dims,
                                                   int16_t *output_data)
{
    return arm_depthwise_conv_s16(ctx, dw_conv_params, quant_params, input_dims, input_data, filter_dims,
                                  filter_data, bias_dims, bias_data, output_dims, output_data);
}

int32_t arm_depthwise_conv_wrapper_s16_get_buffer_size(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                       const cmsis_nn_dims *input_dims,
                                                       const cmsis_nn_dims *filter_dims,
                                                       const cmsis_nn_dims *output_dims)
{
#if defined(ARM_MATH_MVEI)
    return arm_depthwise_conv_wrapper_s16_get_buffer_size_mve(dw_conv_params, input_dims, filter_dims, output_dims);
#elif defined(ARM_MATH_DSP)
    return arm_depthwise_conv_wrapper_s16_get_buffer_size_dsp(dw_conv_params, input_dims, filter_dims, output_dims);
#else
    (void)dw_conv_params;
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
#endif
}

/* byoc's kernels need no scratch; the DSP / Helium sizes reserve one int16 window per input
 * channel pass (ch_mult 1) so that a plan also fits a buffered implementation. */
int32_t arm_depthwise_conv_wrapper_s16_get_buffer_size_mve(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                           const cmsis_nn_dims *input_dims,
                                                           const cmsis_nn_dims *filter_dims,
                                                           const cmsis_nn_dims *output_dims)
{
    (void)output_dims;
    if (dw_conv_params->ch_mult != 1 || input_dims->n != 1)
    {
        return 0;
    }
    return 4 * input_dims->c * filter_dims->w * filter_dims->h * (int32_t)sizeof(int16_t);
}

int32_t arm_depthwise_conv_wrapper_s16_get_buffer_size_dsp(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                           const cmsis_nn_dims *input_dims,
                                                           const cmsis_nn_dims *filter_dims,
                                                           const cmsis_nn_dims *output_dims)
{
    (void)output_dims;
    if (dw_conv_params->ch_mult != 1 || input_dims->n != 1)
    {
        return 0;
    }
    return input_dims->c * filter_dims->w * filter_dims->h * (int32_t)sizeof(int16_t);
}
