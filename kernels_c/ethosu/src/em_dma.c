/*
 * em_dma.c - DMA: copies between regions (e.g. weights from flash to SRAM) and LUT loads into
 * the NPU's internal SHRAM.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * DMA0_SRC_REGION / DMA0_DST_REGION: bits 0-7 region, bit 8 internal (SHRAM), bits 9-10 stride
 * mode (0: 1D). DMA0_SRC / DMA0_DST: byte offsets; DMA0_LEN: bytes. An internal destination is
 * a SHRAM address; the model keeps the LUT area (the last ETHOSU_MODEL_LUT_BYTES of the SHRAM,
 * where the LUT slots of ACTIVATION 16..23 live). Copies run in stream order, so DMA_WAIT and
 * KERNEL_WAIT need no action.
 */
#include "em_internal.h"

int em_op_dma(em_ctx_t *ctx, uint32_t param)
{
    (void)param; /* channel / mode: one channel, no special modes */
    const uint32_t src_reg = em_reg0(ctx, EM_R_DMA0_SRC_REGION);
    const uint32_t dst_reg = em_reg0(ctx, EM_R_DMA0_DST_REGION);
    if (((src_reg >> 9) & 3u) != 0u || ((dst_reg >> 9) & 3u) != 0u)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "2D/3D strided DMA is not supported");
    }
    if ((src_reg >> 8) & 1u)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "DMA from SHRAM is not supported");
    }
    const int64_t len = (int64_t)em_reg1(ctx, EM_R1_DMA0_LEN);
    const uint8_t *src =
        em_region_span(ctx, src_reg & 0xFFu, (int64_t)em_reg1(ctx, EM_R1_DMA0_SRC), len, "DMA source outside its region");
    if (src == NULL)
    {
        return ETHOSU_MODEL_E_REGION;
    }
    const int64_t dst_off = (int64_t)em_reg1(ctx, EM_R1_DMA0_DST);
    if ((dst_reg >> 8) & 1u)
    {
        const int64_t lut_start = (int64_t)ctx->shram_bytes - ETHOSU_MODEL_LUT_BYTES;
        if (dst_off < lut_start || len > (int64_t)ctx->shram_bytes - dst_off)
        {
            return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "DMA into SHRAM outside the LUT area");
        }
        uint8_t *lut = ctx->drv->shram.lut + (dst_off - lut_start);
        for (int64_t i = 0; i < len; i++)
        {
            lut[i] = src[i];
        }
        return 0;
    }
    uint8_t *dst = em_region_span(ctx, dst_reg & 0xFFu, dst_off, len, "DMA destination outside its region");
    if (dst == NULL)
    {
        return ETHOSU_MODEL_E_REGION;
    }
    /* memmove semantics: the regions may be the same memory */
    if ((uintptr_t)dst < (uintptr_t)src)
    {
        for (int64_t i = 0; i < len; i++)
        {
            dst[i] = src[i];
        }
    }
    else if ((uintptr_t)dst > (uintptr_t)src)
    {
        for (int64_t i = len - 1; i >= 0; i--)
        {
            dst[i] = src[i];
        }
    }
    return 0;
}
