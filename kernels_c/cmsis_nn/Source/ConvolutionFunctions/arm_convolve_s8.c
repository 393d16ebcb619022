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
 *   C:      four int8 im2col columns (C_IN*KH*KW rounded up to 4), padding = input zero point.
 * Grouped convolutions use the reference loop on every path.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

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
            byoc_nn_fill_s8_mve(col, zp, row_bytes);
        }
        else if (p->dilation.w == 1)
        {
            const int32_t left = MIN(MAX(0, -x0), k_w);
            const int32_t right = MIN(MAX(0, x0 + k_w - in_w), k_w - left);
            const int32_t mid = k_w - left - right;
            byoc_nn_fill_s8_mve(col, zp, left * in_c);
            byoc_nn_copy_s8_mve(col + left * in_c, in + (iy * in_w + x0 + left) * in_c, mid * in_c);
            byoc_nn_fill_s8_mve(col + (left + mid) * in_c, zp, right * in_c);
        }
        else
        {
            for (int32_t kx = 0; kx < k_w; kx++)
            {
                const int32_t ix = x0 + kx * p->dilation.w;
                if (ix < 0 || ix >= in_w)
                {
                    byoc_nn_fill_s8_mve(col + kx * in_c, zp, in_c);
                }
                else
                {
                    byoc_nn_copy_s8_mve(col + kx * in_c, in + (iy * in_w + ix) * in_c, in_c);
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
            byoc_nn_mat_mult_4rows_s8_mve(rows, n, filter_data, out_c, col_len, bias_data, quant_params->multiplier,
                                         quant_params->shift, 1, conv_params->input_offset,
                                         conv_params->output_offset, conv_params->activation.min,
                                         conv_params->activation.max, out + pix * out_c, out_c);
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}

#elif defined(ARM_MATH_DSP)

/*
 * DSP: im2col into int16 with the input offset added, two output pixels at a time, in the layout
 * of byoc_nn_dsp_dot2x2_c16: per group of four column values 16 bytes, {col0 (x0, x2),
 * col0 (x1, x3), col1 (x0, x2), col1 (x1, x3)} (4 * roundup(C_IN*KH*KW, 4) bytes for both
 * columns: the scratch size). Padding positions hold 0 (the zero point plus the offset). A
 * column is written as a byte stream: whole words of the input are widened directly, bytes that
 * do not fill a word wait in `pend`.
 */
typedef struct
{
    int32_t *dst;  /* the two words of the next group of this column */
    uint32_t pend; /* pending bytes, first in the low byte */
    int32_t nb;    /* number of pending bytes (0..3) */
    int32_t off2;  /* input offset in both 16-bit lanes */
    uint32_t zp4;  /* the input zero point in four bytes */
} col_writer;

ARM_NN_INLINE void cw_emit(col_writer *cw, const uint32_t w)
{
    cw->dst[0] = (int32_t)__sxtab16((uint32_t)cw->off2, w);
    cw->dst[1] = byoc_nn_sxtab16_ror8(cw->off2, (int32_t)w);
    cw->dst += 4;
}

static void cw_push_byte(col_writer *cw, const uint8_t b)
{
    cw->pend |= (uint32_t)b << (8 * cw->nb);
    if (++cw->nb == 4)
    {
        cw_emit(cw, cw->pend);
        cw->pend = 0;
        cw->nb = 0;
    }
}

/* n input values from src. */
static void cw_copy(col_writer *cw, const int8_t *src, int32_t n)
{
    while (cw->nb != 0 && n > 0)
    {
        cw_push_byte(cw, (uint8_t)*src++);
        n--;
    }
    int32_t *d = cw->dst;
    const uint32_t off2 = (uint32_t)cw->off2;
    for (; n >= 4; n -= 4)
    {
        const uint32_t w = (uint32_t)byoc_nn_read_s8x4(src);
        d[0] = (int32_t)__sxtab16(off2, w);
        d[1] = byoc_nn_sxtab16_ror8((int32_t)off2, (int32_t)w);
        d += 4;
        src += 4;
    }
    cw->dst = d;
    while (n-- > 0)
    {
        cw_push_byte(cw, (uint8_t)*src++);
    }
}

/* n padding values. */
static void cw_pad(col_writer *cw, int32_t n)
{
    while (cw->nb != 0 && n > 0)
    {
        cw_push_byte(cw, (uint8_t)cw->zp4);
        n--;
    }
    int32_t *d = cw->dst;
    for (; n >= 4; n -= 4)
    {
        d[0] = 0;
        d[1] = 0;
        d += 4;
    }
    cw->dst = d;
    while (n-- > 0)
    {
        cw_push_byte(cw, (uint8_t)cw->zp4);
    }
}

/* Column `c` (0 or 1) of output pixel (oy, ox). */
static void im2col_dsp(int32_t *cols,
                       const int32_t c,
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
    col_writer cw;
    cw.dst = cols + 2 * c;
    cw.pend = 0;
    cw.nb = 0;
    cw.off2 = byoc_nn_dup16(p->input_offset);
    cw.zp4 = 0x01010101u * (uint8_t)(int8_t)(-p->input_offset);
    const int32_t y0 = oy * p->stride.h - p->padding.h;
    const int32_t x0 = ox * p->stride.w - p->padding.w;
    for (int32_t ky = 0; ky < k_h; ky++)
    {
        const int32_t iy = y0 + ky * p->dilation.h;
        if (iy < 0 || iy >= in_h)
        {
            cw_pad(&cw, k_w * in_c);
        }
        else if (p->dilation.w == 1)
        {
            const int32_t left = MIN(MAX(0, -x0), k_w);
            const int32_t right = MIN(MAX(0, x0 + k_w - in_w), k_w - left);
            const int32_t mid = k_w - left - right;
            cw_pad(&cw, left * in_c);
            cw_copy(&cw, in + (iy * in_w + x0 + left) * in_c, mid * in_c);
            cw_pad(&cw, right * in_c);
        }
        else
        {
            for (int32_t kx = 0; kx < k_w; kx++)
            {
                const int32_t ix = x0 + kx * p->dilation.w;
                if (ix < 0 || ix >= in_w)
                {
                    cw_pad(&cw, in_c);
                }
                else
                {
                    cw_copy(&cw, in + (iy * in_w + ix) * in_c, in_c);
                }
            }
        }
    }
    if (cw.nb != 0)
    {
        cw_pad(&cw, 4 - cw.nb);
    }
}

/* Two output pixels per step: their im2col columns, then two channels at a time
 * (byoc_nn_dsp_dot2x2_c16) with the last k % 4 values in C. */
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
    static const uint8_t lane[3] = {0, 2, 1}; /* int16 slot of value r of a group */
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t out_w = output_dims->w;
    const int32_t out_c = output_dims->c;
    const int32_t n_pix = output_dims->h * out_w;
    const int32_t k = filter_dims->h * filter_dims->w * in_c;
    const int32_t groups = k >> 2;
    const int32_t k4 = groups << 2;
    const int32_t *mult = quant_params->multiplier;
    const int32_t *shift = quant_params->shift;
    const int32_t dst_offset = conv_params->output_offset;
    const int32_t act_min = conv_params->activation.min;
    const int32_t act_max = conv_params->activation.max;
    int32_t *cols = (int32_t *)buf;
    const int16_t *tail = (const int16_t *)(cols + 4 * groups);

    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int8_t *in = input_data + b * in_h * in_w * in_c;
        int8_t *out = output_data + b * n_pix * out_c;
        for (int32_t pix = 0; pix < n_pix; pix += 2)
        {
            const int two_pix = pix + 1 < n_pix;
            for (int32_t i = 0; i < 2; i++)
            {
                const int32_t q = two_pix ? pix + i : pix;
                const int32_t oy = q / out_w;
                im2col_dsp(cols, i, in, conv_params, in_h, in_w, in_c, filter_dims->h, filter_dims->w, oy,
                           q - oy * out_w);
            }
            int8_t *d0 = out + pix * out_c;
            int8_t *d1 = d0 + out_c;
            for (int32_t o = 0; o < out_c; o += 2)
            {
                const int two_ch = o + 1 < out_c;
                const int32_t o1 = two_ch ? o + 1 : o;
                const int8_t *w0 = filter_data + o * k;
                const int32_t b0 = bias_data != NULL ? bias_data[o] : 0;
                const int32_t b1 = bias_data != NULL ? bias_data[o1] : 0;
                int32_t acc[4] = {b0, b1, b0, b1};
                if (groups > 0)
                {
                    byoc_nn_dsp_dot2x2_c16((const int16_t *)cols, w0, two_ch ? k : 0, groups, acc);
                }
                for (int32_t j = k4; j < k; j++)
                {
                    const int32_t wa = w0[j];
                    const int32_t wb = w0[(o1 - o) * k + j];
                    const int32_t xa = tail[lane[j - k4]];
                    const int32_t xb = tail[4 + lane[j - k4]];
                    acc[0] += xa * wa;
                    acc[1] += xa * wb;
                    acc[2] += xb * wa;
                    acc[3] += xb * wb;
                }
                d0[o] = byoc_nn_clamp_s8(byoc_nn_requantize_dsp(acc[0], mult[o], shift[o]) + dst_offset, act_min, act_max);
                if (two_ch)
                {
                    d0[o1] =
                        byoc_nn_clamp_s8(byoc_nn_requantize_dsp(acc[1], mult[o1], shift[o1]) + dst_offset, act_min, act_max);
                }
                if (two_pix)
                {
                    d1[o] =
                        byoc_nn_clamp_s8(byoc_nn_requantize_dsp(acc[2], mult[o], shift[o]) + dst_offset, act_min, act_max);
                    if (two_ch)
                    {
                        d1[o1] = byoc_nn_clamp_s8(byoc_nn_requantize_dsp(acc[3], mult[o1], shift[o1]) + dst_offset,
                                                 act_min, act_max);
                    }
                }
            }
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

/* Portable C: im2col of four output pixels at a time (int8; the scratch buffer holds four columns
 * of C_IN*KH*KW rounded up to 4), then the matrix product with the input offset folded into
 * per-channel sums (bias + input_offset * sum of the filter row), computed once per block of up
 * to CONV_CHUNK output channels on the stack. A padding position holds the input zero point,
 * which contributes zero once the offset is folded in. */
#define CONV_CHUNK 64
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
    int32_t sums[CONV_CHUNK];

    for (int32_t o = 0; o < out_c; o += CONV_CHUNK)
    {
        const int32_t n_ch = MIN(CONV_CHUNK, out_c - o);
        const int8_t *w = filter_data + o * col_len;
        byoc_nn_kernel_sums_s8(w, n_ch, col_len, bias_data != NULL ? bias_data + o : NULL,
                               conv_params->input_offset, sums);
        for (int32_t b = 0; b < input_dims->n; b++)
        {
            const int8_t *in = input_data + b * in_h * in_w * in_c;
            int8_t *out = output_data + b * n_pix * out_c + o;
            for (int32_t pix = 0; pix < n_pix; pix += 4)
            {
                const int32_t n = MIN(4, n_pix - pix);
                for (int32_t i = 0; i < n; i++)
                {
                    const int32_t oy = (pix + i) / out_w;
                    im2col(cols + i * col_stride, in, conv_params, in_h, in_w, in_c, filter_dims->h,
                           filter_dims->w, oy, pix + i - oy * out_w);
                }
                byoc_nn_mat_mult_s8(cols, n, col_stride, w, n_ch, col_len, NULL, sums, quant_params->multiplier + o,
                                    quant_params->shift + o, 1, conv_params->input_offset, 0,
                                    conv_params->output_offset, conv_params->activation.min,
                                    conv_params->activation.max, out + pix * out_c, out_c);
            }
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
    if (filter_dims->c == input_dims->c && ctx != NULL && ctx->buf != NULL &&
        !byoc_nn_has_min_mult(quant_params->multiplier, output_dims->c))
    {
        return convolve_im2col(ctx->buf, conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                               bias_data, output_dims, output_data);
    }
#endif
    return byoc_nn_convolve_s8_ref(conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                                  bias_data, output_dims, output_data);
}
