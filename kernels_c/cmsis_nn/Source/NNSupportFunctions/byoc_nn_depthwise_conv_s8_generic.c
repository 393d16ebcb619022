/*
 * byoc_nn_depthwise_conv_s8_generic.c - DSP / portable depthwise convolution, channel multiplier 1.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input [N, H, W, C], filter [1, KH, KW, C], output [N, OH, OW, C]; any stride, padding,
 * dilation and batch. No scratch memory. Pixel by pixel, four channels at a time over the taps
 * inside the input (zero-point padding contributes nothing):
 *   acc[c] = bias[c] + sum over taps of (x[c] + input_offset) * w[c]
 * DSP: one 32-bit load brings four inputs and four weights; SXTAB16 / SXTB16 widen them (the input
 * with the offset added) and SMLABB / SMLATT accumulate each channel. Portable C: plain MACs.
 */
#include "Internal/byoc_nn_support.h"

#if defined(ARM_MATH_DSP)
    #define REQUANTIZE byoc_nn_requantize_dsp
#else
    #define REQUANTIZE byoc_nn_requantize
#endif

#if !defined(ARM_MATH_MVEI)

void byoc_nn_depthwise_conv_s8_generic(const cmsis_nn_dw_conv_params *p,
                                      const cmsis_nn_per_channel_quant_params *quant_params,
                                      const cmsis_nn_dims *input_dims,
                                      const int8_t *input_data,
                                      const cmsis_nn_dims *filter_dims,
                                      const int8_t *filter_data,
                                      const int32_t *bias_data,
                                      const cmsis_nn_dims *output_dims,
                                      int8_t *output_data)
{
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t ch = input_dims->c;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t d_h = p->dilation.h;
    const int32_t d_w = p->dilation.w;
    const int32_t in_off = p->input_offset;
    const int32_t out_off = p->output_offset;
    const int32_t act_min = p->activation.min;
    const int32_t act_max = p->activation.max;
    const int32_t *mult = quant_params->multiplier;
    const int32_t *shift = quant_params->shift;
#if defined(ARM_MATH_DSP)
    const uint32_t off2 = ((uint32_t)in_off << 16) | ((uint32_t)in_off & 0xFFFFu);
#endif

    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int8_t *in = input_data + b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; oy++)
        {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            const int32_t ky0 = y0 < 0 ? (-y0 + d_h - 1) / d_h : 0;
            const int32_t ky1 = in_h - y0 <= 0 ? 0 : MIN(k_h, (in_h - y0 + d_h - 1) / d_h);
            for (int32_t ox = 0; ox < output_dims->w; ox++)
            {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                const int32_t kx0 = x0 < 0 ? (-x0 + d_w - 1) / d_w : 0;
                const int32_t kx1 = in_w - x0 <= 0 ? 0 : MIN(k_w, (in_w - x0 + d_w - 1) / d_w);
                int32_t c = 0;
                for (; c + 4 <= ch; c += 4)
                {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    if (bias_data != NULL)
                    {
                        a0 = bias_data[c];
                        a1 = bias_data[c + 1];
                        a2 = bias_data[c + 2];
                        a3 = bias_data[c + 3];
                    }
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *ip = in + ((y0 + ky * d_h) * in_w + x0 + kx0 * d_w) * ch + c;
                        const int8_t *wp = filter_data + (ky * k_w + kx0) * ch + c;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
#if defined(ARM_MATH_DSP)
                            const uint32_t x = (uint32_t)byoc_nn_read_s8x4(ip);
                            const int32_t w = byoc_nn_read_s8x4(wp);
                            const int32_t wa = (int32_t)__sxtb16((uint32_t)w);
                            const int32_t wb = byoc_nn_sxtb16_ror8(w);
                            const int32_t xa = (int32_t)__sxtab16(off2, x);
                            const int32_t xb = byoc_nn_sxtab16_ror8((int32_t)off2, (int32_t)x);
                            a0 = __smlabb(xa, wa, a0);
                            a2 = __smlatt(xa, wa, a2);
                            a1 = __smlabb(xb, wb, a1);
                            a3 = __smlatt(xb, wb, a3);
#else
                            a0 += (ip[0] + in_off) * wp[0];
                            a1 += (ip[1] + in_off) * wp[1];
                            a2 += (ip[2] + in_off) * wp[2];
                            a3 += (ip[3] + in_off) * wp[3];
#endif
                            ip += d_w * ch;
                            wp += ch;
                        }
                    }
                    output_data[c] = byoc_nn_clamp_s8(REQUANTIZE(a0, mult[c], shift[c]) + out_off, act_min, act_max);
                    output_data[c + 1] =
                        byoc_nn_clamp_s8(REQUANTIZE(a1, mult[c + 1], shift[c + 1]) + out_off, act_min, act_max);
                    output_data[c + 2] =
                        byoc_nn_clamp_s8(REQUANTIZE(a2, mult[c + 2], shift[c + 2]) + out_off, act_min, act_max);
                    output_data[c + 3] =
                        byoc_nn_clamp_s8(REQUANTIZE(a3, mult[c + 3], shift[c + 3]) + out_off, act_min, act_max);
                }
                for (; c < ch; c++)
                {
                    int32_t acc = bias_data != NULL ? bias_data[c] : 0;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *ip = in + ((y0 + ky * d_h) * in_w + x0 + kx0 * d_w) * ch + c;
                        const int8_t *wp = filter_data + (ky * k_w + kx0) * ch + c;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
                            acc += (*ip + in_off) * *wp;
                            ip += d_w * ch;
                            wp += ch;
                        }
                    }
                    output_data[c] = byoc_nn_clamp_s8(REQUANTIZE(acc, mult[c], shift[c]) + out_off, act_min, act_max);
                }
                output_data += ch;
            }
        }
    }
}

#endif
