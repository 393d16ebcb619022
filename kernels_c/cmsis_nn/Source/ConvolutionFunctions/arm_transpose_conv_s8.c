/*
 * arm_transpose_conv_s8.c - s8 transpose convolution (TFLite TRANSPOSE_CONV), portable C.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Every input pixel (iy, ix) scatters filter tap (fy, fx) to output (iy * stride.h + fy - padding.h,
 * ix * stride.w + fx - padding.w); outputs outside [0, OH) x [0, OW) are cropped (padding_offsets,
 * the odd part of TFLite's total padding, is implied by the output size). This kernel gathers
 * instead: for each output pixel it visits the taps whose input row / column is an integer in
 * range, so every output is accumulated once in a register (no scratch; ctx / output_ctx are
 * accepted for the API and not used):
 *   acc = bias[co] + sum (x[iy][ix][ci] + input_offset) * w[co][fy][fx][ci]
 *   out = clamp(requantize(acc, multiplier[co], shift[co]) + output_offset)
 * Layouts: input NHWC, filter [C_OUT, KH, KW, C_IN] (OHWI), output NHWC. Dilation must be 1.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

/* Sum over the input channels of one (input pixel, filter tap) pair. */
static int32_t byoc_nn_tconv_dot(const int8_t *x, const int8_t *w, const int32_t c_in, const int32_t input_offset)
{
    int32_t sum = 0;
    for (int32_t ci = 0; ci < c_in; ci++)
    {
        sum += ((int32_t)x[ci] + input_offset) * (int32_t)w[ci];
    }
    return sum;
}

/* First tap index f >= 0 with (pos + pad - f) divisible by stride, and the input index it hits. */
static int32_t byoc_nn_tconv_first_tap(const int32_t pos_plus_pad, const int32_t stride)
{
    return pos_plus_pad % stride;
}

arm_cmsis_nn_status arm_transpose_conv_s8(const cmsis_nn_context *ctx,
                                          const cmsis_nn_context *output_ctx,
                                          const cmsis_nn_transpose_conv_params *transpose_conv_params,
                                          const cmsis_nn_per_channel_quant_params *quant_params,
                                          const cmsis_nn_dims *input_dims,
                                          const int8_t *input_data,
                                          const cmsis_nn_dims *filter_dims,
                                          const int8_t *filter_data,
                                          const cmsis_nn_dims *bias_dims,
                                          const int32_t *bias_data,
                                          const cmsis_nn_dims *output_dims,
                                          int8_t *output_data)
{
    (void)ctx;
    (void)output_ctx;
    (void)bias_dims;
    const cmsis_nn_transpose_conv_params *p = transpose_conv_params;
    if (p->stride.h < 1 || p->stride.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        filter_dims->c != input_dims->c)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c_in = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, c_out = output_dims->c;
    const int32_t tap_size = c_in, filter_size = k_h * k_w * c_in;

    for (int32_t n = 0; n < input_dims->n; n++)
    {
        const int8_t *in_batch = input_data + n * in_h * in_w * c_in;
        for (int32_t oy = 0; oy < out_h; oy++)
        {
            const int32_t y_pad = oy + p->padding.h; /* = iy * stride + fy */
            for (int32_t ox = 0; ox < out_w; ox++)
            {
                const int32_t x_pad = ox + p->padding.w;
                for (int32_t co = 0; co < c_out; co++)
                {
                    const int8_t *w_ch = filter_data + co * filter_size;
                    int32_t acc = bias_data != NULL ? bias_data[co] : 0;
                    for (int32_t fy = byoc_nn_tconv_first_tap(y_pad, p->stride.h); fy < k_h; fy += p->stride.h)
                    {
                        const int32_t iy = (y_pad - fy) / p->stride.h;
                        if (iy < 0 || iy >= in_h)
                        {
                            continue;
                        }
                        for (int32_t fx = byoc_nn_tconv_first_tap(x_pad, p->stride.w); fx < k_w; fx += p->stride.w)
                        {
                            const int32_t ix = (x_pad - fx) / p->stride.w;
                            if (ix < 0 || ix >= in_w)
                            {
                                continue;
                            }
                            acc += byoc_nn_tconv_dot(in_batch + (iy * in_w + ix) * c_in,
                                                     w_ch + (fy * k_w + fx) * tap_size,
                                                     c_in,
                                                     p->input_offset);
                        }
                    }
                    const int32_t res = byoc_nn_requantize(acc, quant_params->multiplier[co], quant_params->shift[co]);
                    *output_data++ = byoc_nn_clamp_s8(res + p->output_offset, p->activation.min, p->activation.max);
                }
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
