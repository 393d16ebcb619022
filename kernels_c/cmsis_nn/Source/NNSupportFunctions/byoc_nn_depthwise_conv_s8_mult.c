/*
 * byoc_nn_depthwise_conv_s8_mult.c - depthwise convolution with channel multiplier > 1, all paths.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input [N, H, W, C_IN], filter [1, KH, KW, C_OUT], output [N, OH, OW, C_OUT] with
 * C_OUT = C_IN * ch_mult; output channel oc reads input channel oc / ch_mult. Any stride,
 * padding, dilation and batch. No scratch memory.
 *
 * Output channels are processed in blocks (outer loop), pixels inside, so the per-block
 * constants (which input channel each lane reads, bias, multiplier, shift) are set up once.
 * For each pixel only the kernel taps inside the input are visited: the border pixels get a
 * clipped tap range, interior pixels the full window (skipping padding equals zero-point padding).
 *   acc[oc] = bias[oc] + sum over taps of (x[oc / ch_mult] + input_offset) * w[oc]
 * Helium: 8 output channels per block in int16 lanes; the inputs are gathered with a byte-offset
 *         vector (VLDRB gather), VMULLB / VMULLT into even / odd int32 accumulators, the tail
 *         block tail-predicated (VCTP).
 * DSP:    4 output channels; the block's inputs (one input channel when ch_mult % 4 == 0, two
 *         when ch_mult == 2) are offset once per tap into a packed int16 pair (SXTAB16) and
 *         multiplied against the SXTB16-expanded weights (SMLABB / SMLATT).
 * C:      4 output channels, the input + offset computed once per input channel per tap.
 */
#include "Internal/byoc_nn_support.h"

typedef struct
{
    int32_t ky0, ky1, kx0, kx1;
    int32_t y0, x0;
} dwm_window;

static inline void dwm_rows(const cmsis_nn_dw_conv_params *p, int32_t in_h, int32_t k_h, int32_t oy, dwm_window *w)
{
    const int32_t d_h = p->dilation.h;
    w->y0 = oy * p->stride.h - p->padding.h;
    w->ky0 = w->y0 < 0 ? (-w->y0 + d_h - 1) / d_h : 0;
    w->ky1 = in_h - w->y0 <= 0 ? 0 : MIN(k_h, (in_h - w->y0 + d_h - 1) / d_h);
}

static inline void dwm_cols(const cmsis_nn_dw_conv_params *p, int32_t in_w, int32_t k_w, int32_t ox, dwm_window *w)
{
    const int32_t d_w = p->dilation.w;
    w->x0 = ox * p->stride.w - p->padding.w;
    w->kx0 = w->x0 < 0 ? (-w->x0 + d_w - 1) / d_w : 0;
    w->kx1 = in_w - w->x0 <= 0 ? 0 : MIN(k_w, (in_w - w->x0 + d_w - 1) / d_w);
}

#if defined(ARM_MATH_MVEI)

