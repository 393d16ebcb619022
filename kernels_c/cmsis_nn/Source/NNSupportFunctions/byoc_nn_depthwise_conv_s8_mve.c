/*
 * byoc_nn_depthwise_conv_s8_mve.c - Helium depthwise convolution, channel multiplier 1.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input [N, H, W, C], filter [1, KH, KW, C], output [N, OH, OW, C]; any stride, padding,
 * dilation and batch. No scratch memory.
 *
 * Channels are processed in blocks of 16 (then 8, then a predicated remainder) in the outer
 * loop, pixels inside, so the per-channel constants are loaded once per block. For each pixel
 * only the taps inside the input are visited (that equals zero-point padding):
 *   acc = bias + sum over taps of (x + input_offset) * w
 * Inputs are widened to int16 lanes (x + input_offset fits), VMULLB / VMULLT multiply the even /
 * odd lanes into int32 accumulators, so a block of 16 channels keeps four accumulators:
 * 17 instructions per 16 multiply-accumulates in the tap loop (inline assembly, low-overhead
 * loop); 15 for pixels whose window is entirely inside the input, which start from
 * bias + input_offset * (sum of the weights) instead of adding the offset to every input. The accumulators are requantized per lane and narrowed back in channel order
 * (VMOVNB / VMOVNT) for 8-byte stores.
 */
#include "Internal/byoc_nn_support.h"

#if defined(ARM_MATH_MVEI)

typedef struct
{
    const int8_t *ip;  /* input at the first valid tap, first channel of the block */
    const int8_t *wp;  /* weights at the first valid tap */
    int32_t nky;       /* valid kernel rows (>= 1) */
    int32_t nkx;       /* valid kernel columns (>= 1) */
    int32_t xstep;     /* bytes between taps in a row of the input */
    int32_t wstep;     /* bytes between taps in the filter (= C) */
    int32_t yadv;      /* input advance from the end of a tap row to the next row */
    int32_t wadv;      /* filter advance from the end of a tap row to the next row */
} dw_taps;

