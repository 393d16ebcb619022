/*
 * arm_convolve_s16.c - s16 convolution (TFLite CONV_2D with int16 activations, int8 weights).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Direct loop over output pixels and channels; each output channel accumulates in 64 bits
 * (int64 bias) or in 32 bits (int32 bias, TFLite's int32 accumulator) and is requantized with
 * the matching TFLite rule. Grouped convolution (filter C < input C) is supported.
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions_s16.h"

arm_cmsis_nn_status arm_convolve_s16(const cmsis_nn_context *ctx,
                                     const cmsis_nn_conv_params *conv_params,
                                     const cmsis_nn_per_channel_quant_params *quant_params,
                                     const cmsis_nn_dims *input_dims,
                                     const int16_t *input_data,
                                     const cmsis_nn_dims *filter_dims,
                                     const int8_t *filter_data,
                                     const cmsis_nn_dims *bias_dims,
                                     const cmsis_nn_bias_data *bias_data,
                                     const cmsis_nn_dims *output_dims,
                                     int16_t *output_data)
{
    (void)ctx;
    (void)bias_dims;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, f_c = filter_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    if (f_c <= 0 || in_c % f_c != 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int32_t groups = in_c / f_c;
    if (out_c % groups != 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int32_t out_per_group = out_c / groups;
    const int32_t act_min = conv_params->activation.min, act_max = conv_params->activation.max;
    const int32_t out_offset = conv_params->output_offset;
    const int32_t in_offset = conv_params->input_offset;
    const void *bias = bias_data != NULL ? bias_data->data : NULL;
    const bool int32_bias = bias_data != NULL && bias_data->is_int32_bias;

    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int16_t *in = input_data + (int64_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; oy++)
        {
            for (int32_t ox = 0; ox < out_w; ox++)
            {
                const int32_t y0 = oy * conv_params->stride.h - conv_params->padding.h;
                const int32_t x0 = ox * conv_params->stride.w - conv_params->padding.w;
                for (int32_t oc = 0; oc < out_c; oc++)
                {
                    const int32_t g = oc / out_per_group;
                    const int8_t *w = filter_data + (int64_t)oc * k_h * k_w * f_c;
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < k_h; ky++)
                    {
                        const int32_t y = y0 + ky * conv_params->dilation.h;
                        if (y < 0 || y >= in_h)
                        {
                            continue;
                        }
                        for (int32_t kx = 0; kx < k_w; kx++)
                        {
                            const int32_t x = x0 + kx * conv_params->dilation.w;
                            if (x < 0 || x >= in_w)
                            {
                                continue;
                            }
                            const int16_t *src = in + ((int64_t)y * in_w + x) * in_c + g * f_c;
                            const int8_t *wk = w + (ky * k_w + kx) * f_c;
                            for (int32_t ic = 0; ic < f_c; ic++)
                            {
                                acc += (int64_t)(src[ic] + in_offset) * wk[ic];
                            }
                        }
                    }
                    int32_t res;
                    if (int32_bias)
                    {
                        int32_t acc32 = (int32_t)acc;
                        if (bias != NULL)
                        {
                            acc32 += ((const int32_t *)bias)[oc];
                        }
                        res = arm_nn_requantize(acc32, quant_params->multiplier[oc], quant_params->shift[oc]);
                    }
                    else
                    {
                        if (bias != NULL)
                        {
                            acc += ((const int64_t *)bias)[oc];
                        }
                        res = arm_nn_requantize_s64(acc, quant_params->multiplier[oc], quant_params->shift[oc]);
                    }
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

arm_cmsis_nn_status arm_convolve_wrapper_s16(const cmsis_nn_context *ctx,
                                             const cmsis_nn_conv_params *conv_params,
                                             const cmsis_nn_per_channel_quant_params *quant_params,
                                             const cmsis_nn_dims *input_dims,
                                             const int16_t *input_data,
                                             const cmsis_nn_dims *filter_dims,
                                             const int8_t *filter_data,
                                             const cmsis_nn_dims *bias_dims,
                                             const cmsis_nn_bias_data *bias_data,
                                             const cmsis_nn_dims *output_dims,
                                             int16_t *output_data)
{
    return arm_convolve_s16(ctx, conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                            bias_dims, bias_data, output_dims, output_data);
}

/* Scratch sizes: byoc's kernels need none; the sizes reserve an int16 im2col buffer of two
 * columns (DSP / Helium) so that a plan also fits an im2col-based library. */
int32_t arm_convolve_s16_get_buffer_size(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
#if defined(ARM_MATH_MVEI) || defined(ARM_MATH_DSP)
    return 2 * input_dims->c * filter_dims->w * filter_dims->h * (int32_t)sizeof(int16_t);
#else
    (void)input_dims;
    (void)filter_dims;
    return 0;
#endif
}

int32_t arm_convolve_wrapper_s16_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                                 const cmsis_nn_dims *input_dims,
                                                 const cmsis_nn_dims *filter_dims,
                                                 const cmsis_nn_dims *output_dims)
{
#if defined(ARM_MATH_MVEI)
    return arm_convolve_wrapper_s16_get_buffer_size_mve(conv_params, input_dims, filter_dims, output_dims);
#elif defined(ARM_MATH_DSP)
    return arm_convolve_wrapper_s16_get_buffer_size_dsp(conv_params, input_dims, filter_dims, output_dims);
#else
    (void)conv_params;
    (void)output_dims;
    return arm_convolve_s16_get_buffer_size(input_dims, filter_dims);
#endif
}

int32_t arm_convolve_wrapper_s16_get_buffer_size_mve(const cmsis_nn_conv_params *conv_params,
                                                     const cmsis_nn_dims *input_dims,
                                                     const cmsis_nn_dims *filter_dims,
                                                     const cmsis_nn_dims *output_dims)
{
    (void)conv_params;
    (void)output_dims;
    return 2 * input_dims->c * filter_dims->w * filter_dims->h * (int32_t)sizeof(int16_t);
}

int32_t arm_convolve_wrapper_s16_get_buffer_size_dsp(const cmsis_nn_conv_params *conv_params,
                                                     const cmsis_nn_dims *input_dims,
                                                     const cmsis_nn_dims *filter_dims,
                                                     const cmsis_nn_dims *output_dims)
{
    (void)conv_params;
    (void)output_dims;
    return 2 * input_dims->c * filter_dims->w * filter_dims->h * (int32_t)sizeof(int16_t);
}