void byoc_nn_depthwise_conv_s8_mult(const cmsis_nn_dw_conv_params *p,
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
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;
    const int32_t out_c = output_dims->c;
    const int32_t cm = p->ch_mult;
    const int32_t d_h = p->dilation.h;
    const int32_t d_w = p->dilation.w;
    const int16_t in_off = (int16_t)p->input_offset;
    const int32_t out_off = p->output_offset;
    const int32_t act_min = p->activation.min;
    const int32_t act_max = p->activation.max;
    const uint32x4_t even_idx = vidupq_n_u32(0, 2); /* lanes 0, 2, 4, 6 */
    const uint32x4_t odd_idx = vidupq_n_u32(1, 2);  /* lanes 1, 3, 5, 7 */

    for (int32_t oc = 0; oc < out_c; oc += 8)
    {
        const int32_t n = MIN(8, out_c - oc);
        const mve_pred16_t pred = vctp16q((uint32_t)n);
        const int32_t ic0 = oc / cm;
        int32_t bb[8], mb[8], sb[8];
        uint16_t xo[8];
        for (int32_t j = 0; j < 8; j++)
        {
            const int32_t c = oc + (j < n ? j : 0);
            bb[j] = bias_data != NULL ? bias_data[c] : 0;
            mb[j] = quant_params->multiplier[c];
            sb[j] = quant_params->shift[c];
            xo[j] = (uint16_t)(c / cm - ic0);
        }
        const uint16x8_t x_offsets = vld1q_u16(xo);
        const int32x4_t bias_e = vldrwq_gather_shifted_offset_s32(bb, even_idx);
        const int32x4_t bias_o = vldrwq_gather_shifted_offset_s32(bb, odd_idx);
        const int32x4_t mult_e = vldrwq_gather_shifted_offset_s32(mb, even_idx);
        const int32x4_t mult_o = vldrwq_gather_shifted_offset_s32(mb, odd_idx);
        const int32x4_t shift_e = vldrwq_gather_shifted_offset_s32(sb, even_idx);
        const int32x4_t shift_o = vldrwq_gather_shifted_offset_s32(sb, odd_idx);

        for (int32_t b = 0; b < input_dims->n; b++)
        {
            const int8_t *in = input_data + b * in_h * in_w * in_c + ic0;
            int8_t *out = output_data + b * out_h * out_w * out_c + oc;
            for (int32_t oy = 0; oy < out_h; oy++)
            {
                dwm_window win;
                dwm_rows(p, in_h, k_h, oy, &win);
                for (int32_t ox = 0; ox < out_w; ox++)
                {
                    dwm_cols(p, in_w, k_w, ox, &win);
                    int32x4_t acc_e = bias_e;
                    int32x4_t acc_o = bias_o;
                    const int32_t nkx = win.kx1 - win.kx0;
                    if (nkx > 0)
                    {
                        for (int32_t ky = win.ky0; ky < win.ky1; ky++)
                        {
                            const int8_t *ip = in + ((win.y0 + ky * d_h) * in_w + win.x0 + win.kx0 * d_w) * in_c;
                            const int8_t *wp = filter_data + (ky * k_w + win.kx0) * out_c + oc;
                            for (int32_t kx = 0; kx < nkx; kx++)
                            {
                                int16x8_t x = vldrbq_gather_offset_z_s16(ip, x_offsets, pred);
                                const int16x8_t w = vldrbq_z_s16(wp, pred);
                                x = vaddq_n_s16(x, in_off);
                                acc_e = vaddq_s32(acc_e, vmullbq_int_s16(x, w));
                                acc_o = vaddq_s32(acc_o, vmulltq_int_s16(x, w));
                                ip += d_w * in_c;
                                wp += out_c;
                            }
                        }
                    }
                    acc_e = byoc_nn_requantize_mve_32x4(acc_e, mult_e, shift_e);
                    acc_o = byoc_nn_requantize_mve_32x4(acc_o, mult_o, shift_o);
                    acc_e = vaddq_n_s32(acc_e, out_off);
                    acc_o = vaddq_n_s32(acc_o, out_off);
                    acc_e = vminq_s32(vmaxq_s32(acc_e, vdupq_n_s32(act_min)), vdupq_n_s32(act_max));
                    acc_o = vminq_s32(vmaxq_s32(acc_o, vdupq_n_s32(act_min)), vdupq_n_s32(act_max));
                    int16x8_t r = vmovnbq_s32(vdupq_n_s16(0), acc_e);
                    r = vmovntq_s32(r, acc_o);
                    vstrbq_p_s16(out, r, pred);
                    out += out_c;
                }
            }
        }
    }
}

#else

static inline int8_t dwm_out(int32_t acc, int32_t m, int32_t s, int32_t off, int32_t lo, int32_t hi)
{
    return byoc_nn_clamp_s8(byoc_nn_requantize(acc, m, s) + off, lo, hi);
}

