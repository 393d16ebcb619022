/*
 * byoc_nn_depthwise_conv_s8_ref.c - depthwise convolution in TFLite reference order, no scratch.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input [N, H, W, C_IN]; filter [1, KH, KW, C_OUT] with C_OUT = C_IN * ch_mult; output channel
 * oc = ic * ch_mult + m reads input channel ic:
 *   acc = bias[oc] + sum over taps inside the input of (x[ic] + input_offset) * w[ky][kx][oc]
 *   out = clamp(requantize(acc, mult[oc], shift[oc]) + output_offset, act_min, act_max)
 * The taps inside the input are found once per output pixel (skipping the padding equals padding
 * with the input zero point).
 */
#include "Internal/byoc_nn_support.h"

arm_cmsis_nn_status byoc_nn_depthwise_conv_s8_ref(const cmsis_nn_dw_conv_params *dw_conv_params,
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
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;
    const int32_t out_c = output_dims->c;
    const int32_t ch_mult = dw_conv_params->ch_mult;
    if (ch_mult < 1 || out_c != in_c * ch_mult)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int32_t in_offset = dw_conv_params->input_offset;
    const int32_t out_offset = dw_conv_params->output_offset;
    const int32_t act_min = dw_conv_params->activation.min;
    const int32_t act_max = dw_conv_params->activation.max;

    const int32_t d_h = dw_conv_params->dilation.h;
    const int32_t d_w = dw_conv_params->dilation.w;
    for (int32_t b = 0; b < batches; b++)
    {
        const int8_t *in_batch = input_data + b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; oy++)
        {
            const int32_t base_y = oy * dw_conv_params->stride.h - dw_conv_params->padding.h;
            /* Kernel rows inside the input: [ky0, ky1). */
            const int32_t ky0 = base_y < 0 ? (-base_y + d_h - 1) / d_h : 0;
            const int32_t ky1 = in_h - base_y <= 0 ? 0 : MIN(k_h, (in_h - base_y + d_h - 1) / d_h);
            for (int32_t ox = 0; ox < out_w; ox++)
            {
                const int32_t base_x = ox * dw_conv_params->stride.w - dw_conv_params->padding.w;
                const int32_t kx0 = base_x < 0 ? (-base_x + d_w - 1) / d_w : 0;
                const int32_t kx1 = in_w - base_x <= 0 ? 0 : MIN(k_w, (in_w - base_x + d_w - 1) / d_w);
                for (int32_t oc = 0; oc < out_c; oc++)
                {
                    const int32_t ic = oc / ch_mult;
                    int32_t acc = bias_data != NULL ? bias_data[oc] : 0;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *ip = in_batch + ((base_y + ky * d_h) * in_w + base_x + kx0 * d_w) * in_c + ic;
                        const int8_t *wp = filter_data + (ky * k_w + kx0) * out_c + oc;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
                            acc += (*ip + in_offset) * *wp;
                            ip += d_w * in_c;
                            wp += out_c;
                        }
                    }
                    acc = byoc_nn_requantize(acc, quant_params->multiplier[oc], quant_params->shift[oc]) + out_offset;
                    *output_data++ = byoc_nn_clamp_s8(acc, act_min, act_max);
                }
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
