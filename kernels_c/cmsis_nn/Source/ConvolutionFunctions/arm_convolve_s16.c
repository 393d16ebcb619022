/*
 * arm_convolve_s16.c - s16 convolution (TFLite CONV_2D with int16 activations, int8 weights).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Portable path: direct loop over output pixels and channels; each output channel accumulates in
 * 64 bits (int64 bias) or in 32 bits (int32 bias, TFLite's int32 accumulator) and is requantized
 * with the matching TFLite rule. Grouped convolution (filter C < input C) is supported.
 *
 * Column paths (every kernel path; input offset 0, no groups, scratch of *_get_buffer_size() bytes): per
 * output pixel an int16 im2col column of K = C_IN * KH * KW values (a 1x1 convolution without
 * padding reads the input directly), then dot products with the int8 filter rows accumulated
 * exactly in 64 bits: VMLALDAV on weights widened by VLDRB.S16, four output channels per column
 * (Helium); on DSP, with the scratch of two columns, two pixels x two channels per step
 * (byoc_nn_dsp_dot2x2_c16, SMLAD into exact 32-bit partial sums; conv_s16_pairs), else SMLAD
 * four channels per column; four channels per
 * column with exact 32-bit partial sums of up to 256 products (portable C). The accumulator is
 * the reference one, so results are bit-identical. Other configurations use the direct loop.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support_s16.h"

static void conv_s16_columns(const cmsis_nn_conv_params *conv_params,
                             const cmsis_nn_per_channel_quant_params *quant_params,
                             const cmsis_nn_dims *input_dims,
                             const int16_t *input_data,
                             const cmsis_nn_dims *filter_dims,
                             const int8_t *filter_data,
                             const cmsis_nn_bias_data *bias_data,
                             const cmsis_nn_dims *output_dims,
                             int16_t *output_data,
                             int16_t *col)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t k = in_c * k_h * k_w;
    const int32_t act_min = conv_params->activation.min, act_max = conv_params->activation.max;
    const int32_t out_offset = conv_params->output_offset;
    const int32_t *mult = quant_params->multiplier;
    const int32_t *shift = quant_params->shift;
    const void *bias = bias_data != NULL ? bias_data->data : NULL;
    const bool int32_bias = bias_data != NULL && bias_data->is_int32_bias;
    const int64_t *bias64 = int32_bias ? NULL : (const int64_t *)bias;
    const int32_t *bias32 = int32_bias ? (const int32_t *)bias : NULL;
    const bool direct = col == NULL;

    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int16_t *in = input_data + (int64_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; oy++)
        {
            const int32_t y0 = oy * conv_params->stride.h - conv_params->padding.h;
            for (int32_t ox = 0; ox < out_w; ox++)
            {
                const int32_t x0 = ox * conv_params->stride.w - conv_params->padding.w;
                const int16_t *src;
                if (direct)
                {
                    src = in + ((int64_t)y0 * in_w + x0) * in_c;
                }
                else
                {
                    byoc_nn_im2col_s16(in, in_h, in_w, in_c, k_h, k_w, y0, x0, conv_params->dilation.h,
                                      conv_params->dilation.w, col);
                    src = col;
                }
                int16_t *out = output_data + (((int64_t)b * out_h + oy) * out_w + ox) * out_c;
                int32_t oc = 0;
    #if defined(ARM_MATH_MVEI)
                for (; oc <= out_c - 4; oc += 4)
                {
                    int64_t acc[4];
                    byoc_nn_dot4_s16_s8_mve(src, filter_data + (int64_t)oc * k, k, k, acc);
                    for (int32_t i = 0; i < 4; i++)
                    {
                        out[oc + i] = int32_bias
                            ? byoc_nn_finish_s16_b32(acc[i], bias32, oc + i, mult[oc + i], shift[oc + i], out_offset,
                                                    act_min, act_max)
                            : byoc_nn_finish_s16(acc[i], bias64, oc + i, mult[oc + i], shift[oc + i], out_offset,
                                                act_min, act_max);
                    }
                }
    #elif defined(ARM_MATH_DSP)
                for (; oc <= out_c - 4; oc += 4)
                {
                    int64_t acc[4];
                    byoc_nn_dot4_s16_s8_dsp(src, filter_data + (int64_t)oc * k, k, k, acc);
                    for (int32_t i = 0; i < 4; i++)
                    {
                        out[oc + i] = int32_bias
                            ? byoc_nn_finish_s16_b32(acc[i], bias32, oc + i, mult[oc + i], shift[oc + i], out_offset,
                                                    act_min, act_max)
                            : byoc_nn_finish_s16(acc[i], bias64, oc + i, mult[oc + i], shift[oc + i], out_offset,
                                                act_min, act_max);
                    }
                }
                for (; oc <= out_c - 2; oc += 2)
                {
                    int64_t acc[2];
                    byoc_nn_dot2_s16_s8_dsp(src, filter_data + (int64_t)oc * k, k, k, acc);
                    for (int32_t i = 0; i < 2; i++)
                    {
                        out[oc + i] = int32_bias
                            ? byoc_nn_finish_s16_b32(acc[i], bias32, oc + i, mult[oc + i], shift[oc + i], out_offset,
                                                    act_min, act_max)
                            : byoc_nn_finish_s16(acc[i], bias64, oc + i, mult[oc + i], shift[oc + i], out_offset,
                                                act_min, act_max);
                    }
                }
    #else
                for (; oc <= out_c - 4; oc += 4)
                {
                    int64_t acc[4];
                    byoc_nn_dot4_s16_s8_c(src, filter_data + (int64_t)oc * k, k, k, acc);
                    for (int32_t i = 0; i < 4; i++)
                    {
                        out[oc + i] = int32_bias
                            ? byoc_nn_finish_s16_b32(acc[i], bias32, oc + i, mult[oc + i], shift[oc + i], out_offset,
                                                    act_min, act_max)
                            : byoc_nn_finish_s16(acc[i], bias64, oc + i, mult[oc + i], shift[oc + i], out_offset,
                                                act_min, act_max);
                    }
                }
    #endif
                for (; oc < out_c; oc++)
                {
    #if defined(ARM_MATH_MVEI)
                    const int64_t acc = byoc_nn_dot1_s16_s8_mve(src, filter_data + (int64_t)oc * k, k);
    #elif defined(ARM_MATH_DSP)
                    const int64_t acc = byoc_nn_dot1_s16_s8_dsp(src, filter_data + (int64_t)oc * k, k);
    #else
                    const int64_t acc = byoc_nn_dot1_s16_s8_c(src, filter_data + (int64_t)oc * k, k);
    #endif
                    out[oc] = int32_bias
                        ? byoc_nn_finish_s16_b32(acc, bias32, oc, mult[oc], shift[oc], out_offset, act_min, act_max)
                        : byoc_nn_finish_s16(acc, bias64, oc, mult[oc], shift[oc], out_offset, act_min, act_max);
                }
            }
        }
    }
}

/* Armv6-M keeps the one-column kernel (its 32-bit MULS loop gains nothing from two columns). */
#if !defined(ARM_MATH_MVEI) && (defined(ARM_MATH_DSP) || defined(__thumb2__) || !defined(__arm__))
    #define CONV_S16_PAIRS 1