/* 16 channels: acc[0..3] = even / odd lanes of channels 0-7, even / odd of 8-15. */
static inline void taps16(const dw_taps *t, const int32_t off, int32x4_t acc[4])
{
    int32x4_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int8_t *ip = t->ip;
    const int8_t *wp = t->wp;
    int32_t nky = t->nky;
    __asm volatile("2: dls         lr, %[nkx]              \n"
                   "1: vldrb.s16   q0, [%[ip]]             \n"
                   "   vldrb.s16   q1, [%[wp]]             \n"
                   "   vadd.i16    q0, q0, %[off]          \n"
                   "   vmullb.s16  q2, q0, q1              \n"
                   "   vadd.i32    %q[a0], %q[a0], q2      \n"
                   "   vmullt.s16  q2, q0, q1              \n"
                   "   vadd.i32    %q[a1], %q[a1], q2      \n"
                   "   vldrb.s16   q0, [%[ip], #8]         \n"
                   "   vldrb.s16   q1, [%[wp], #8]         \n"
                   "   vadd.i16    q0, q0, %[off]          \n"
                   "   vmullb.s16  q2, q0, q1              \n"
                   "   vadd.i32    %q[a2], %q[a2], q2      \n"
                   "   vmullt.s16  q2, q0, q1              \n"
                   "   vadd.i32    %q[a3], %q[a3], q2      \n"
                   "   add         %[ip], %[ip], %[xstep]  \n"
                   "   add         %[wp], %[wp], %[wstep]  \n"
                   "   le          lr, 1b                  \n"
                   "   add         %[ip], %[ip], %[yadv]   \n"
                   "   add         %[wp], %[wp], %[wadv]   \n"
                   "   subs        %[nky], %[nky], #1      \n"
                   "   bne         2b                      \n"
                   : [a0] "+w"(a0), [a1] "+w"(a1), [a2] "+w"(a2), [a3] "+w"(a3), [ip] "+l"(ip), [wp] "+l"(wp),
                     [nky] "+r"(nky)
                   : [nkx] "r"(t->nkx), [xstep] "r"(t->xstep), [wstep] "r"(t->wstep), [yadv] "r"(t->yadv),
                     [wadv] "r"(t->wadv), [off] "r"(off)
                   : "q0", "q1", "q2", "lr", "memory", "cc");
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* As taps16 without the input offset (interior pixels: it is in the accumulator start value). */
static inline void taps16_raw(const dw_taps *t, int32x4_t acc[4])
{
    int32x4_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int8_t *ip = t->ip;
    const int8_t *wp = t->wp;
    int32_t nky = t->nky;
    __asm volatile("2: dls         lr, %[nkx]              \n"
                   "1: vldrb.s16   q0, [%[ip]]             \n"
                   "   vldrb.s16   q1, [%[wp]]             \n"
                   "   vmullb.s16  q2, q0, q1              \n"
                   "   vadd.i32    %q[a0], %q[a0], q2      \n"
                   "   vmullt.s16  q2, q0, q1              \n"
                   "   vadd.i32    %q[a1], %q[a1], q2      \n"
                   "   vldrb.s16   q0, [%[ip], #8]         \n"
                   "   vldrb.s16   q1, [%[wp], #8]         \n"
                   "   vmullb.s16  q2, q0, q1              \n"
                   "   vadd.i32    %q[a2], %q[a2], q2      \n"
                   "   vmullt.s16  q2, q0, q1              \n"
                   "   vadd.i32    %q[a3], %q[a3], q2      \n"
                   "   add         %[ip], %[ip], %[xstep]  \n"
                   "   add         %[wp], %[wp], %[wstep]  \n"
                   "   le          lr, 1b                  \n"
                   "   add         %[ip], %[ip], %[yadv]   \n"
                   "   add         %[wp], %[wp], %[wadv]   \n"
                   "   subs        %[nky], %[nky], #1      \n"
                   "   bne         2b                      \n"
                   : [a0] "+w"(a0), [a1] "+w"(a1), [a2] "+w"(a2), [a3] "+w"(a3), [ip] "+l"(ip), [wp] "+l"(wp),
                     [nky] "+r"(nky)
                   : [nkx] "r"(t->nkx), [xstep] "r"(t->xstep), [wstep] "r"(t->wstep), [yadv] "r"(t->yadv),
                     [wadv] "r"(t->wadv)
                   : "q0", "q1", "q2", "lr", "memory", "cc");
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* 8 channels: acc[0..1] = even / odd lanes. */
static inline void taps8(const dw_taps *t, const int32_t off, int32x4_t acc[2])
{
    int32x4_t a0 = acc[0], a1 = acc[1];
    const int8_t *ip = t->ip;
    const int8_t *wp = t->wp;
    int32_t nky = t->nky;
    __asm volatile("2: dls         lr, %[nkx]              \n"
                   "1: vldrb.s16   q0, [%[ip]]             \n"
                   "   vldrb.s16   q1, [%[wp]]             \n"
                   "   vadd.i16    q0, q0, %[off]          \n"
                   "   vmullb.s16  q2, q0, q1              \n"
                   "   vadd.i32    %q[a0], %q[a0], q2      \n"
                   "   vmullt.s16  q2, q0, q1              \n"
                   "   vadd.i32    %q[a1], %q[a1], q2      \n"
                   "   add         %[ip], %[ip], %[xstep]  \n"
                   "   add         %[wp], %[wp], %[wstep]  \n"
                   "   le          lr, 1b                  \n"
                   "   add         %[ip], %[ip], %[yadv]   \n"
                   "   add         %[wp], %[wp], %[wadv]   \n"
                   "   subs        %[nky], %[nky], #1      \n"
                   "   bne         2b                      \n"
                   : [a0] "+w"(a0), [a1] "+w"(a1), [ip] "+l"(ip), [wp] "+l"(wp), [nky] "+r"(nky)
                   : [nkx] "r"(t->nkx), [xstep] "r"(t->xstep), [wstep] "r"(t->wstep), [yadv] "r"(t->yadv),
                     [wadv] "r"(t->wadv), [off] "r"(off)
                   : "q0", "q1", "q2", "lr", "memory", "cc");
    acc[0] = a0;
    acc[1] = a1;
}

/* Fewer than 8 channels: predicated intrinsics. */
static inline void taps_pred(const dw_taps *t, const int32_t off, const mve_pred16_t p, int32x4_t acc[2])
{
    const int8_t *ip = t->ip;
    const int8_t *wp = t->wp;
    for (int32_t ky = 0; ky < t->nky; ky++)
    {
        for (int32_t kx = 0; kx < t->nkx; kx++)
        {
            const int16x8_t x = vaddq_n_s16(vldrbq_z_s16(ip, p), (int16_t)off);
            const int16x8_t w = vldrbq_z_s16(wp, p);
            acc[0] = vaddq_s32(acc[0], vmullbq_int_s16(x, w));
            acc[1] = vaddq_s32(acc[1], vmulltq_int_s16(x, w));
            ip += t->xstep;
            wp += t->wstep;
        }
        ip += t->yadv;
        wp += t->wadv;
    }
}

/* First valid kernel index and count along one axis. */
static inline int32_t valid_taps(const int32_t start, const int32_t k, const int32_t d, const int32_t size,
                                 int32_t *first)
{
    const int32_t k0 = start < 0 ? (-start + d - 1) / d : 0;
    const int32_t end = size - start;
    const int32_t k1 = end <= 0 ? 0 : MIN(k, (end + d - 1) / d);
    *first = k0;
    return k1 - k0;
}

/* Per-lane requantization constants of one accumulator vector (four channels). */
typedef struct
{
    int32x4_t mult;
    int32x4_t left;  /* max(shift, 0) */
    int32x4_t right; /* min(shift, 0): a right shift for VRSHL */
    int32x4_t fixup; /* -1 where right < 0 (round ties away from zero) */
} dw_quant;

static inline void quant_init(dw_quant *q, const int32x4_t mult, const int32x4_t shift)
{
    q->mult = mult;
    q->left = vmaxq_s32(shift, vdupq_n_s32(0));
    q->right = vminq_s32(shift, vdupq_n_s32(0));
    q->fixup = vshrq_n_s32(q->right, 31);
}

/* Requantize; `simple` when every lane has a negative shift (the usual case). */
static inline int32x4_t quant_apply(int32x4_t v, const dw_quant *q, const int simple)
{
    if (!simple)
    {
        v = vshlq_s32(v, q->left);
        v = vqrdmulhq_s32(v, q->mult);
        v = vqaddq_s32(v, vandq_s32(vshrq_n_s32(v, 31), q->fixup));
    }
    else
    {
        v = vqrdmulhq_s32(v, q->mult);
        v = vqaddq_s32(v, vshrq_n_s32(v, 31));
    }
    return vrshlq_s32(v, q->right);
}

/* Requantize 8 channels held as even / odd lanes and store them in channel order. */
static inline void store8(int32x4_t even,
                          int32x4_t odd,
                          const dw_quant *q,
                          const int simple,
                          const int32_t out_off,
                          const int32x4_t act_min,
                          const int32x4_t act_max,
                          int8_t *out,
                          const mve_pred16_t p)
{
    even = quant_apply(even, &q[0], simple);
    odd = quant_apply(odd, &q[1], simple);
    even = vminq_s32(vmaxq_s32(vaddq_n_s32(even, out_off), act_min), act_max);
    odd = vminq_s32(vmaxq_s32(vaddq_n_s32(odd, out_off), act_min), act_max);
    int16x8_t res = vmovnbq_s32(vuninitializedq_s16(), even);
    res = vmovntq_s32(res, odd);
    vstrbq_p_s16(out, res, p);
}

/* Per-channel constants of 8 channels in even / odd lane order (predicated on nc). */
static inline void load8(const int32_t *src, const int32_t nc, int32x4_t dst[2])
{
    const mve_pred16_t p_even = vctp32q((uint32_t)(nc + 1) / 2);
    const mve_pred16_t p_odd = vctp32q((uint32_t)nc / 2);
    dst[0] = vldrwq_gather_shifted_offset_z_s32(src, vidupq_n_u32(0, 2), p_even);
    dst[1] = vldrwq_gather_shifted_offset_z_s32(src, vidupq_n_u32(1, 2), p_odd);
}

void byoc_nn_depthwise_conv_s8_mve(const cmsis_nn_dw_conv_params *p,
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
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;
    const int32_t d_h = p->dilation.h;
    const int32_t d_w = p->dilation.w;
    const int32_t s_w = p->stride.w;
    const int32_t in_off = p->input_offset;
    const int32_t out_off = p->output_offset;
    const int32x4_t act_min = vdupq_n_s32(p->activation.min);
    const int32x4_t act_max = vdupq_n_s32(p->activation.max);
    static const int32_t zeros[16] = {0};

    /* Output columns whose window is entirely inside the input: [ox_lo, ox_hi). */
    const int32_t span_w = (k_w - 1) * d_w + 1;
    const int32_t ox_lo = MIN(out_w, (p->padding.w + s_w - 1) / s_w);
    const int32_t last_x = in_w - span_w + p->padding.w; /* largest interior x0 + padding */
    const int32_t ox_hi = last_x < 0 ? ox_lo : MAX(ox_lo, MIN(out_w, last_x / s_w + 1));

    for (int32_t c0 = 0; c0 < ch;)
    {
        const int32_t nc = ch - c0 >= 16 ? 16 : (ch - c0 >= 8 ? 8 : ch - c0);
        const mve_pred16_t p16 = vctp16q((uint32_t)MIN(nc, 8));
        int32x4_t bias[4];
        dw_quant q[4];
        int simple = 1;
        const int32_t *b = bias_data != NULL ? bias_data + c0 : zeros;
        for (int32_t h = 0; h < (nc + 7) / 8; h++)
        {
            const int32_t n = MIN(8, nc - 8 * h);
            int32x4_t mult[2], shift[2];
            load8(b + 8 * h, n, &bias[2 * h]);
            load8(quant_params->multiplier + c0 + 8 * h, n, mult);
            load8(quant_params->shift + c0 + 8 * h, n, shift);
            for (int32_t i = 0; i < 2; i++)
            {
                quant_init(&q[2 * h + i], mult[i], shift[i]);
                /* Lanes past nc have shift 0; they are never stored. */
                const mve_pred16_t valid = vctp32q((uint32_t)MAX(0, (n + 1 - i) / 2));
                if (vcmpgeq_m_n_s32(shift[i], 0, valid) != 0)
                {
                    simple = 0;
                }
            }
        }
        if (nc < 16)
        {
            bias[2] = bias[3] = vdupq_n_s32(0);
        }
        /* Start value of interior pixels (all taps inside): bias + input_offset * sum of weights. */
        int32x4_t base[4] = {bias[0], bias[1], bias[2], bias[3]};
        if (nc == 16)
        {
            for (int32_t tap = 0; tap < k_h * k_w; tap++)
            {
                const int16x8_t w0 = vldrbq_s16(filter_data + tap * ch + c0);
                const int16x8_t w1 = vldrbq_s16(filter_data + tap * ch + c0 + 8);
                base[0] = vaddq_s32(base[0], vmulq_n_s32(vmovlbq_s16(w0), in_off));
                base[1] = vaddq_s32(base[1], vmulq_n_s32(vmovltq_s16(w0), in_off));
                base[2] = vaddq_s32(base[2], vmulq_n_s32(vmovlbq_s16(w1), in_off));
                base[3] = vaddq_s32(base[3], vmulq_n_s32(vmovltq_s16(w1), in_off));
            }
        }

        dw_taps t;
        t.xstep = d_w * ch;
        t.wstep = ch;
        for (int32_t n = 0; n < input_dims->n; n++)
        {
            const int8_t *in = input_data + n * in_h * in_w * ch + c0;
            int8_t *out = output_data + n * out_h * out_w * ch + c0;
            for (int32_t oy = 0; oy < out_h; oy++)
            {
                const int32_t y0 = oy * p->stride.h - p->padding.h;
                int32_t ky0;
                const int32_t nky = valid_taps(y0, k_h, d_h, in_h, &ky0);
                int8_t *o = out + oy * out_w * ch;
                for (int32_t ox = 0; ox < out_w; ox++, o += ch)
                {
                    const int32_t x0 = ox * s_w - p->padding.w;
                    int32_t kx0 = 0;
                    int32_t nkx = k_w;
                    if (ox < ox_lo || ox >= ox_hi)
                    {
                        nkx = valid_taps(x0, k_w, d_w, in_w, &kx0);
                    }
                    const int interior = nc == 16 && nky == k_h && nkx == k_w;
                    int32x4_t acc[4];
                    for (int32_t i = 0; i < 4; i++)
                    {
                        acc[i] = interior ? base[i] : bias[i];
                    }
                    if (nky > 0 && nkx > 0)
                    {
                        t.ip = in + ((y0 + ky0 * d_h) * in_w + x0 + kx0 * d_w) * ch;
                        t.wp = filter_data + (ky0 * k_w + kx0) * ch + c0;
                        t.nky = nky;
                        t.nkx = nkx;
                        t.yadv = d_h * in_w * ch - nkx * d_w * ch;
                        t.wadv = (k_w - nkx) * ch;
                        if (interior)
                        {
                            taps16_raw(&t, acc);
                        }
                        else if (nc == 16)
                        {
                            taps16(&t, in_off, acc);
                        }
                        else if (nc == 8)
                        {
                            taps8(&t, in_off, acc);
                        }
                        else
                        {
                            taps_pred(&t, in_off, p16, acc);
                        }
                    }
                    store8(acc[0], acc[1], &q[0], simple, out_off, act_min, act_max, o, p16);
                    if (nc == 16)
                    {
                        store8(acc[2], acc[3], &q[2], simple, out_off, act_min, act_max, o + 8, p16);
                    }
                }
            }
        }
        c0 += nc;
    }
}

#endif
