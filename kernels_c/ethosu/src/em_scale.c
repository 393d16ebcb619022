/*
 * em_scale.c - output scaling: scale/bias records, the global OFM scale and the rounding modes.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Scale stream (SCALE_BASE/SCALE_LENGTH in SCALE_REGION): one 10-byte record per OFM channel,
 * little-endian: bits 0-39 signed bias, bits 40-71 unsigned scale, bits 72-77 shift. The OFM
 * value of a channel is (acc + bias) * scale / 2^shift, rounded by the OFM rounding mode:
 *   TFL       double rounding as TensorFlow Lite / gemmlowp: a saturating rounding doubling
 *             high multiply by scale (round half up on the 64-bit product / 2^31), then a
 *             rounding right shift by shift - 31 (round half away from zero); shifts below 31
 *             shift the accumulator left first
 *   TRUNCATE  round toward zero
 *   NATURAL   round half up
 * The accumulator may exceed 32 bits (40-bit accumulators and biases), so the product is formed
 * exactly in 128-bit arithmetic (two 64-bit halves; no compiler 128-bit type needed).
 */
#include "em_internal.h"

typedef struct
{
    uint64_t hi, lo;
} em_u128_t;

static em_u128_t em_mul_u64_u32(uint64_t a, uint32_t b)
{
    const uint64_t lo = (a & 0xFFFFFFFFu) * b;
    const uint64_t mid = (a >> 32) * b;
    em_u128_t r;
    r.lo = lo + (mid << 32);
    r.hi = (mid >> 32) + (r.lo < lo ? 1u : 0u);
    return r;
}

static em_u128_t em_add_u64(em_u128_t a, uint64_t b)
{
    em_u128_t r;
    r.lo = a.lo + b;
    r.hi = a.hi + (r.lo < a.lo ? 1u : 0u);
    return r;
}

static em_u128_t em_shl(em_u128_t a, int n)
{
    if (n <= 0)
    {
        return a;
    }
    em_u128_t r;
    if (n >= 64)
    {
        r.hi = a.lo << (n - 64);
        r.lo = 0;
    }
    else
    {
        r.hi = (a.hi << n) | (a.lo >> (64 - n));
        r.lo = a.lo << n;
    }
    return r;
}

/* (a >> n) saturated to 63 bits. */
static int64_t em_shr_sat(em_u128_t a, int n)
{
    uint64_t hi = a.hi, lo = a.lo;
    if (n >= 64)
    {
        lo = hi >> (n - 64);
        hi = 0;
    }
    else if (n > 0)
    {
        lo = (lo >> n) | (hi << (64 - n));
        hi >>= n;
    }
    if (hi != 0u || lo > (uint64_t)INT64_MAX)
    {
        return INT64_MAX;
    }
    return (int64_t)lo;
}

static int em_u128_lt(em_u128_t a, uint64_t b)
{
    return a.hi == 0u && a.lo < b;
}

static em_u128_t em_sub_u64(em_u128_t a, uint64_t b)
{
    em_u128_t r;
    r.lo = a.lo - b;
    r.hi = a.hi - (a.lo < b ? 1u : 0u);
    return r;
}

/* gemmlowp RoundingDivideByPOT: round half away from zero. */
static int64_t em_rounding_divide_pot(int64_t x, int e)
{
    if (e <= 0)
    {
        return x;
    }
    if (e > 62)
    {
        return 0;
    }
    const int64_t mask = (int64_t)((1ull << e) - 1u);
    const int64_t rem = x & mask;
    const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (rem > threshold ? 1 : 0);
}

