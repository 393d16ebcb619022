/*
 * arm_max_pool_s8.c - s8 max pooling (TFLite MAX_POOL_2D).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input [N, H, W, C], window filter_dims->h x filter_dims->w, output [N, OH, OW, C]:
 *   out = clamp(max of the window positions inside the input (-128 if none), act_min, act_max)
 * No scratch buffer. Helium: 16 channels per vector (VMAX); DSP: four channels per word (SSUB8 +
 * SEL) when C is a multiple of 4; otherwise four channels at a time in C.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

#if defined(ARM_MATH_MVEI)

/* Helium: 16 channels per vector, VMAX over the window taps inside the input. */
static void max_pool_mve(const cmsis_nn_pool_params *pool_params,
                         const cmsis_nn_dims *input_dims,
                         const int8_t *input_data,
                         const cmsis_nn_dims *filter_dims,
                         const cmsis_nn_dims *output_dims,
                         int8_t *output_data)
{
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t ch = input_dims->c;
    const int8x16_t act_min = vdupq_n_s8((int8_t)MAX(pool_params->activation.min, NN_Q7_MIN));
    const int8x16_t act_max = vdupq_n_s8((int8_t)MIN(pool_params->activation.max, NN_Q7_MAX));
    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int8_t *in_batch = input_data + b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; oy++)
        {
            const int32_t y0 = oy * pool_params->stride.h - pool_params->padding.h;
            const int32_t ky0 = MAX(0, -y0);
            const int32_t ky1 = MIN(filter_dims->h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ox++)
            {
                const int32_t x0 = ox * pool_params->stride.w - pool_params->padding.w;
                const int32_t kx0 = MAX(0, -x0);
                const int32_t kx1 = MIN(filter_dims->w, in_w - x0);
                const int8_t *base = in_batch + ((y0 + ky0) * in_w + x0 + kx0) * ch;
                for (int32_t c = 0; c < ch; c += 16)
                {
                    const mve_pred16_t p = vctp8q((uint32_t)(ch - c));
                    int8x16_t m = vdupq_n_s8(NN_Q7_MIN);
                    const int8_t *row = base + c;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *ip = row;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
                            m = vmaxq_s8(m, vldrbq_z_s8(ip, p));
                            ip += ch;
                        }
                        row += in_w * ch;
                    }
                    m = vminq_s8(vmaxq_s8(m, act_min), act_max);
                    vstrbq_p_s8(output_data + c, m, p);
                }
                output_data += ch;
            }
        }
    }
}

#endif

#if defined(ARM_MATH_DSP) && !defined(ARM_MATH_MVEI)
/* Lane-wise max of four int8 lanes: SSUB8 sets the GE flag of each lane where a >= b, SEL picks. */
ARM_NN_INLINE uint32_t max_s8x4(const uint32_t a, const uint32_t b)
{
    (void)__ssub8(a, b);
    return __sel(a, b);
}

/* DSP: four channels per 32-bit word (C a multiple of 4), window taps inside the input. */
static void max_pool_dsp(const cmsis_nn_pool_params *pool_params,
                         const cmsis_nn_dims *input_dims,
                         const int8_t *input_data,
                         const cmsis_nn_dims *filter_dims,
                         const cmsis_nn_dims *output_dims,
                         int8_t *output_data)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t lo = MAX(pool_params->activation.min, NN_Q7_MIN) & 0xFF;
    const int32_t hi = MIN(pool_params->activation.max, NN_Q7_MAX) & 0xFF;
    const uint32_t act_min = (uint32_t)lo * 0x01010101u;
    const uint32_t act_max = (uint32_t)hi * 0x01010101u;
    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int8_t *in_batch = input_data + b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; oy++)
        {
            const int32_t y0 = oy * pool_params->stride.h - pool_params->padding.h;
            const int32_t ky0 = MAX(0, -y0);
            const int32_t ky1 = MIN(filter_dims->h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ox++)
            {
                const int32_t x0 = ox * pool_params->stride.w - pool_params->padding.w;
                const int32_t kx0 = MAX(0, -x0);
                const int32_t kx1 = MIN(filter_dims->w, in_w - x0);
                const int8_t *base = in_batch + ((y0 + ky0) * in_w + x0 + kx0) * ch;
                for (int32_t c = 0; c < ch; c += 4)
                {
                    uint32_t m = 0x80808080u; /* -128 in every lane: no tap inside the window */
                    const int8_t *row = base + c;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *p = row;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
                            m = max_s8x4(m, (uint32_t)byoc_nn_read_s8x4(p));
                            p += ch;
                        }
                        row += in_w * ch;
                    }
                    m = max_s8x4(m, act_min);
                    (void)__ssub8(act_max, m);
                    m = __sel(m, act_max);
                    memcpy(output_data + c, &m, 4);
                }
                output_data += ch;
            }
        }
    }
}
#endif