#endif

#if defined(CONV_S16_PAIRS)
/*
 * DSP and portable paths, im2col convolutions (input offset 0, no groups) with the scratch of
 * arm_convolve_s16_get_buffer_size() (two int16 columns, 4 * K bytes): two output pixels per
 * step, both im2col columns interleaved so that every weight load serves both pixels, two output
 * channels at a time.
 *   DSP: per group of four values r = 0..3, 16 bytes {col0 (x0, x2), col0 (x1, x3), col1 (x0, x2),
 *        col1 (x1, x3)} (the layout of byoc_nn_dsp_dot2x2_c16, SMLAD on SXTB16 weight pairs),
 *        then the K % 4 last values of col0 and of col1.
 *   C:   col0 then col1 (K values each); Thumb-2 assembly (pair_dot_c: post-indexed LDRSH /
 *        LDRSB, MLA), plain C on hosts.
 * Products are at most 2^22
 * in magnitude, so partial sums of 256 of them are exact in 32 bits and join the int64
 * accumulators (TFLite's) after each block: bit-identical results.
 */
    #define PAIR_BLOCK 256

    #if defined(ARM_MATH_DSP)
/* int16 slot of value j of column c (k4 = K rounded down to 4, tail = K % 4). */
ARM_NN_INLINE int32_t pair_slot(const int32_t j, const int32_t c, const int32_t k4, const int32_t tail)
{
    static const uint8_t lane[4] = {0, 2, 1, 3};
    return j < k4 ? (j & ~3) * 2 + c * 4 + lane[j & 3] : 2 * k4 + c * tail + (j - k4);
}