/* The common case in 64-bit arithmetic: |acc| < 2^31, so |acc * scale| < 2^63. */
static int64_t em_scale_round_fast(uint64_t p, int neg, int32_t shift, int round_mode)
{
    switch (round_mode)
    {
    case EM_ROUND_TRUNCATE:
    {
        const int64_t q = shift < 63 ? (int64_t)(p >> shift) : 0;
        return neg ? -q : q;
    }
    case EM_ROUND_NATURAL:
    {
        if (shift == 0)
        {
            return neg ? -(int64_t)p : (int64_t)p;
        }
        if (shift > 62)
        {
            return 0;
        }
        const uint64_t half = 1ull << (shift - 1);
        if (!neg)
        {
            return (int64_t)((p + half) >> shift);
        }
        return p <= half ? 0 : -(int64_t)((p - half + ((1ull << shift) - 1u)) >> shift);
    }
    default: /* TFL with shift >= 31 */
    {
        const int64_t high = neg ? -(int64_t)((p + (1ull << 30) - 1u) >> 31) : (int64_t)((p + (1ull << 30)) >> 31);
        return em_rounding_divide_pot(high, shift - 31);
    }
    }
}

int64_t em_scale_round(int64_t acc, uint32_t scale, int32_t shift, int round_mode)
{
    const int neg = acc < 0;
    const uint64_t mag = neg ? (uint64_t)0 - (uint64_t)acc : (uint64_t)acc;
    if (shift < 0)
    {
        shift = 0;
    }
    if (mag < (1ull << 31) && (round_mode != EM_ROUND_TFL || shift >= 31))
    {
        return em_scale_round_fast(mag * scale, neg, shift, round_mode);
    }
    em_u128_t p = em_mul_u64_u32(mag, scale);
    switch (round_mode)
    {
    case EM_ROUND_TRUNCATE:
    {
        const int64_t q = em_shr_sat(p, shift);
        return neg ? -q : q;
    }
    case EM_ROUND_NATURAL:
    {
        if (shift == 0)
        {
            const int64_t q = em_shr_sat(p, 0);
            return neg ? -q : q;
        }
        const uint64_t half = 1ull << (shift - 1 < 63 ? shift - 1 : 62);
        if (!neg)
        {
            return em_shr_sat(em_add_u64(p, half), shift);
        }
        /* floor((half - m) / 2^shift) = -ceil((m - half) / 2^shift) */
        if (em_u128_lt(p, half + 1u))
        {
            return 0;
        }
        em_u128_t t = em_sub_u64(p, half);
        t = em_add_u64(t, (shift < 64 ? (1ull << shift) : 0u) - 1u);
        return -em_shr_sat(t, shift);
    }
    default: /* TFL */
    {
        if (shift < 31)
        {
            p = em_shl(p, 31 - shift);
        }
        /* saturating rounding doubling high multiply: (v + nudge) / 2^31, truncated */
        int64_t high;
        if (!neg)
        {
            high = em_shr_sat(em_add_u64(p, 1ull << 30), 31);
        }
        else
        {
            high = -em_shr_sat(em_add_u64(p, (1ull << 30) - 1u), 31);
        }
        return shift > 31 ? em_rounding_divide_pot(high, shift - 31) : high;
    }
    }
}