arm_cmsis_nn_status arm_max_pool_s8(const cmsis_nn_context *ctx,
                                    const cmsis_nn_pool_params *pool_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int8_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int8_t *output_data)
{
    (void)ctx;
#if defined(ARM_MATH_MVEI)
    if (input_dims->c == output_dims->c)
    {
        max_pool_mve(pool_params, input_dims, input_data, filter_dims, output_dims, output_data);
        return ARM_CMSIS_NN_SUCCESS;
    }
#endif
#if defined(ARM_MATH_DSP) && !defined(ARM_MATH_MVEI)
    if (input_dims->c == output_dims->c && (input_dims->c & 3) == 0)
    {
        max_pool_dsp(pool_params, input_dims, input_data, filter_dims, output_dims, output_data);
        return ARM_CMSIS_NN_SUCCESS;
    }
#endif
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t ch = input_dims->c;
    const int32_t act_min = pool_params->activation.min;
    const int32_t act_max = pool_params->activation.max;
    if (ch != output_dims->c)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    /* the window max is an int8 value already: clamp only to a narrower activation range */
    const int clamp = act_min > NN_Q7_MIN || act_max < NN_Q7_MAX;
    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int8_t *in_batch = input_data + b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; oy++)
        {
            const int32_t y0 = oy * pool_params->stride.h - pool_params->padding.h;
            const int32_t ky0 = MAX(0, -y0);
            const int32_t ky1 = MIN(filter_dims->h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ox++)
            {
                const int32_t x0 = ox * pool_params->stride.w - pool_params->padding.w;
                const int32_t kx0 = MAX(0, -x0);
                const int32_t kx1 = MIN(filter_dims->w, in_w - x0);
                const int8_t *base = in_batch + ((y0 + ky0) * in_w + x0 + kx0) * ch;
                const int32_t row_step = in_w * ch;
                int32_t c = 0;
                for (; c + 4 <= ch; c += 4)
                {
                    int32_t m0 = NN_Q7_MIN, m1 = NN_Q7_MIN, m2 = NN_Q7_MIN, m3 = NN_Q7_MIN;
                    const int8_t *row = base + c;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *p = row;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
                            m0 = MAX(m0, p[0]);
                            m1 = MAX(m1, p[1]);
                            m2 = MAX(m2, p[2]);
                            m3 = MAX(m3, p[3]);
                            p += ch;
                        }
                        row += row_step;
                    }
                    if (clamp)
                    {
                        m0 = byoc_nn_clamp_s8(m0, act_min, act_max);
                        m1 = byoc_nn_clamp_s8(m1, act_min, act_max);
                        m2 = byoc_nn_clamp_s8(m2, act_min, act_max);
                        m3 = byoc_nn_clamp_s8(m3, act_min, act_max);
                    }
                    output_data[c] = (int8_t)m0;
                    output_data[c + 1] = (int8_t)m1;
                    output_data[c + 2] = (int8_t)m2;
                    output_data[c + 3] = (int8_t)m3;
                }
                for (; c < ch; c++)
                {
                    int32_t m = NN_Q7_MIN;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *p = in_batch + ((y0 + ky) * in_w + x0 + kx0) * ch + c;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
                            m = MAX(m, *p);
                            p += ch;
                        }
                    }
                    output_data[c] = byoc_nn_clamp_s8(m, act_min, act_max);
                }
                output_data += ch;
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
