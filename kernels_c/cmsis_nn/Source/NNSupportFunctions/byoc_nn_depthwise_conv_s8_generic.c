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

/*
 * Portable C and DSP. Per block of up to DW_CHUNK channels the input offset is folded into a per-channel
 * base (bias + input_offset * sum of the channel's KH x KW weights, on the stack), so an output
 * whose window lies inside the input is one load per operand and one multiply-accumulate per
 * tap, and two such horizontally adjacent outputs share each weight load (two pixels x two
 * channels per step). Windows crossing the border add the offset to each input value and skip
 * the taps outside (zero-point padding contributes nothing). DSP: every window takes the one-output
 * kernel, four channels per 32-bit load, SXTAB16 adding the offset to two inputs at once and
 * SMLABB / SMLATT accumulating each channel.
 */
    #define DW_CHUNK 64

typedef struct
{
    const int8_t *in;     /* input of batch b */
    const int8_t *w;      /* filter, channel c0 */
    int32_t ch;           /* channels of the tensor (pixel stride) */
    int32_t row_step;     /* input bytes from one filter row to the next */
    int32_t tap_step;     /* input bytes from one filter column to the next */
    int32_t k_h, k_w;
    int32_t off, out_off, act_min, act_max;
} dw_geom;

#if !defined(ARM_MATH_DSP)
/* Two interior outputs (input windows at a and a + pair_step), the block's n channels, two at a
 * time (four accumulators keep everything in registers on Armv7-M/v8-M). */
static void dw_pair(const dw_geom *g, const int8_t *a, const int32_t pair_step, const int32_t *base,
                    const byoc_nn_quant *q, const int32_t n, int8_t *out0, int8_t *out1)
{
    const int32_t k_h = g->k_h, k_w = g->k_w, ch = g->ch, tap_step = g->tap_step, row_step = g->row_step;
    const int32_t out_off = g->out_off, act_min = g->act_min, act_max = g->act_max;
    int32_t c = 0;
    for (; c + 2 <= n; c += 2)
    {
        int32_t a0 = base[c], a1 = base[c + 1];
        int32_t b0 = a0, b1 = a1;
        const int8_t *x = a + c;
        const int8_t *wp = g->w + c;
        for (int32_t ky = 0; ky < k_h; ky++)
        {
            const int8_t *xa = x;
            const int8_t *xb = x + pair_step;
            for (int32_t kx = k_w; kx > 0; kx--)
            {
                const int32_t v0 = wp[0], v1 = wp[1];
                a0 += xa[0] * v0;
                b0 += xb[0] * v0;
                a1 += xa[1] * v1;
                b1 += xb[1] * v1;
                xa += tap_step;
                xb += tap_step;
                wp += ch;
            }
            x += row_step;
        }
        out0[c] = byoc_nn_out_q(a0, q[c], out_off, act_min, act_max);
        out0[c + 1] = byoc_nn_out_q(a1, q[c + 1], out_off, act_min, act_max);
        out1[c] = byoc_nn_out_q(b0, q[c], out_off, act_min, act_max);
        out1[c + 1] = byoc_nn_out_q(b1, q[c + 1], out_off, act_min, act_max);
    }
    if (c < n)
    {
        int32_t acc0 = base[c], acc1 = base[c];
        const int8_t *x = a + c;
        const int8_t *wp = g->w + c;
        for (int32_t ky = 0; ky < k_h; ky++)
        {
            const int8_t *xr = x;
            for (int32_t kx = 0; kx < k_w; kx++)
            {
                acc0 += xr[0] * *wp;
                acc1 += xr[pair_step] * *wp;
                xr += tap_step;
                wp += ch;
            }
            x += row_step;
        }
        out0[c] = byoc_nn_out_q(acc0, q[c], out_off, act_min, act_max);
        out1[c] = byoc_nn_out_q(acc1, q[c], out_off, act_min, act_max);
    }
}

