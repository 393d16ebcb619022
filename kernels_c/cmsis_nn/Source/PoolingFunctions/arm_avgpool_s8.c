/*
 * arm_avgpool_s8.c - s8 average pooling (TFLite AVERAGE_POOL_2D).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input [N, H, W, C], window filter_dims->h x filter_dims->w, output [N, OH, OW, C]. For each
 * output the window is cut to the input (padding is not counted):
 *   sum = sum of the count inputs inside; avg = (sum +- count / 2) / count (C division, so ties
 *   round away from zero); out = clamp(avg, act_min, act_max).
 * Scratch: none on every path (arm_avgpool_s8_get_buffer_size() still returns Arm's 4 * C bytes
 * on the DSP path, so a memory plan made for either library fits both).
 * DSP: four channels per 32-bit load, summed in 16-bit lanes with SXTAB16 (exact for windows of
 * up to 255 positions: |sum| <= 255 * 128), when C is a multiple of 4.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

#if defined(ARM_MATH_MVEI)

/*
 * Helium: eight channels per int16 vector (windows up to 256 positions; four per int32 vector
 * beyond). The rounded division by the window count is exact as
 * (|sum| + count/2) * ceil(2^32 / count) >> 32 (VMULH) for windows below 4096 positions, then
 * the sign is restored (C division truncates toward zero).
 */
static void avgpool_mve(const cmsis_nn_pool_params *pool_params,
                        const cmsis_nn_dims *input_dims,
                        const int8_t *input_data,
                        const cmsis_nn_dims *filter_dims,
                        const cmsis_nn_dims *output_dims,
                        int8_t *output_data)
{
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t ch = input_dims->c;
    const int32x4_t act_min = vdupq_n_s32(pool_params->activation.min);
    const int32x4_t act_max = vdupq_n_s32(pool_params->activation.max);
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
                const int32_t count = MAX(0, ky1 - ky0) * MAX(0, kx1 - kx0);
                const uint32_t recip = count > 1 ? 0xFFFFFFFFu / (uint32_t)count + 1u : 0u;
                const int8_t *base = in_batch + ((y0 + ky0) * in_w + x0 + kx0) * ch;
                int32_t c = 0;
                if (count <= 256)
                {
                    /* int16 sums of eight channels (|sum| <= 128 * 256 fits), divided as two
                     * int32 halves (even / odd lanes) and narrowed back in channel order. */
                    for (; c < ch; c += 8)
                    {
                        const mve_pred16_t p = vctp16q((uint32_t)(ch - c));
                        int16x8_t sum = vdupq_n_s16(0);
                        const int8_t *row = base + c;
                        for (int32_t ky = ky0; ky < ky1; ky++)
                        {
                            const int8_t *ip = row;
                            for (int32_t kx = kx0; kx < kx1; kx++)
                            {
                                sum = vaddq_s16(sum, vldrbq_z_s16(ip, p));
                                ip += ch;
                            }
                            row += in_w * ch;
                        }
                        int32x4_t half[2] = {vmovlbq_s16(sum), vmovltq_s16(sum)};
                        for (int32_t i = 0; i < 2; i++)
                        {
                            int32x4_t avg = half[i];
                            if (count > 1)
                            {
                                const uint32x4_t mag = vreinterpretq_u32_s32(vaddq_n_s32(vabsq_s32(avg), count / 2));
                                const int32x4_t q = vreinterpretq_s32_u32(vmulhq_u32(mag, vdupq_n_u32(recip)));
                                avg = vpselq_s32(q, vnegq_s32(q), vcmpgtq_n_s32(avg, 0));
                            }
                            half[i] = vminq_s32(vmaxq_s32(avg, act_min), act_max);
                        }
                        int16x8_t res = vmovnbq_s32(vuninitializedq_s16(), half[0]);
                        res = vmovntq_s32(res, half[1]);
                        vstrbq_p_s16(output_data + c, res, p);
                    }
                }
                for (; c < ch; c += 4)
                {
                    const mve_pred16_t p = vctp32q((uint32_t)(ch - c));
                    int32x4_t sum = vdupq_n_s32(0);
                    const int8_t *row = base + c;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *ip = row;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
                            sum = vaddq_s32(sum, vldrbq_z_s32(ip, p));
                            ip += ch;
                        }
                        row += in_w * ch;
                    }
                    int32x4_t avg = sum;
                    if (count > 1)
                    {
                        const uint32x4_t mag = vreinterpretq_u32_s32(vaddq_n_s32(vabsq_s32(sum), count / 2));
                        const int32x4_t q = vreinterpretq_s32_u32(vmulhq_u32(mag, vdupq_n_u32(recip)));
                        avg = vpselq_s32(q, vnegq_s32(q), vcmpgtq_n_s32(sum, 0));
                    }
                    else if (count == 0)
                    {
                        avg = vdupq_n_s32(0);
                    }
                    avg = vminq_s32(vmaxq_s32(avg, act_min), act_max);
                    vstrbq_p_s32(output_data + c, avg, p);
                }
                output_data += ch;
            }
        }
    }
}

