/*
 * byoc_nn_convolve_s8_ref.c - convolution in TFLite reference order, no scratch memory.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input NHWC [N, H, W, C_IN]; filter OHWI [C_OUT, KH, KW, C_IN / groups]; output [N, OH, OW, C_OUT].
 * For each output element:
 *   acc = bias[oc] + sum over taps inside the input of (x + input_offset) * w
 *   out = clamp(requantize(acc, mult[oc], shift[oc]) + output_offset, act_min, act_max)
 * Taps in the padding are skipped, which equals padding with the input zero point.
 * Grouped convolution: group g = oc / (C_OUT / groups) reads input channels
 * [g * C_IN/groups, (g+1) * C_IN/groups).
 */
#include "Internal/byoc_nn_support.h"

arm_cmsis_nn_status byoc_nn_convolve_s8_ref(const cmsis_nn_conv_params *conv_params,
                                           const cmsis_nn_per_channel_quant_params *quant_params,
                                           const cmsis_nn_dims *input_dims,
                                           const int8_t *input_data,
                                           const cmsis_nn_dims *filter_dims,
                                           const int8_t *filter_data,
                                           const int32_t *bias_data,
                                           const cmsis_nn_dims *output_dims,
                                           int8_t *output_data)
{
    const int32_t batches = input_dims->n;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t f_c = filter_dims->c;
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;
    const int32_t out_c = output_dims->c;
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
    const int32_t in_offset = conv_params->input_offset;
    const int32_t out_offset = conv_params->output_offset;
    const int32_t act_min = conv_params->activation.min;
    const int32_t act_max = conv_params->activation.max;

    for (int32_t b = 0; b < batches; b++)
    {
        const int8_t *in_batch = input_data + b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; oy++)
        {
            const int32_t base_y = oy * conv_params->stride.h - conv_params->padding.h;
            for (int32_t ox = 0; ox < out_w; ox++)
            {
                const int32_t base_x = ox * conv_params->stride.w - conv_params->padding.w;
                for (int32_t oc = 0; oc < out_c; oc++)
                {
                    const int32_t g = oc / out_per_group;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < k_h; ky++)
                    {
                        const int32_t iy = base_y + ky * conv_params->dilation.h;
                        if (iy < 0 || iy >= in_h)
                        {
                            continue;
                        }
                        for (int32_t kx = 0; kx < k_w; kx++)
                        {
                            const int32_t ix = base_x + kx * conv_params->dilation.w;
                            if (ix < 0 || ix >= in_w)
                            {
                                continue;
                            }
                            const int8_t *ip = in_batch + (iy * in_w + ix) * in_c + g * f_c;
                            const int8_t *wp = filter_data + ((oc * k_h + ky) * k_w + kx) * f_c;
                            for (int32_t ic = 0; ic < f_c; ic++)
                            {
                                acc += (ip[ic] + in_offset) * wp[ic];
                            }
                        }
                    }
                    if (bias_data != NULL)
                    {
                        acc += bias_data[oc];
                    }
                    acc = byoc_nn_requantize(acc, quant_params->multiplier[oc], quant_params->shift[oc]) + out_offset;
                    *output_data++ = byoc_nn_clamp_s8(acc, act_min, act_max);
                }
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
