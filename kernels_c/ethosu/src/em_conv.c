/*
 * em_conv.c - CONV and DEPTHWISE operations.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * OFM(y, x, c) = output_stage(bias[c] + sum over the kernel window and input channels of
 *                (IFM(y * stride + k * dilation - pad) - IFM zero point) * W), where padded
 * positions read the IFM zero point (they contribute nothing). CONV sums over every IFM channel
 * (IFM_DEPTH); DEPTHWISE uses IFM channel c for OFM channel c.
 *
 * The weights come in the NPU's order, OFM block by OFM block (OFM_BLK_DEPTH channels). For each
 * block the model accumulates a group of output pixels at a time in the emulated SHRAM
 * (ETHOSU_MODEL_ACC_ENTRIES accumulators), replaying the block's part of the weight stream once
 * per group from a saved decoder state.
 */
#include "em_internal.h"

typedef struct
{
    em_ctx_t *ctx;
    const em_fmap_t *ifm;
    const em_kernel_t *k;
    int64_t *acc;
    int32_t pix0, npix, ofm_w, obd, ob_start;
    int depthwise;
} em_conv_job_t;

/* Host pointer of IFM element (y, x, c) of the upscaled, padded input plane; NULL where the
 * plane holds the zero point (padding, or the inserted zeros of ZEROS upscaling). */
static const uint8_t *em_conv_ifm_ptr(const em_fmap_t *ifm, const em_kernel_t *k, int32_t y, int32_t x, int32_t c)
{
    if (y < 0 || x < 0 || y >= k->in_h || x >= k->in_w)
    {
        return NULL;
    }
    if (k->upscale != EM_UPSCALE_NONE)
    {
        if (k->upscale == EM_UPSCALE_ZEROS && ((y | x) & 1))
        {
            return NULL;
        }
        y >>= 1;
        x >>= 1;
    }
    return em_fmap_ptr(ifm, y, x, c);
}

/* Accumulate one weight tile into the pixel group's accumulators. */
static void em_conv_accumulate(void *user, const em_wtile_t *t)
{
    const em_conv_job_t *j = (const em_conv_job_t *)user;
    const em_kernel_t *k = j->k;
    const em_fmap_t *ifm = j->ifm;
    const int32_t dy = t->ky * k->dilation_y - k->pad_top;
    const int32_t dx = t->kx * k->dilation_x - k->pad_left;
    const int32_t zp = ifm->zero_point;
    int32_t oy = j->pix0 / j->ofm_w;
    int32_t ox = j->pix0 % j->ofm_w;
    int64_t *acc = j->acc + t->ofm_c0;
    for (int32_t p = 0; p < j->npix; p++, acc += j->obd)
    {
        const int32_t iy = oy * k->stride_y + dy;
        const int32_t ix = ox * k->stride_x + dx;
        if (++ox == j->ofm_w)
        {
            ox = 0;
            oy++;
        }
        if (j->depthwise)
        {
            /* OFM channel c reads IFM channel c: one weight per channel. */
            const uint8_t *src = em_conv_ifm_ptr(ifm, k, iy, ix, j->ob_start + t->ofm_c0);
            if (src == NULL)
            {
                continue;
            }
            for (int32_t o = 0; o < t->n_ofm; o++)
            {
                acc[o] += (int64_t)t->w[o][0] * (em_fmap_load_at(ifm, src, o) - zp);
            }
            continue;
        }
        const uint8_t *src = em_conv_ifm_ptr(ifm, k, iy, ix, t->ifm_c0);
        if (src == NULL)
        {
            continue;
        }
        int32_t x[EM_UBLOCK_MAX];
        for (int32_t i = 0; i < t->n_ifm; i++)
        {
            x[i] = em_fmap_load_at(ifm, src, i) - zp;
        }
        for (int32_t o = 0; o < t->n_ofm; o++)
        {
            int32_t sum = 0; /* at most 8 products of 9-bit weights and 17-bit inputs */
            for (int32_t i = 0; i < t->n_ifm; i++)
            {
                sum += (int32_t)t->w[o][i] * x[i];
            }
            acc[o] += sum;
        }
    }
}

