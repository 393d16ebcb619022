/*
 * arm_depthwise_conv_s16.c - s16 depthwise convolution (TFLite DEPTHWISE_CONV_2D 16x8).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Reference loop (channel multiplier > 1, input offset): 64-bit accumulation, int64 bias,
 * TFLite's int64 requantization.
 *
 * Every path for channel multiplier 1 (input offset 0, KH * KW <= 511): per output pixel
 * the window rows inside the input are visited once and the channels are accumulated in int32
 * lanes, exact because |x * w| <= 2^22 and at most 511 products are summed; the bias is added
 * and the result requantized in 64 bits per channel as in the reference loop.
 *   Helium: eight channels at a time (VLDRH.S16 / VLDRB.S16, VMULLB / VMULLT into even / odd
 *   int32 accumulators), tail-predicated.
 *   DSP: four channels at a time (SXTB16 weight pairs, SMLABB / SMLATB / SMLABT / SMLATT).
 *   Portable C: four channels at a time, one 32-bit multiply-accumulate per product.
 * No scratch memory is used (the size functions answer Arm's values for plan compatibility).
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support_s16.h"

static void dw_s16_m1(const cmsis_nn_dw_conv_params *dw_conv_params,
                      const cmsis_nn_per_channel_quant_params *quant_params,
                      const cmsis_nn_dims *input_dims,
                      const int16_t *input_data,
                      const cmsis_nn_dims *filter_dims,
                      const int8_t *filter_data,
                      const int64_t *bias_data,
                      const cmsis_nn_dims *output_dims,
                      int16_t *output_data)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t dil_h = dw_conv_params->dilation.h, dil_w = dw_conv_params->dilation.w;
    const int32_t act_min = dw_conv_params->activation.min, act_max = dw_conv_params->activation.max;
    const int32_t out_offset = dw_conv_params->output_offset;
    const int32_t *mult = quant_params->multiplier;
    const int32_t *shift = quant_params->shift;

    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int16_t *in = input_data + (int64_t)b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < out_h; oy++)
        {
            const int32_t y0 = oy * dw_conv_params->stride.h - dw_conv_params->padding.h;
            /* Kernel rows inside the input: ky in [ky_lo, ky_hi). */
            int32_t ky_lo = 0, ky_hi = k_h;
            while (ky_lo < k_h && y0 + ky_lo * dil_h < 0)
            {
                ky_lo++;
            }
            while (ky_hi > ky_lo && y0 + (ky_hi - 1) * dil_h >= in_h)
            {
                ky_hi--;
            }
            for (int32_t ox = 0; ox < out_w; ox++)
            {
                const int32_t x0 = ox * dw_conv_params->stride.w - dw_conv_params->padding.w;
                int32_t kx_lo = 0, kx_hi = k_w;
                while (kx_lo < k_w && x0 + kx_lo * dil_w < 0)
                {
                    kx_lo++;
                }
                while (kx_hi > kx_lo && x0 + (kx_hi - 1) * dil_w >= in_w)
                {
                    kx_hi--;
                }
                int16_t *out = output_data + (((int64_t)b * out_h + oy) * out_w + ox) * ch;
    #if defined(ARM_MATH_MVEI)
                for (int32_t c = 0; c < ch; c += 8)
                {
                    const mve_pred16_t p = vctp16q((uint32_t)(ch - c));
                    int32x4_t acc_e = vdupq_n_s32(0);
                    int32x4_t acc_o = vdupq_n_s32(0);
                    for (int32_t ky = ky_lo; ky < ky_hi; ky++)
                    {
                        const int16_t *row = in + ((int64_t)(y0 + ky * dil_h) * in_w) * ch + c;
                        const int8_t *wrow = filter_data + (ky * k_w) * ch + c;
                        for (int32_t kx = kx_lo; kx < kx_hi; kx++)
                        {
                            const int16x8_t xv = vldrhq_z_s16(row + (int64_t)(x0 + kx * dil_w) * ch, p);
                            const int16x8_t wv = vldrbq_z_s16(wrow + kx * ch, p);
                            acc_e = vaddq_s32(acc_e, vmullbq_int_s16(xv, wv));
                            acc_o = vaddq_s32(acc_o, vmulltq_int_s16(xv, wv));
                        }
                    }
                    int32_t sums[8];
                    vst1q_s32(sums, acc_e);
                    vst1q_s32(sums + 4, acc_o);
                    const int32_t n = MIN(8, ch - c);
                    for (int32_t i = 0; i < n; i++)
                    {
                        const int32_t lane = (i >> 1) + ((i & 1) << 2);
                        out[c + i] = byoc_nn_finish_s16(sums[lane], bias_data, c + i, mult[c + i], shift[c + i],
                                                       out_offset, act_min, act_max);
                    }
                }
    #else
                int32_t c = 0;
                for (; c <= ch - 4; c += 4)
                {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    for (int32_t ky = ky_lo; ky < ky_hi; ky++)
                    {
                        const int16_t *row = in + ((int64_t)(y0 + ky * dil_h) * in_w) * ch + c;
                        const int8_t *wrow = filter_data + (ky * k_w) * ch + c;
                        for (int32_t kx = kx_lo; kx < kx_hi; kx++)
                        {
                            const int16_t *src = row + (int64_t)(x0 + kx * dil_w) * ch;
        #if defined(ARM_MATH_DSP)
                            const int32_t x01 = byoc_nn_read_s16x2(src);
                            const int32_t x23 = byoc_nn_read_s16x2(src + 2);
                            int32_t w02, w13;
                            byoc_nn_expand_s8x4(byoc_nn_read_s8x4(wrow + kx * ch), &w02, &w13);
                            a0 = __smlabb(x01, w02, a0);
                            a1 = __smlatb(x01, w13, a1);
                            a2 = __smlabt(x23, w02, a2);
                            a3 = __smlatt(x23, w13, a3);
        #else
                            const int8_t *wp = wrow + kx * ch;
                            a0 += src[0] * wp[0];
                            a1 += src[1] * wp[1];
                            a2 += src[2] * wp[2];
                            a3 += src[3] * wp[3];
        #endif
                        }
                    }
                    out[c] = byoc_nn_finish_s16(a0, bias_data, c, mult[c], shift[c], out_offset, act_min, act_max);
                    out[c + 1] = byoc_nn_finish_s16(a1, bias_data, c + 1, mult[c + 1], shift[c + 1], out_offset,
                                                   act_min, act_max);
                    out[c + 2] = byoc_nn_finish_s16(a2, bias_data, c + 2, mult[c + 2], shift[c + 2], out_offset,
                                                   act_min, act_max);
                    out[c + 3] = byoc_nn_finish_s16(a3, bias_data, c + 3, mult[c + 3], shift[c + 3], out_offset,
                                                   act_min, act_max);
                }
                for (; c < ch; c++)
                {
                    int32_t a = 0;
                    for (int32_t ky = ky_lo; ky < ky_hi; ky++)
                    {
                        for (int32_t kx = kx_lo; kx < kx_hi; kx++)
                        {
                            a += (int32_t)in[((int64_t)(y0 + ky * dil_h) * in_w + (x0 + kx * dil_w)) * ch + c] *
                                filter_data[(ky * k_w + kx) * ch + c];
                        }
                    }
                    out[c] = byoc_nn_finish_s16(a, bias_data, c, mult[c], shift[c], out_offset, act_min, act_max);
                }
    #endif
            }
        }
    }
}

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

    if (ch_mult == 1 && in_offset == 0 && k_h * k_w <= 511)
    {
        dw_s16_m1(dw_conv_params, quant_params, input_dims, input_data, filter_dims, filter_data, bias_data,
                  output_dims, output_data);
        return ARM_CMSIS_NN_SUCCESS;
    }

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
                    int32_t res = byoc_nn_requantize_s64(acc, quant_params->multiplier[oc], quant_params->shift[oc]);
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

