/*
 * arm_convolve_s8.c - generic s8 convolution.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input [N, H, W, C_IN], filter [C_OUT, KH, KW, C_IN / groups], output [N, OH, OW, C_OUT];
 * any stride, padding, dilation; grouped convolution when filter_dims->c < input_dims->c.
 * Scratch (ctx->buf, arm_convolve_s8_get_buffer_size() bytes):
 *   Helium: four int8 im2col columns, each rounded up to 16 bytes; padding positions hold the
 *           input zero point (-input_offset) so that they contribute nothing.
 *   DSP:    two int16 im2col columns with the input offset already added.
 *   C:      unused.
 * Grouped convolutions use the reference loop on every path.
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

#if defined(ARM_MATH_MVEI)

/* One im2col column: the KH x KW x C_IN window of output (oy, ox); positions in the padding get
 * the input zero point so that (x + input_offset) is 0 there. */
static void im2col_mve(int8_t *col,
                       const int8_t *in,
                       const cmsis_nn_conv_params *p,
                       const int32_t in_h,
                       const int32_t in_w,
                       const int32_t in_c,
                       const int32_t k_h,
                       const int32_t k_w,
                       const int32_t oy,
                       const int32_t ox)
{
    const int8_t zp = (int8_t)(-p->input_offset);
    const int32_t y0 = oy * p->stride.h - p->padding.h;
    const int32_t x0 = ox * p->stride.w - p->padding.w;
    const int32_t row_bytes = k_w * in_c;
    for (int32_t ky = 0; ky < k_h; ky++)
    {
        const int32_t iy = y0 + ky * p->dilation.h;
        if (iy < 0 || iy >= in_h)
        {
            arm_nn_fill_s8_mve(col, zp, row_bytes);
        }
        else if (p->dilation.w == 1)
        {
            const int32_t left = MIN(MAX(0, -x0), k_w);
            const int32_t right = MIN(MAX(0, x0 + k_w - in_w), k_w - left);
            const int32_t mid = k_w - left - right;
            arm_nn_fill_s8_mve(col, zp, left * in_c);
            arm_nn_copy_s8_mve(col + left * in_c, in + (iy * in_w + x0 + left) * in_c, mid * in_c);
            arm_nn_fill_s8_mve(col + (left + mid) * in_c, zp, right * in_c);
        }
        else
        {
            for (int32_t kx = 0; kx < k_w; kx++)
            {
                const int32_t ix = x0 + kx * p->dilation.w;
                if (ix < 0 || ix >= in_w)
                {
                    arm_nn_fill_s8_mve(col + kx * in_c, zp, in_c);
                }
                else
                {
                    arm_nn_copy_s8_mve(col + kx * in_c, in + (iy * in_w + ix) * in_c, in_c);
                }
            }
        }
        col += row_bytes;
    }
}