/* n values of column c from position j on: src[0..n) (NULL: zeros). */
static void pair_put(int16_t *col, const int32_t c, int32_t j, const int16_t *src, int32_t n, const int32_t k)
{
    const int32_t k4 = k & ~3, tail = k & 3;
    if ((j & 3) == 0 && (n & 3) == 0 && j + n <= k4)
    {
        /* whole groups: (x0, x2) and (x1, x3) packed from two words */
        int32_t *d = (int32_t *)(void *)(col + 2 * j + 4 * c);
        for (; n > 0; n -= 4)
        {
            int32_t lo = 0, hi = 0;
            if (src != NULL)
            {
                const uint32_t x01 = (uint32_t)byoc_nn_read_s16x2(src);
                const uint32_t x23 = (uint32_t)byoc_nn_read_s16x2(src + 2);
                lo = (int32_t)((x01 & 0xFFFFu) | (x23 << 16));         /* PKHBT */
                hi = (int32_t)((x23 & 0xFFFF0000u) | (x01 >> 16));     /* PKHTB */
                src += 4;
            }
            d[0] = lo;
            d[1] = hi;
            d += 4;
        }
        return;
    }
    for (; n > 0; n--, j++)
    {
        col[pair_slot(j, c, k4, tail)] = src != NULL ? *src++ : 0;
    }
}

    #else
/* Portable: col0[0..k) then col1[0..k). */
static void pair_put(int16_t *col, const int32_t c, int32_t j, const int16_t *src, int32_t n, const int32_t k)
{
    int16_t *d = col + c * k + j;
    if (src == NULL)
    {
        memset(d, 0, (size_t)n * sizeof(int16_t));
    }
    else
    {
        memcpy(d, src, (size_t)n * sizeof(int16_t));
    }
}
    #endif

/* Column c of the output pixel whose window starts at (y0, x0). */
static void pair_im2col(int16_t *col, const int32_t c, const int16_t *in, const cmsis_nn_dims *input_dims,
                        const cmsis_nn_dims *filter_dims, const cmsis_nn_conv_params *p, const int32_t y0,
                        const int32_t x0)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k = filter_dims->h * filter_dims->w * in_c;
    int32_t j = 0;
    for (int32_t ky = 0; ky < filter_dims->h; ky++)
    {
        const int32_t y = y0 + ky * p->dilation.h;
        for (int32_t kx = 0; kx < filter_dims->w; kx++, j += in_c)
        {
            const int32_t x = x0 + kx * p->dilation.w;
            const int inside = y >= 0 && y < in_h && x >= 0 && x < in_w;
            pair_put(col, c, j, inside ? in + (y * in_w + x) * in_c : NULL, in_c, k);
        }
    }
}

    #if !defined(ARM_MATH_DSP)
        #if defined(__thumb2__)
            #pragma GCC diagnostic push
            #pragma GCC diagnostic ignored "-Wunused-parameter" /* naked: arguments read in assembly */
/* acc[0..3] += {x.u, x.v, y.u, y.v} over n >= 1 steps: x = c0[j], y = c1[j] (int16),
 * u = w0[j], v = w1[j] (int8). Armv7-M / Armv8-M Mainline without DSP: post-indexed LDRSH /
 * LDRSB and MLA, four steps per iteration (34 instructions per 16 MACs). r0 = c0, r1 = c1,
 * r2 = w0, r3 = w1, [sp] = n, [sp, #4] = acc. */