#endif
/* s0..s3 += (x[c] + offset) * w[c], c < 4, for the input / weight bytes at xr / wp. */
#if defined(ARM_MATH_DSP)
    #define DW_TAP4(xr, wp)                                                                  \
        do                                                                                   \
        {                                                                                    \
            const uint32_t xv_ = (uint32_t)byoc_nn_read_s8x4(xr);                           \
            const int32_t wv_ = byoc_nn_read_s8x4(wp);                                      \
            const int32_t wa_ = (int32_t)__sxtb16((uint32_t)wv_);                            \
            const int32_t wb_ = byoc_nn_sxtb16_ror8(wv_);                                    \
            const int32_t xa_ = (int32_t)__sxtab16(off2, xv_);                               \
            const int32_t xb_ = byoc_nn_sxtab16_ror8((int32_t)off2, (int32_t)xv_);           \
            s0 = __smlabb(xa_, wa_, s0);                                                     \
            s2 = __smlatt(xa_, wa_, s2);                                                     \
            s1 = __smlabb(xb_, wb_, s1);                                                     \
            s3 = __smlatt(xb_, wb_, s3);                                                     \
        } while (0)
#else
    #define DW_TAP4(xr, wp)                                                                  \
        do                                                                                   \
        {                                                                                    \
            const int8_t *xp_ = (xr), *wq_ = (wp);                                           \
            s0 += (xp_[0] + offset) * wq_[0];                                                \
            s1 += (xp_[1] + offset) * wq_[1];                                                \
            s2 += (xp_[2] + offset) * wq_[2];                                                \
            s3 += (xp_[3] + offset) * wq_[3];                                                \
        } while (0)
#endif

/* One output over filter taps [ky0, ky1) x [kx0, kx1), four channels at a time; `offset` is added
 * to each input value (0 with the folded base of an interior window, input_offset with the bias
 * at a border). */
static void dw_single(const dw_geom *g, const int8_t *a, const int32_t ky0, const int32_t ky1, const int32_t kx0,
                      const int32_t kx1, const int32_t *base, const int32_t offset, const byoc_nn_quant *q,
                      const int32_t n, int8_t *out)
{
    const int32_t k_w = g->k_w, ch = g->ch, tap_step = g->tap_step, row_step = g->row_step;
    const int32_t out_off = g->out_off, act_min = g->act_min, act_max = g->act_max;
    const int8_t *x0 = a + ky0 * row_step + kx0 * tap_step;
    const int8_t *w0 = g->w + (ky0 * k_w + kx0) * ch;
    int32_t c = 0;
    for (; c + 4 <= n; c += 4)
    {
        int32_t s0 = base[c], s1 = base[c + 1], s2 = base[c + 2], s3 = base[c + 3];
        const int8_t *x = x0 + c;
        const int8_t *wr = w0 + c;
#if defined(ARM_MATH_DSP)
        const uint32_t off2 = ((uint32_t)offset << 16) | ((uint32_t)offset & 0xFFFFu);
#endif
        if (kx1 - kx0 == 3)
        {
            /* three-column windows (3x3 filters): the columns unrolled */
            for (int32_t ky = ky0; ky < ky1; ky++)
            {
                DW_TAP4(x, wr);
                DW_TAP4(x + tap_step, wr + ch);
                DW_TAP4(x + 2 * tap_step, wr + 2 * ch);
                x += row_step;
                wr += k_w * ch;
            }
        }
        else
        {
            for (int32_t ky = ky0; ky < ky1; ky++)
            {
                const int8_t *xr = x;
                const int8_t *wp = wr;
                for (int32_t kx = kx0; kx < kx1; kx++)
                {
                    DW_TAP4(xr, wp);
                    xr += tap_step;
                    wp += ch;
                }
                x += row_step;
                wr += k_w * ch;
            }
        }
        out[c] = byoc_nn_out_q(s0, q[c], out_off, act_min, act_max);
        out[c + 1] = byoc_nn_out_q(s1, q[c + 1], out_off, act_min, act_max);
        out[c + 2] = byoc_nn_out_q(s2, q[c + 2], out_off, act_min, act_max);
        out[c + 3] = byoc_nn_out_q(s3, q[c + 3], out_off, act_min, act_max);
    }
    for (; c < n; c++)
    {
        int32_t acc = base[c];
        const int8_t *x = x0 + c;
        const int8_t *wr = w0 + c;
        for (int32_t ky = ky0; ky < ky1; ky++)
        {
            const int8_t *xr = x;
            const int8_t *wp = wr;
            for (int32_t kx = kx0; kx < kx1; kx++)
            {
                acc += (*xr + offset) * *wp;
                xr += tap_step;
                wp += ch;
            }
            x += row_step;
            wr += k_w * ch;
        }
        out[c] = byoc_nn_out_q(acc, q[c], out_off, act_min, act_max);
    }
}