int em_output_setup(em_ctx_t *ctx, em_output_t *out, int32_t channels, int per_channel_allowed)
{
    const uint32_t prec = em_reg0(ctx, EM_R_OFM_PRECISION);
    out->ofm_signed = (int)(prec & 1u);
    out->ofm_bits = 8 << ((prec >> 1) & 3u);
    out->per_channel = ((prec >> 8) & 1u) == 0u;
    out->round_mode = (int)((prec >> 14) & 3u);
    if (out->round_mode > EM_ROUND_NATURAL)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "unknown OFM rounding mode");
    }
    out->channels = channels;
    out->records = NULL;
    out->global.bias = 0;
    out->global.scale = em_reg1(ctx, EM_R1_OFM_SCALE);
    out->global.shift = (int32_t)(em_reg1_param(ctx, EM_R1_OFM_SCALE) & 0x3Fu);
    if (out->per_channel)
    {
        if (!per_channel_allowed)
        {
            out->per_channel = 0;
        }
        else
        {
            const int64_t need = (int64_t)channels * 10;
            if ((int64_t)em_reg1(ctx, EM_R1_SCALE_LENGTH) < need)
            {
                return em_fail(ctx, ETHOSU_MODEL_E_REGION, "scale stream shorter than 10 bytes per OFM channel");
            }
            out->records = em_region_span(ctx, em_reg0(ctx, EM_R_SCALE_REGION), (int64_t)em_reg1(ctx, EM_R1_SCALE_BASE),
                                          need, "scale stream outside its region");
            if (out->records == NULL)
            {
                return ETHOSU_MODEL_E_REGION;
            }
        }
    }
    out->ofm_zero_point = out->ofm_signed ? (int32_t)(int16_t)em_reg0(ctx, EM_R_OFM_ZERO_POINT)
                                          : (int32_t)em_reg0(ctx, EM_R_OFM_ZERO_POINT);

    /* Activation: function, clip range, min/max. */
    const uint32_t act = em_reg0(ctx, EM_R_ACTIVATION);
    const uint32_t fn = act & 0xFFFu;
    const uint32_t clip = (act >> 12) & 0xFu;
    out->activation = (int)fn;
    out->lut_index = 0;
    if (fn >= EM_ACT_LUT_FIRST && fn <= EM_ACT_LUT_LAST)
    {
        out->lut_index = (int)(fn - EM_ACT_LUT_FIRST);
    }
    else if (fn != EM_ACT_NONE)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "built-in TANH/SIGMOID activation is not supported");
    }
    int64_t lo, hi;
    int clip_signed = out->ofm_signed;
    int clip_bits = out->ofm_bits;
    switch (clip)
    {
    case 0: /* OFM precision */
        break;
    case 2:
        clip_signed = 0;
        clip_bits = 8;
        break;
    case 3:
        clip_signed = 1;
        clip_bits = 8;
        break;
    case 5:
        clip_signed = 1;
        clip_bits = 16;
        break;
    default:
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "unknown activation clip range");
    }
    if (clip_signed)
    {
        lo = -((int64_t)1 << (clip_bits - 1));
        hi = ((int64_t)1 << (clip_bits - 1)) - 1;
    }
    else
    {
        lo = 0;
        hi = ((int64_t)1 << clip_bits) - 1;
    }
    const uint32_t amin = em_reg0(ctx, EM_R_ACTIVATION_MIN);
    const uint32_t amax = em_reg0(ctx, EM_R_ACTIVATION_MAX);
    const int64_t vmin = clip_signed ? (int64_t)(int16_t)amin : (int64_t)amin;
    const int64_t vmax = clip_signed ? (int64_t)(int16_t)amax : (int64_t)amax;
    /* The activation registers are 16 bits: they limit 8/16-bit clip ranges only. */
    if (clip_bits <= 16)
    {
        lo = vmin > lo ? vmin : lo;
        hi = vmax < hi ? vmax : hi;
    }
    out->act_min = (int32_t)lo;
    out->act_max = (int32_t)hi;
    return 0;
}

em_scale_t em_output_scale(const em_output_t *out, int32_t channel)
{
    if (!out->per_channel)
    {
        return out->global;
    }
    const uint8_t *r = out->records + (size_t)channel * 10u;
    em_scale_t s;
    uint64_t b = (uint64_t)r[0] | ((uint64_t)r[1] << 8) | ((uint64_t)r[2] << 16) | ((uint64_t)r[3] << 24) |
                 ((uint64_t)r[4] << 32);
    if (b & (1ull << 39))
    {
        b |= ~((1ull << 40) - 1u); /* sign-extend 40 bits */
    }
    s.bias = (int64_t)b;
    s.scale = (uint32_t)r[5] | ((uint32_t)r[6] << 8) | ((uint32_t)r[7] << 16) | ((uint32_t)r[8] << 24);
    s.shift = (int32_t)(r[9] & 0x3Fu);
    return s;
}

int32_t em_output_value(em_ctx_t *ctx, const em_output_t *out, int64_t acc, int32_t channel)
{
    const em_scale_t s = em_output_scale(out, channel);
    const int64_t v = em_scale_round(acc + s.bias, s.scale, s.shift, out->round_mode) + out->ofm_zero_point;
    return em_activation_apply(ctx, out, v);
}