/* im2col of four output pixels at a time into the scratch buffer, then four-row matrix product. */
static arm_cmsis_nn_status convolve_mve(void *buf,
                                        const cmsis_nn_conv_params *conv_params,
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
    const int32_t in_c = input_dims->c;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t out_w = output_dims->w;
    const int32_t out_c = output_dims->c;
    const int32_t n_pix = output_dims->h * out_w;
    const int32_t col_len = k_h * k_w * in_c;
    const int32_t col_stride = (col_len + 15) & ~15;
    int8_t *cols = (int8_t *)buf;

    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int8_t *in = input_data + b * in_h * in_w * in_c;
        int8_t *out = output_data + b * n_pix * out_c;
        for (int32_t pix = 0; pix < n_pix; pix += 4)
        {
            const int32_t n = MIN(4, n_pix - pix);
            const int8_t *rows[4];
            for (int32_t i = 0; i < 4; i++)
            {
                if (i < n)
                {
                    const int32_t oy = (pix + i) / out_w;
                    const int32_t ox = (pix + i) - oy * out_w;
                    im2col_mve(cols + i * col_stride, in, conv_params, in_h, in_w, in_c, k_h, k_w, oy, ox);
                }
                rows[i] = cols + (i < n ? i : 0) * col_stride;
            }
            arm_nn_mat_mult_4rows_s8_mve(rows, n, filter_data, out_c, col_len, bias_data, quant_params->multiplier,
                                         quant_params->shift, 1, conv_params->input_offset,
                                         conv_params->output_offset, conv_params->activation.min,
                                         conv_params->activation.max, out + pix * out_c, out_c);
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}

#else

/* One int8 im2col column (KH x KW x C_IN); padding positions get the input zero point. */
static void im2col(int8_t *col,
                   const int8_t *in,
                   const cmsis_nn_conv_params *p,
                   const int32_t in_h,
                   const int32_t in_w,
                   const int32_t in_c,
                   const int32_t k_h,
                   const int32_t k_w,
                   const int32_t oy,
                   const int32_t ox)
{
    const int8_t zp = (int8_t)(-p->input_offset);
    const int32_t y0 = oy * p->stride.h - p->padding.h;
    const int32_t x0 = ox * p->stride.w - p->padding.w;
    for (int32_t ky = 0; ky < k_h; ky++)
    {
        const int32_t iy = y0 + ky * p->dilation.h;
        for (int32_t kx = 0; kx < k_w; kx++)
        {
            const int32_t ix = x0 + kx * p->dilation.w;
            if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w)
            {
                memset(col, zp, (size_t)in_c);
            }
            else
            {
                memcpy(col, in + (iy * in_w + ix) * in_c, (size_t)in_c);
            }
            col += in_c;
        }
    }
}

/* DSP and portable C: im2col of two output pixels at a time (int8, the scratch buffer holds up to
 * four columns of C_IN*KH*KW rounded up to 4), then the two-row matrix product. */
static arm_cmsis_nn_status convolve_im2col(void *buf,
                                           const cmsis_nn_conv_params *conv_params,
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
    const int32_t in_c = input_dims->c;
    const int32_t out_w = output_dims->w;
    const int32_t out_c = output_dims->c;
    const int32_t n_pix = output_dims->h * out_w;
    const int32_t col_len = filter_dims->h * filter_dims->w * in_c;
    const int32_t col_stride = (col_len + 3) & ~3;
    int8_t *cols = (int8_t *)buf;

    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int8_t *in = input_data + b * in_h * in_w * in_c;
        int8_t *out = output_data + b * n_pix * out_c;
        for (int32_t pix = 0; pix < n_pix; pix += 2)
        {
            const int32_t n = MIN(2, n_pix - pix);
            for (int32_t i = 0; i < n; i++)
            {
                const int32_t oy = (pix + i) / out_w;
                im2col(cols + i * col_stride, in, conv_params, in_h, in_w, in_c, filter_dims->h, filter_dims->w, oy,
                       pix + i - oy * out_w);
            }
            arm_nn_mat_mult_s8(cols, n, col_stride, filter_data, out_c, col_len, bias_data, NULL,
                               quant_params->multiplier, quant_params->shift, 1, conv_params->input_offset, 0,
                               conv_params->output_offset, conv_params->activation.min, conv_params->activation.max,
                               out + pix * out_c, out_c);
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}

#endif

arm_cmsis_nn_status arm_convolve_s8(const cmsis_nn_context *ctx,
                                    const cmsis_nn_conv_params *conv_params,
                                    const cmsis_nn_per_channel_quant_params *quant_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int8_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const int8_t *filter_data,
                                    const cmsis_nn_dims *bias_dims,
                                    const int32_t *bias_data,
                                    const cmsis_nn_dims *upscale_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int8_t *output_data)
{
    (void)bias_dims;
    if (upscale_dims != NULL && (upscale_dims->h != 1 || upscale_dims->w != 1))
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
#if defined(ARM_MATH_MVEI)
    if (filter_dims->c == input_dims->c && ctx != NULL && ctx->buf != NULL)
    {
        return convolve_mve(ctx->buf, conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                            bias_data, output_dims, output_data);
    }
#else
    if (filter_dims->c == input_dims->c && ctx != NULL && ctx->buf != NULL)
    {
        return convolve_im2col(ctx->buf, conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                               bias_data, output_dims, output_data);
    }
#endif
    return arm_nn_convolve_s8_ref(conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                                  bias_data, output_dims, output_data);
}