__attribute__((naked, noinline)) static void
pair_dot_c(const int16_t *c0, const int16_t *c1, const int8_t *w0, const int8_t *w1, int32_t n, int32_t *acc)
{
    __asm volatile("push    {r4-r10, lr}                 \n"
                   "ldrd    r10, r12, [sp, #32]          \n" /* n, acc */
                   "ldm     r12, {r4-r7}                 \n"
                   "b       2f                           \n"
                   "1:                                   \n"
                   ".rept 4                              \n"
                   "ldrsh   r8, [r0], #2                 \n"
                   "ldrsh   r9, [r1], #2                 \n"
                   "ldrsb   lr, [r2], #1                 \n"
                   "mla     r4, r8, lr, r4               \n"
                   "mla     r6, r9, lr, r6               \n"
                   "ldrsb   lr, [r3], #1                 \n"
                   "mla     r5, r8, lr, r5               \n"
                   "mla     r7, r9, lr, r7               \n"
                   ".endr                                \n"
                   "2:                                   \n"
                   "subs    r10, r10, #4                 \n"
                   "bge     1b                           \n"
                   "adds    r10, r10, #4                 \n"
                   "beq     4f                           \n"
                   "3:                                   \n"
                   "ldrsh   r8, [r0], #2                 \n"
                   "ldrsh   r9, [r1], #2                 \n"
                   "ldrsb   lr, [r2], #1                 \n"
                   "mla     r4, r8, lr, r4               \n"
                   "mla     r6, r9, lr, r6               \n"
                   "ldrsb   lr, [r3], #1                 \n"
                   "mla     r5, r8, lr, r5               \n"
                   "mla     r7, r9, lr, r7               \n"
                   "subs    r10, r10, #1                 \n"
                   "bne     3b                           \n"
                   "4:                                   \n"
                   "ldr     r12, [sp, #36]               \n"
                   "stm     r12, {r4-r7}                 \n"
                   "pop     {r4-r10, pc}                 \n");
}
            #pragma GCC diagnostic pop
        #else
static void pair_dot_c(const int16_t *c0, const int16_t *c1, const int8_t *w0, const int8_t *w1, int32_t n,
                       int32_t *acc)
{
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    for (; n > 0; n--)
    {
        const int32_t x = *c0++, y = *c1++, u = *w0++, v = *w1++;
        a00 += x * u; a01 += x * v; a10 += y * u; a11 += y * v;
    }
    acc[0] = a00; acc[1] = a01; acc[2] = a10; acc[3] = a11;
}
        #endif
    #endif

/* acc[0..3] = {col0.w0, col0.w1, col1.w0, col1.w1} over the k values of both columns, exact. */
static void pair_dot(const int16_t *col, const int8_t *w0, const int8_t *w1, const int32_t k, int64_t *acc)
{
    int64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    #if defined(ARM_MATH_DSP)
    const int32_t groups = k >> 2, tail = k & 3;
    for (int32_t g = 0; g < groups; g += PAIR_BLOCK / 4)
    {
        int32_t a[4] = {0, 0, 0, 0};
        byoc_nn_dsp_dot2x2_c16(col + 8 * g, w0 + 4 * g, (int32_t)(w1 - w0), MIN(groups - g, PAIR_BLOCK / 4), a);
        s0 += a[0]; s1 += a[1]; s2 += a[2]; s3 += a[3];
    }
    const int16_t *t0 = col + 8 * groups, *t1 = t0 + tail;
    for (int32_t j = 0; j < tail; j++)
    {
        const int32_t u = w0[4 * groups + j], v = w1[4 * groups + j];
        s0 += t0[j] * u; s1 += t0[j] * v; s2 += t1[j] * u; s3 += t1[j] * v;
    }
    #else
    for (int32_t j = 0; j < k; j += PAIR_BLOCK)
    {
        const int32_t n = MIN(k - j, PAIR_BLOCK);
        int32_t a[4] = {0, 0, 0, 0};
        pair_dot_c(col + j, col + k + j, w0, w1, n, a);
        w0 += n;
        w1 += n;
        s0 += a[0]; s1 += a[1]; s2 += a[2]; s3 += a[3];
    }
    #endif
    acc[0] = s0; acc[1] = s1; acc[2] = s2; acc[3] = s3;
}

