/*
 * em_pool.c - POOL operations: MAX, AVERAGE and REDUCE_SUM.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Over the kernel window of each OFM element (stride, padding and IFM upscaling as for
 * convolutions):
 *   MAX         max of the non-padding IFM values - zero point
 *   AVERAGE     sum of (IFM - zero point); without padding the OFM scale (e.g. 2^shift / window
 *               size, Vela's QuantizePoolingScale) divides; when the window overlaps padding
 *               the sum is first divided by the number of non-padding elements (rounded half
 *               away from zero, as TensorFlow Lite), then the OFM scale applies
 *   REDUCE_SUM  sum of (IFM - zero point) over the window and over all IFM channels (Vela uses
 *               it with a 1x1 kernel to sum across channels into a one-channel OFM)
 * then the output stage (scale, zero point, activation). The OFM scale is OFM_SCALE (global
 * scale mode), the scale stream (per-channel mode, with a bias) when one is given, else none.
 */
#include "em_internal.h"

static int64_t em_div_round_away(int64_t num, int64_t den)
{
    if (den <= 0)
    {
        return 0;
    }
    return num >= 0 ? (num + den / 2) / den : -((-num + den / 2) / den);
}

int em_op_pool(em_ctx_t *ctx, int mode)
{
    if (mode != EM_POOL_MAX && mode != EM_POOL_AVERAGE && mode != EM_POOL_REDUCE_SUM)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "unknown pooling mode");
    }
    const int32_t ofm_h = (int32_t)em_reg0(ctx, EM_R_OFM_HEIGHT_M1) + 1;
    const int32_t ofm_w = (int32_t)em_reg0(ctx, EM_R_OFM_WIDTH_M1) + 1;
    const int32_t ofm_c = (int32_t)em_reg0(ctx, EM_R_OFM_DEPTH_M1) + 1;
    const int32_t ifm_c = (int32_t)em_reg0(ctx, EM_R_IFM_DEPTH_M1) + 1;
    em_kernel_t k;
    int rc = em_kernel_setup(ctx, &k, ofm_h, ofm_w);
    if (rc < 0)
    {
        return rc;
    }
    const int32_t src_h = k.upscale != EM_UPSCALE_NONE ? (k.in_h + 1) / 2 : k.in_h;
    const int32_t src_w = k.upscale != EM_UPSCALE_NONE ? (k.in_w + 1) / 2 : k.in_w;
    const int32_t in_c = mode == EM_POOL_REDUCE_SUM ? ifm_c : ofm_c;
    if (mode != EM_POOL_REDUCE_SUM && ifm_c < ofm_c)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "POOL with fewer IFM than OFM channels");
    }
    em_fmap_t ifm, ofm;
    rc = em_fmap_setup(ctx, &ifm, EM_FM_IFM, src_h, src_w, in_c);
    if (rc < 0)
    {
        return rc;
    }
    rc = em_fmap_setup(ctx, &ofm, EM_FM_OFM, ofm_h, ofm_w, ofm_c);
    if (rc < 0)
    {
        return rc;
    }
    rc = em_check_work(ctx, (uint64_t)ofm_h * (uint64_t)ofm_w * (uint64_t)ofm_c,
                       (uint64_t)k.kernel_h * (uint64_t)k.kernel_w * (uint64_t)(mode == EM_POOL_REDUCE_SUM ? ifm_c : 1));
    if (rc < 0)
    {
        return rc;
    }
    em_output_t out;
    const uint32_t prec = em_reg0(ctx, EM_R_OFM_PRECISION);
    /* Per-channel mode uses the scale stream only when the operation has one. */
    const int have_scales = ((prec >> 8) & 1u) == 0u && em_reg1(ctx, EM_R1_SCALE_LENGTH) != 0u;
    rc = em_output_setup(ctx, &out, ofm_c, have_scales);
    if (rc < 0)
    {
        return rc;
    }
    if (((prec >> 8) & 1u) == 0u && !have_scales)
    {
        /* Per-channel mode without a scale stream: the pooled value is not rescaled. */
        out.global.scale = 1u;
        out.global.shift = 0;
    }
    const int padded = (k.pad_top | k.pad_left | k.pad_bottom | k.pad_right) != 0;
    for (int32_t oy = 0; oy < ofm_h; oy++)
    {
        for (int32_t ox = 0; ox < ofm_w; ox++)
        {
            const int32_t y0 = oy * k.stride_y - k.pad_top;
            const int32_t x0 = ox * k.stride_x - k.pad_left;
            for (int32_t c = 0; c < ofm_c; c++)
            {
                int64_t acc = 0;
                int64_t count = 0;
                int any = 0;
                const int32_t c_lo = mode == EM_POOL_REDUCE_SUM ? 0 : c;
                const int32_t c_hi = mode == EM_POOL_REDUCE_SUM ? ifm_c : c + 1;
                for (int32_t ky = 0; ky < k.kernel_h; ky++)
                {
                    for (int32_t kx = 0; kx < k.kernel_w; kx++)
                    {
                        for (int32_t ci = c_lo; ci < c_hi; ci++)
                        {
                            int valid;
                            const int32_t v = em_kernel_load(&ifm, &k, y0 + ky * k.dilation_y, x0 + kx * k.dilation_x,
                                                             ci, &valid) -
                                              ifm.zero_point;
                            if (!valid)
                            {
                                continue;
                            }
                            count++;
                            if (mode == EM_POOL_MAX)
                            {
                                if (!any || v > acc)
                                {
                                    acc = v;
                                }
                                any = 1;
                            }
                            else
                            {
                                acc += v;
                            }
                        }
                    }
                }
                if (mode == EM_POOL_AVERAGE && padded)
                {
                    acc = em_div_round_away(acc, count);
                }
                em_fmap_store(&ofm, oy, ox, c, em_output_value(ctx, &out, acc, c));
            }
        }
    }
    return 0;
}