/* Scratch sizes (Arm's CMSIS-NN values for A16W8; byoc's kernels use none): for channel
 * multiplier 1 without dilation, one int16 window of C * KH * KW values (DSP) or four plus 8
 * bytes (Helium); 0 otherwise and on the portable path. */
static int32_t dw_s16_window(const cmsis_nn_dw_conv_params *dw_conv_params,
                             const cmsis_nn_dims *input_dims,
                             const cmsis_nn_dims *filter_dims)
{
    if (dw_conv_params->ch_mult != 1 || dw_conv_params->dilation.w != 1 || dw_conv_params->dilation.h != 1)
    {
        return 0;
    }
    return input_dims->c * filter_dims->w * filter_dims->h * (int32_t)sizeof(int16_t);
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

int32_t arm_depthwise_conv_wrapper_s16_get_buffer_size_mve(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                           const cmsis_nn_dims *input_dims,
                                                           const cmsis_nn_dims *filter_dims,
                                                           const cmsis_nn_dims *output_dims)
{
    (void)output_dims;
    const int32_t window = dw_s16_window(dw_conv_params, input_dims, filter_dims);
    return window > 0 ? 4 * window + 8 : 0;
}

int32_t arm_depthwise_conv_wrapper_s16_get_buffer_size_dsp(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                           const cmsis_nn_dims *input_dims,
                                                           const cmsis_nn_dims *filter_dims,
                                                           const cmsis_nn_dims *output_dims)
{
    (void)output_dims;
    return dw_s16_window(dw_conv_params, input_dims, filter_dims);
}