/* Both pixels, every channel pair (out_c even), k <= PAIR_BLOCK (the 32-bit sums are the whole
 * accumulators), int64 bias: the common case without the general loop's bookkeeping. */
static void pair_channels_short(const int16_t *col, const int8_t *filter, const int32_t k, const int32_t out_c,
                                const int64_t *bias64, const int32_t *mult, const int32_t *shift,
                                const int32_t out_offset, const int32_t act_min, const int32_t act_max, int16_t *d0)
{
    for (int32_t o = 0; o < out_c; o += 2)
    {
        const int8_t *w0 = filter + o * k;
        int32_t a[4] = {0, 0, 0, 0};
    #if defined(ARM_MATH_DSP)
        const int32_t groups = k >> 2, tail = k & 3;
        if (groups > 0)
        {
            byoc_nn_dsp_dot2x2_c16(col, w0, k, groups, a);
        }
        const int16_t *t0 = col + 8 * groups, *t1 = t0 + tail;
        for (int32_t j = 0; j < tail; j++)
        {
            const int32_t u = w0[4 * groups + j], v = w0[k + 4 * groups + j];
            a[0] += t0[j] * u; a[1] += t0[j] * v; a[2] += t1[j] * u; a[3] += t1[j] * v;
        }
    #else
        pair_dot_c(col, col + k, w0, w0 + k, k, a);
    #endif
        for (int32_t i = 0; i < 4; i++)
        {
            const int32_t ch = o + (i & 1);
            d0[(i >> 1) * out_c + ch] =
                byoc_nn_finish_s16_fast(a[i], bias64, ch, byoc_nn_s16_fast_mult(mult[ch], shift[ch]), mult[ch],
                                        shift[ch], out_offset, act_min, act_max);
        }
    }
}

static void conv_s16_pairs(const cmsis_nn_conv_params *conv_params,
                           const cmsis_nn_per_channel_quant_params *quant_params,
                           const cmsis_nn_dims *input_dims,
                           const int16_t *input_data,
                           const cmsis_nn_dims *filter_dims,
                           const int8_t *filter_data,
                           const cmsis_nn_bias_data *bias_data,
                           const cmsis_nn_dims *output_dims,
                           int16_t *output_data,
                           int16_t *col)
{
    const int32_t out_w = output_dims->w, out_c = output_dims->c;
    const int32_t n_pix = output_dims->h * out_w;
    const int32_t k = input_dims->c * filter_dims->h * filter_dims->w;
    const int32_t act_min = conv_params->activation.min, act_max = conv_params->activation.max;
    const int32_t out_offset = conv_params->output_offset;
    const int32_t *mult = quant_params->multiplier;
    const int32_t *shift = quant_params->shift;
    const bool int32_bias = bias_data != NULL && bias_data->is_int32_bias;
    const int64_t *bias64 = bias_data != NULL && !int32_bias ? (const int64_t *)bias_data->data : NULL;
    const int32_t *bias32 = int32_bias ? (const int32_t *)bias_data->data : NULL;

    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int16_t *in = input_data + (int64_t)b * input_dims->h * input_dims->w * input_dims->c;
        int16_t *out = output_data + (int64_t)b * n_pix * out_c;
        for (int32_t pix = 0; pix < n_pix; pix += 2)
        {
            const int two_pix = pix + 1 < n_pix;
            for (int32_t c = 0; c < 2; c++)
            {
                const int32_t q = two_pix ? pix + c : pix;
                const int32_t oy = q / out_w, ox = q - oy * out_w;
                pair_im2col(col, c, in, input_dims, filter_dims, conv_params,
                            oy * conv_params->stride.h - conv_params->padding.h,
                            ox * conv_params->stride.w - conv_params->padding.w);
            }
            int16_t *d0 = out + (int64_t)pix * out_c;
            if (two_pix && (out_c & 1) == 0 && k <= PAIR_BLOCK && !int32_bias)
            {
                pair_channels_short(col, filter_data, k, out_c, bias64, mult, shift, out_offset, act_min, act_max,
                                    d0);
                continue;
            }
            for (int32_t o = 0; o < out_c; o += 2)
            {
                const int32_t o1 = o + 1 < out_c ? o + 1 : o;
                int64_t acc[4];
                pair_dot(col, filter_data + (int64_t)o * k, filter_data + (int64_t)o1 * k, k, acc);
                const int32_t m[2] = {byoc_nn_s16_fast_mult(mult[o], shift[o]),
                                      byoc_nn_s16_fast_mult(mult[o1], shift[o1])};
                for (int32_t i = 0; i < 4; i++)
                {
                    const int32_t ch = (i & 1) ? o1 : o;
                    if ((i >= 2 && !two_pix) || ((i & 1) && o1 == o))
                    {
                        continue;
                    }
                    d0[(i >> 1) * out_c + ch] =
                        int32_bias ? byoc_nn_finish_s16_b32(acc[i], bias32, ch, mult[ch], shift[ch], out_offset,
                                                           act_min, act_max)
                                   : byoc_nn_finish_s16_fast(acc[i], bias64, ch, m[i & 1], mult[ch], shift[ch],
                                                            out_offset, act_min, act_max);
                }
            }
        }
    }
}
#endif