int em_op_conv(em_ctx_t *ctx, int depthwise)
{
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
    if (depthwise && ifm_c < ofm_c)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "DEPTHWISE with fewer IFM than OFM channels");
    }
    const int32_t src_h = k.upscale != EM_UPSCALE_NONE ? (k.in_h + 1) / 2 : k.in_h;
    const int32_t src_w = k.upscale != EM_UPSCALE_NONE ? (k.in_w + 1) / 2 : k.in_w;
    em_fmap_t ifm, ofm;
    rc = em_fmap_setup(ctx, &ifm, EM_FM_IFM, src_h, src_w, depthwise ? ofm_c : ifm_c);
    if (rc < 0)
    {
        return rc;
    }
    rc = em_fmap_setup(ctx, &ofm, EM_FM_OFM, ofm_h, ofm_w, ofm_c);
    if (rc < 0)
    {
        return rc;
    }
    if (ifm.elem_bytes > 2)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "32-bit IFM for CONV/DEPTHWISE");
    }
    if ((em_reg0(ctx, EM_R_ACC_FORMAT) & 3u) == 2u)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "FP16 accumulators");
    }
    rc = em_check_work(ctx, (uint64_t)ofm_h * (uint64_t)ofm_w * (uint64_t)ofm_c,
                       (uint64_t)k.kernel_h * (uint64_t)k.kernel_w * (uint64_t)(depthwise ? 1 : ifm_c));
    if (rc < 0)
    {
        return rc;
    }
    em_output_t out;
    rc = em_output_setup(ctx, &out, ofm_c, 1);
    if (rc < 0)
    {
        return rc;
    }

    /* Weight stream */
    const int64_t wlen = (int64_t)em_reg1(ctx, EM_R1_WEIGHT_LENGTH);
    const uint8_t *wbuf = em_region_span(ctx, em_reg0(ctx, EM_R_WEIGHT_REGION), (int64_t)em_reg1(ctx, EM_R1_WEIGHT_BASE),
                                         wlen, "weight stream outside its region");
    if (wbuf == NULL)
    {
        return ETHOSU_MODEL_E_REGION;
    }
    em_mlw_t dec, start;
    em_mlw_init(&dec, wbuf, (uint32_t)wlen);
    const int32_t obd = (int32_t)em_reg0(ctx, EM_R_OFM_BLK_DEPTH_M1) + 1;
    if (obd > ETHOSU_MODEL_ACC_ENTRIES)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "OFM block deeper than the model's accumulators");
    }
    em_worder_t order;
    em_worder_init(ctx, &order, depthwise, k.part_kernel, ofm_c, ifm_c, k.kernel_h, k.kernel_w, k.dilation_x,
                   k.dilation_y, obd, ifm.elem_bytes * 8);

    int64_t *acc = ctx->drv->shram.acc;
    const int32_t group = ETHOSU_MODEL_ACC_ENTRIES / obd;
    const int32_t npix_total = ofm_h * ofm_w;
    em_conv_job_t job;
    job.ctx = ctx;
    job.ifm = &ifm;
    job.k = &k;
    job.acc = acc;
    job.ofm_w = ofm_w;
    job.depthwise = depthwise;
    for (int32_t ob = 0; ob < ofm_c; ob += obd)
    {
        const int32_t cur = ofm_c - ob < obd ? ofm_c - ob : obd;
        start = dec;
        job.ob_start = ob;
        job.obd = cur;
        for (int32_t pix0 = 0; pix0 < npix_total; pix0 += group)
        {
            const int32_t npix = npix_total - pix0 < group ? npix_total - pix0 : group;
            dec = start;
            for (int32_t i = 0; i < npix * cur; i++)
            {
                acc[i] = 0;
            }
            job.pix0 = pix0;
            job.npix = npix;
            rc = em_weights_block(ctx, &dec, &order, ob, em_conv_accumulate, &job);
            if (rc < 0)
            {
                return rc;
            }
            int32_t oy = pix0 / ofm_w;
            int32_t ox = pix0 % ofm_w;
            for (int32_t p = 0; p < npix; p++)
            {
                for (int32_t c = 0; c < cur; c++)
                {
                    const int32_t v = em_output_value(ctx, &out, acc[(size_t)p * (size_t)cur + (size_t)c], ob + c);
                    em_fmap_store(&ofm, oy, ox, ob + c, v);
                }
                if (++ox == ofm_w)
                {
                    ox = 0;
                    oy++;
                }
            }
        }
    }
    return 0;
}