#endif

static int32_t rounded_average(const int32_t sum, const int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

#if defined(ARM_MATH_DSP) && !defined(ARM_MATH_MVEI)
static void avgpool_dsp(const cmsis_nn_pool_params *pool_params,
                        const cmsis_nn_dims *input_dims,
                        const int8_t *input_data,
                        const cmsis_nn_dims *filter_dims,
                        const cmsis_nn_dims *output_dims,
                        int8_t *output_data)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t act_min = pool_params->activation.min, act_max = pool_params->activation.max;
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
                const int32_t count = (ky1 - ky0) * (kx1 - kx0);
                const int8_t *base = in_batch + ((y0 + ky0) * in_w + x0 + kx0) * ch;
                for (int32_t c = 0; c < ch; c += 4)
                {
                    uint32_t s02 = 0, s13 = 0; /* 16-bit lane sums of channels (c, c+2), (c+1, c+3) */
                    const int8_t *row = base + c;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *p = row;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
                            const int32_t v = byoc_nn_read_s8x4(p);
                            s02 = __sxtab16(s02, (uint32_t)v);
                            s13 = (uint32_t)byoc_nn_sxtab16_ror8((int32_t)s13, v);
                            p += ch;
                        }
                        row += in_w * ch;
                    }
                    const int32_t sum[4] = {(int16_t)s02, (int16_t)s13, (int32_t)s02 >> 16, (int32_t)s13 >> 16};
                    for (int32_t i = 0; i < 4; i++)
                    {
                        output_data[c + i] =
                            byoc_nn_clamp_s8(count > 0 ? rounded_average(sum[i], count) : 0, act_min, act_max);
                    }
                }
                output_data += ch;
            }
        }
    }
}
#endif

arm_cmsis_nn_status arm_avgpool_s8(const cmsis_nn_context *ctx,
                                   const cmsis_nn_pool_params *pool_params,
                                   const cmsis_nn_dims *input_dims,
                                   const int8_t *input_data,
                                   const cmsis_nn_dims *filter_dims,
                                   const cmsis_nn_dims *output_dims,
                                   int8_t *output_data)
{
    (void)ctx;
#if defined(ARM_MATH_MVEI)
    if (input_dims->c == output_dims->c && filter_dims->h * filter_dims->w < 4096)
    {
        avgpool_mve(pool_params, input_dims, input_data, filter_dims, output_dims, output_data);
        return ARM_CMSIS_NN_SUCCESS;
    }
#endif
#if defined(ARM_MATH_DSP) && !defined(ARM_MATH_MVEI)
    if (input_dims->c == output_dims->c && (input_dims->c & 3) == 0 && filter_dims->h * filter_dims->w <= 255)
    {
        avgpool_dsp(pool_params, input_dims, input_data, filter_dims, output_dims, output_data);
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
                const int32_t count = (ky1 - ky0) * (kx1 - kx0);
                int32_t c = 0;
                for (; c + 4 <= ch; c += 4)
                {
                    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *p = in_batch + ((y0 + ky) * in_w + x0 + kx0) * ch + c;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
                            s0 += p[0];
                            s1 += p[1];
                            s2 += p[2];
                            s3 += p[3];
                            p += ch;
                        }
                    }
                    output_data[c] = byoc_nn_clamp_s8(count > 0 ? rounded_average(s0, count) : 0, act_min, act_max);
                    output_data[c + 1] = byoc_nn_clamp_s8(count > 0 ? rounded_average(s1, count) : 0, act_min, act_max);
                    output_data[c + 2] = byoc_nn_clamp_s8(count > 0 ? rounded_average(s2, count) : 0, act_min, act_max);
                    output_data[c + 3] = byoc_nn_clamp_s8(count > 0 ? rounded_average(s3, count) : 0, act_min, act_max);
                }
                for (; c < ch; c++)
                {
                    int32_t sum = 0;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                    {
                        const int8_t *p = in_batch + ((y0 + ky) * in_w + x0 + kx0) * ch + c;
                        for (int32_t kx = kx0; kx < kx1; kx++)
                        {
                            sum += *p;
                            p += ch;
                        }
                    }
                    output_data[c] = byoc_nn_clamp_s8(count > 0 ? rounded_average(sum, count) : 0, act_min, act_max);
                }
                output_data += ch;
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
