/*
 * em_activation.c - activation stage: clamp to [ACTIVATION_MIN, ACTIVATION_MAX] within the
 * clip range, then the LUT activations (ACTIVATION 16..23 = LUT slot 0..7 of the SHRAM LUT
 * area, loaded there by a DMA).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * LUT formats by OFM precision (slots are 256 bytes):
 *   8-bit OFM   256 entries of 1 byte, indexed by the clamped value - range minimum
 *   32-bit OFM  256 entries of 4 bytes (signed, little-endian), indexed by the value clamped to
 *               the 8-bit clip range - its minimum (used for exp/reciprocal tables)
 *   16-bit OFM  512 entries of 4 bytes: base (low 16 bits, signed) and slope (high 16 bits,
 *               signed); the entry is (v + 32768) >> 7 and the 7-bit fraction interpolates
 */
#include "em_internal.h"

static int32_t em_lut_u32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

int32_t em_activation_apply(em_ctx_t *ctx, const em_output_t *out, int64_t value)
{
    if (value < out->act_min)
    {
        value = out->act_min;
    }
    if (value > out->act_max)
    {
        value = out->act_max;
    }
    int32_t v = (int32_t)value;
    if (out->activation < EM_ACT_LUT_FIRST)
    {
        return v;
    }
    const uint8_t *lut = ctx->drv->shram.lut;
    const uint32_t slot = (uint32_t)out->lut_index * 256u;
    if (out->ofm_bits == 8)
    {
        const uint32_t idx = (uint32_t)(out->ofm_signed ? v + 128 : v) & 0xFFu;
        const uint8_t b = lut[(slot + idx) % ETHOSU_MODEL_LUT_BYTES];
        return out->ofm_signed ? (int32_t)(int8_t)b : (int32_t)b;
    }
    if (out->ofm_bits == 32)
    {
        const uint32_t idx = (uint32_t)(out->act_min < 0 ? v + 128 : v) & 0xFFu;
        return em_lut_u32(lut + (slot + idx * 4u) % ETHOSU_MODEL_LUT_BYTES);
    }
    /* 16-bit: interpolated */
    const uint32_t u = (uint32_t)(out->ofm_signed ? v + 32768 : v) & 0xFFFFu;
    const uint32_t idx = u >> 7;
    const int32_t frac = (int32_t)(u & 127u);
    const int32_t entry = em_lut_u32(lut + (slot + idx * 4u) % ETHOSU_MODEL_LUT_BYTES);
    const int32_t base = (int32_t)(int16_t)(entry & 0xFFFF);
    const int32_t slope = entry >> 16;
    int32_t r = base + ((slope * frac + 64) >> 7);
    const int32_t lo = out->ofm_signed ? -32768 : 0;
    const int32_t hi = out->ofm_signed ? 32767 : 65535;
    return r < lo ? lo : (r > hi ? hi : r);
}