void byoc_nn_depthwise_conv_s8_mult(const cmsis_nn_dw_conv_params *p,
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
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;
    const int32_t out_c = output_dims->c;
    const int32_t cm = p->ch_mult;
    const int32_t d_h = p->dilation.h;
    const int32_t d_w = p->dilation.w;
    const int32_t in_off = p->input_offset;
    const int32_t out_off = p->output_offset;
    const int32_t act_min = p->activation.min;
    const int32_t act_max = p->activation.max;
    const int32_t *mult = quant_params->multiplier;
    const int32_t *shift = quant_params->shift;
    const int32_t xstep = d_w * in_c;
#if defined(ARM_MATH_DSP)
    const uint32_t off2 = ((uint32_t)in_off << 16) | ((uint32_t)in_off & 0xFFFFu);
#endif

    int32_t oc = 0;
    for (; oc + 4 <= out_c; oc += 4)
    {
        const int32_t ic0 = oc / cm;
        const int32_t d1 = (oc + 1) / cm - ic0;
        const int32_t d2 = (oc + 2) / cm - ic0;
        const int32_t d3 = (oc + 3) / cm - ic0;
        /* 0: all four lanes read one input channel; 1: lanes (0, 0, 1, 1); 2: anything else */
        const int32_t mode = d3 == 0 ? 0 : (d1 == 0 && d2 == 1 && d3 == 1 ? 1 : 2);
        const int32_t b0 = bias_data != NULL ? bias_data[oc] : 0;
        const int32_t b1 = bias_data != NULL ? bias_data[oc + 1] : 0;
        const int32_t b2 = bias_data != NULL ? bias_data[oc + 2] : 0;
        const int32_t b3 = bias_data != NULL ? bias_data[oc + 3] : 0;
        for (int32_t b = 0; b < input_dims->n; b++)
        {
            const int8_t *in = input_data + b * in_h * in_w * in_c + ic0;
            int8_t *out = output_data + b * out_h * out_w * out_c + oc;
            for (int32_t oy = 0; oy < out_h; oy++)
            {
                dwm_window win;
                dwm_rows(p, in_h, k_h, oy, &win);
                for (int32_t ox = 0; ox < out_w; ox++)
                {
                    dwm_cols(p, in_w, k_w, ox, &win);
                    int32_t a0 = b0, a1 = b1, a2 = b2, a3 = b3;
                    const int32_t nkx = win.kx1 - win.kx0;
                    for (int32_t ky = win.ky0; ky < win.ky1 && nkx > 0; ky++)
                    {
                        const int8_t *ip = in + ((win.y0 + ky * d_h) * in_w + win.x0 + win.kx0 * d_w) * in_c;
                        const int8_t *wp = filter_data + (ky * k_w + win.kx0) * out_c + oc;
                        int32_t k = nkx;
                        if (mode == 2)
                        {
                            do
                            {
                                a0 += (ip[0] + in_off) * wp[0];
                                a1 += (ip[d1] + in_off) * wp[1];
                                a2 += (ip[d2] + in_off) * wp[2];
                                a3 += (ip[d3] + in_off) * wp[3];
                                ip += xstep;
                                wp += out_c;
                            } while (--k);
                            continue;
                        }
#if defined(ARM_MATH_DSP)
                        do
                        {
                            uint32_t xr;
                            if (mode == 0)
                            {
                                xr = (uint32_t)(uint8_t)ip[0] * 0x00010001u;
                            }
                            else
                            {
                                uint16_t h;
                                memcpy(&h, ip, 2);
                                xr = (uint32_t)h | ((uint32_t)h << 8);
                            }
                            const int32_t xx = (int32_t)__sxtab16(off2, xr);
                            int32_t wa, wb;
                            byoc_nn_expand_s8x4(byoc_nn_read_s8x4(wp), &wa, &wb);
                            a0 = __smlabb(xx, wa, a0);
                            a2 = __smlatt(xx, wa, a2);
                            a1 = __smlabb(xx, wb, a1);
                            a3 = __smlatt(xx, wb, a3);
                            ip += xstep;
                            wp += out_c;
                        } while (--k);
#else
                        if (mode == 0)
                        {
                            do
                            {
                                const int32_t x = ip[0] + in_off;
                                a0 += x * wp[0];
                                a1 += x * wp[1];
                                a2 += x * wp[2];
                                a3 += x * wp[3];
                                ip += xstep;
                                wp += out_c;
                            } while (--k);
                        }
                        else
                        {
                            do
                            {
                                const int32_t x0 = ip[0] + in_off;
                                const int32_t x1 = ip[1] + in_off;
                                a0 += x0 * wp[0];
                                a1 += x0 * wp[1];
                                a2 += x1 * wp[2];
                                a3 += x1 * wp[3];
                                ip += xstep;
                                wp += out_c;
                            } while (--k);
                        }
#endif
                    }
                    out[0] = dwm_out(a0, mult[oc], shift[oc], out_off, act_min, act_max);
                    out[1] = dwm_out(a1, mult[oc + 1], shift[oc + 1], out_off, act_min, act_max);
                    out[2] = dwm_out(a2, mult[oc + 2], shift[oc + 2], out_off, act_min, act_max);
                    out[3] = dwm_out(a3, mult[oc + 3], shift[oc + 3], out_off, act_min, act_max);
                    out += out_c;
                }
            }
        }
    }
    for (; oc < out_c; oc++)
    {
        const int32_t ic = oc / cm;
        const int32_t bias = bias_data != NULL ? bias_data[oc] : 0;
        for (int32_t b = 0; b < input_dims->n; b++)
        {
            const int8_t *in = input_data + b * in_h * in_w * in_c + ic;
            int8_t *out = output_data + b * out_h * out_w * out_c + oc;
            for (int32_t oy = 0; oy < out_h; oy++)
            {
                dwm_window win;
                dwm_rows(p, in_h, k_h, oy, &win);
                for (int32_t ox = 0; ox < out_w; ox++)
                {
                    dwm_cols(p, in_w, k_w, ox, &win);
                    int32_t acc = bias;
                    for (int32_t ky = win.ky0; ky < win.ky1; ky++)
                    {
                        const int8_t *ip = in + ((win.y0 + ky * d_h) * in_w + win.x0 + win.kx0 * d_w) * in_c;
                        const int8_t *wp = filter_data + (ky * k_w + win.kx0) * out_c + oc;
                        for (int32_t kx = win.kx0; kx < win.kx1; kx++)
                        {
                            acc += (*ip + in_off) * *wp;
                            ip += xstep;
                            wp += out_c;
                        }
                    }
                    *out = dwm_out(acc, mult[oc], shift[oc], out_off, act_min, act_max);
                    out += out_c;
                }
            }
        }
    }
}

#endif