arm_cmsis_nn_status arm_convolve_s16(const cmsis_nn_context *ctx,
                                     const cmsis_nn_conv_params *conv_params,
                                     const cmsis_nn_per_channel_quant_params *quant_params,
                                     const cmsis_nn_dims *input_dims,
                                     const int16_t *input_data,
                                     const cmsis_nn_dims *filter_dims,
                                     const int8_t *filter_data,
                                     const cmsis_nn_dims *bias_dims,
                                     const cmsis_nn_bias_data *bias_data,
                                     const cmsis_nn_dims *output_dims,
                                     int16_t *output_data)
{
    (void)ctx;
    (void)bias_dims;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, f_c = filter_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
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
    const int32_t act_min = conv_params->activation.min, act_max = conv_params->activation.max;
    const int32_t out_offset = conv_params->output_offset;
    const int32_t in_offset = conv_params->input_offset;
    const void *bias = bias_data != NULL ? bias_data->data : NULL;
    const bool int32_bias = bias_data != NULL && bias_data->is_int32_bias;

    if (in_offset == 0 && groups == 1)
    {
        const bool direct = k_h == 1 && k_w == 1 && conv_params->padding.h == 0 && conv_params->padding.w == 0;
        const int32_t col_bytes = in_c * k_h * k_w * (int32_t)sizeof(int16_t);
#if defined(CONV_S16_PAIRS)
        if (!direct && ctx != NULL && ctx->buf != NULL && ctx->size >= 2 * col_bytes)
        {
            conv_s16_pairs(conv_params, quant_params, input_dims, input_data, filter_dims, filter_data, bias_data,
                           output_dims, output_data, (int16_t *)ctx->buf);
            return ARM_CMSIS_NN_SUCCESS;
        }
#endif
        if (direct || (ctx != NULL && ctx->buf != NULL && ctx->size >= col_bytes))
        {
            conv_s16_columns(conv_params, quant_params, input_dims, input_data, filter_dims, filter_data, bias_data,
                             output_dims, output_data, direct ? NULL : (int16_t *)ctx->buf);
            return ARM_CMSIS_NN_SUCCESS;
        }
    }

    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int16_t *in = input_data + (int64_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; oy++)
        {
            for (int32_t ox = 0; ox < out_w; ox++)
            {
                const int32_t y0 = oy * conv_params->stride.h - conv_params->padding.h;
                const int32_t x0 = ox * conv_params->stride.w - conv_params->padding.w;
                for (int32_t oc = 0; oc < out_c; oc++)
                {
                    const int32_t g = oc / out_per_group;
                    const int8_t *w = filter_data + (int64_t)oc * k_h * k_w * f_c;
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < k_h; ky++)
                    {
                        const int32_t y = y0 + ky * conv_params->dilation.h;
                        if (y < 0 || y >= in_h)
                        {
                            continue;
                        }
                        for (int32_t kx = 0; kx < k_w; kx++)
                        {
                            const int32_t x = x0 + kx * conv_params->dilation.w;
                            if (x < 0 || x >= in_w)
                            {
                                continue;
                            }
                            const int16_t *src = in + ((int64_t)y * in_w + x) * in_c + g * f_c;
                            const int8_t *wk = w + (ky * k_w + kx) * f_c;
                            for (int32_t ic = 0; ic < f_c; ic++)
                            {
                                acc += (int64_t)(src[ic] + in_offset) * wk[ic];
                            }
                        }
                    }
                    int32_t res;
                    if (int32_bias)
                    {
                        int32_t acc32 = (int32_t)acc;
                        if (bias != NULL)
                        {
                            acc32 += ((const int32_t *)bias)[oc];
                        }
                        res = byoc_nn_requantize(acc32, quant_params->multiplier[oc], quant_params->shift[oc]);
                    }
                    else
                    {
                        if (bias != NULL)
                        {
                            acc += ((const int64_t *)bias)[oc];
                        }
                        res = byoc_nn_requantize_s64(acc, quant_params->multiplier[oc], quant_params->shift[oc]);
                    }
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

arm_cmsis_nn_status arm_convolve_wrapper_s16(const cmsis_nn_context *ctx,
                                             const cmsis_nn_conv_params *conv_params,
                                             const cmsis_nn_per_channel_quant_params *quant_params,
                                             const cmsis_nn_dims *input_dims,
                                             const int16_t *input_data,
                                             const cmsis_nn_dims *filter_dims,
                                             const int8_t *filter_data,
                                             const cmsis_nn_dims *bias_dims,
                                             const cmsis_nn_bias_data *bias_data,
                                             const cmsis_nn_dims *output_dims,
                                             int16_t *output_data)
{
    return arm_convolve_s16(ctx, conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                            bias_dims, bias_data, output_dims, output_data);
}

/* Scratch sizes (Arm's CMSIS-NN values for A16W8): int16 im2col columns of C_IN * KH * KW values,
 * four rounded up to 8 values on Helium, two elsewhere. byoc's kernels use one column. */
static int32_t conv_s16_size_mve(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
    const int32_t col = input_dims->c * filter_dims->h * filter_dims->w;
    return 4 * (int32_t)sizeof(int16_t) * ((col + 7) / 8 * 8);
}

static int32_t conv_s16_size_dsp(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
    return 2 * (int32_t)sizeof(int16_t) * input_dims->c * filter_dims->h * filter_dims->w;
}

int32_t arm_convolve_s16_get_buffer_size(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
#if defined(ARM_MATH_MVEI)
    return conv_s16_size_mve(input_dims, filter_dims);
#else
    return conv_s16_size_dsp(input_dims, filter_dims);
#endif
}

int32_t arm_convolve_wrapper_s16_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                                 const cmsis_nn_dims *input_dims,
                                                 const cmsis_nn_dims *filter_dims,
                                                 const cmsis_nn_dims *output_dims)
{
    (void)conv_params;
    (void)output_dims;
    return arm_convolve_s16_get_buffer_size(input_dims, filter_dims);
}

int32_t arm_convolve_wrapper_s16_get_buffer_size_mve(const cmsis_nn_conv_params *conv_params,
                                                     const cmsis_nn_dims *input_dims,
                                                     const cmsis_nn_dims *filter_dims,
                                                     const cmsis_nn_dims *output_dims)
{
    (void)conv_params;
    (void)output_dims;
    return conv_s16_size_mve(input_dims, filter_dims);
}

int32_t arm_convolve_wrapper_s16_get_buffer_size_dsp(const cmsis_nn_conv_params *conv_params,
                                                     const cmsis_nn_dims *input_dims,
                                                     const cmsis_nn_dims *filter_dims,
                                                     const cmsis_nn_dims *output_dims)
{
    (void)conv_params;
    (void)output_dims;
    return conv_s16_size_dsp(input_dims, filter_dims);
}