static void dw_portable(const cmsis_nn_dw_conv_params *p,
                        const cmsis_nn_per_channel_quant_params *quant_params,
                        const cmsis_nn_dims *input_dims,
                        const int8_t *input_data,
                        const cmsis_nn_dims *filter_dims,
                        const int8_t *filter_data,
                        const int32_t *bias_data,
                        const cmsis_nn_dims *output_dims,
                        int8_t *output_data)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t d_h = p->dilation.h, d_w = p->dilation.w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t pair_step = p->stride.w * ch;
    int32_t bias[DW_CHUNK];
#if !defined(ARM_MATH_DSP)
    int32_t base[DW_CHUNK]; /* bias + input_offset * sum of the channel's weights */
#endif
    byoc_nn_quant q[DW_CHUNK];
    dw_geom g = {NULL, NULL, ch, d_h * in_w * ch, d_w * ch, k_h, k_w, p->input_offset, p->output_offset,
                 p->activation.min, p->activation.max};

    for (int32_t c0 = 0; c0 < ch; c0 += DW_CHUNK)
    {
        const int32_t n = MIN(DW_CHUNK, ch - c0);
        for (int32_t c = 0; c < n; c++)
        {
            bias[c] = bias_data != NULL ? bias_data[c0 + c] : 0;
#if !defined(ARM_MATH_DSP)
            int32_t sum = 0;
            for (int32_t t = 0; t < k_h * k_w; t++)
            {
                sum += filter_data[t * ch + c0 + c];
            }
            base[c] = bias[c] + p->input_offset * sum;
#endif
            q[c] = byoc_nn_quant_of(quant_params->multiplier[c0 + c], quant_params->shift[c0 + c]);
        }
        g.w = filter_data + c0;
        for (int32_t b = 0; b < input_dims->n; b++)
        {
            g.in = input_data + b * in_h * in_w * ch;
            int8_t *out_b = output_data + b * out_h * out_w * ch + c0;
            for (int32_t oy = 0; oy < out_h; oy++)
            {
                const int32_t y0 = oy * p->stride.h - p->padding.h;
                const int32_t ky0 = y0 < 0 ? (-y0 + d_h - 1) / d_h : 0;
                const int32_t ky1 = in_h - y0 <= 0 ? 0 : MIN(k_h, (in_h - y0 + d_h - 1) / d_h);
                const int rows_inside = ky0 == 0 && ky1 == k_h;
                int8_t *out = out_b + oy * out_w * ch;
                for (int32_t ox = 0; ox < out_w; ox++)
                {
                    const int32_t x0 = ox * p->stride.w - p->padding.w;
                    const int32_t kx0 = x0 < 0 ? (-x0 + d_w - 1) / d_w : 0;
                    const int32_t kx1 = in_w - x0 <= 0 ? 0 : MIN(k_w, (in_w - x0 + d_w - 1) / d_w);
                    const int8_t *a = g.in + (y0 * in_w + x0) * ch + c0;
#if defined(ARM_MATH_DSP)
                    (void)rows_inside;
                    (void)pair_step;
                    dw_single(&g, a, ky0, ky1, kx0, kx1, bias, p->input_offset, q, n, out + ox * ch);
#else
                    if (rows_inside && kx0 == 0 && kx1 == k_w)
                    {
                        /* the next window is inside too when its last column is */
                        if (ox + 1 < out_w && x0 + p->stride.w + (k_w - 1) * d_w < in_w)
                        {
                            dw_pair(&g, a, pair_step, base, q, n, out + ox * ch, out + (ox + 1) * ch);
                            ox++;
                        }
                        else
                        {
                            dw_single(&g, a, 0, k_h, 0, k_w, base, 0, q, n, out + ox * ch);
                        }
                    }
                    else
                    {
                        dw_single(&g, a, ky0, ky1, kx0, kx1, bias, p->input_offset, q, n, out + ox * ch);
                    }
#endif
                }
            }
        }
    }
}

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
    if (!byoc_nn_has_min_mult(mult, ch))
    {
        dw_portable(p, quant_params, input_dims, input_data, filter_dims, filter_data, bias_data, output_dims,
                    output_data);
        return;
    }
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
