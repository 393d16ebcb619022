/*
 * em_elementwise.c - ELEMENTWISE operations.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Operands: a = IFM - IFM zero point; binary modes also b = IFM2 - IFM2 zero point, where IFM2
 * is broadcast along H, W and/or C (IFM2_BROADCAST bits 0-2) or is the 16-bit IFM2_SCALAR
 * (bit 7). Bit 6 swaps the operands (A = IFM2, B = IFM), e.g. scalar - tensor.
 *
 * ADD/SUB, 8/16-bit inputs (IFM_PRECISION scale mode):
 *   OPA_OPB_16  A' = A * OPA_SCALE, B' = B * OPB_SCALE
 *   OPA_32      A' = round(A * 2^S * OPA_SCALE / 2^(OPA_SHIFT + S)), B' = B * 2^(S-1)
 *   OPB_32      A' = A * 2^(S-1), B' = round(B * 2^S * OPA_SCALE / 2^(OPA_SHIFT + S))
 *   with S = 20 (8-bit) or 15 (16-bit) and the IFM rounding mode: TensorFlow Lite's ADD
 *   (inputs shifted left by 20, rescaled by 32-bit multipliers, the larger-scale input by 1/2),
 *   then A' +/- B' is scaled by OFM_SCALE.
 * MUL: A * B scaled by OFM_SCALE.
 * 32-bit inputs: no input scaling, and the OFM scale's multiplier is not used: A + B, A - B and
 *   A * B (64-bit product) are only shifted right by OFM_SCALE's shift with the OFM rounding mode
 *   (for MUL this is the fixed-point "doubling high multiply" when the shift is 31).
 * MIN, MAX: min/max(A, B), no scaling. ABS: |A| scaled by OFM_SCALE. LRELU: A >= 0 ? A : A
 * scaled by OFM_SCALE (alpha). CLZ: leading zeros of the 32-bit A. SHL/SHR: A shifted by B
 * (SHR rounds with the OFM rounding mode).
 * Then the OFM zero point, activation and clamp.
 */
#include "em_internal.h"

/* Arithmetic shift right by s with the OFM rounding mode (TRUNCATE: plain arithmetic shift). */
static int64_t em_shift_right_round(int64_t v, int64_t s, int round_mode)
{
    if (s <= 0)
    {
        return v;
    }
    if (s > 62)
    {
        s = 62;
    }
    if (round_mode == EM_ROUND_TRUNCATE)
    {
        return v >= 0 ? v >> s : -(int64_t)(((uint64_t)(-v) + ((1ull << s) - 1u)) >> s);
    }
    return em_scale_round(v, 1u, (int32_t)s, round_mode);
}

static int32_t em_clz32(int64_t v)
{
    uint32_t u = (uint32_t)v;
    if (u == 0u)
    {
        return 32;
    }
    int32_t n = 0;
    while ((u & 0x80000000u) == 0u)
    {
        u <<= 1;
        n++;
    }
    return n;
}

int em_op_elementwise(em_ctx_t *ctx, int mode)
{
    if (mode < EM_EW_MUL || mode > EM_EW_SHL)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "unknown elementwise mode");
    }
    const int unary = mode == EM_EW_ABS || mode == EM_EW_LRELU || mode == EM_EW_CLZ;
    const int32_t h = (int32_t)em_reg0(ctx, EM_R_OFM_HEIGHT_M1) + 1;
    const int32_t w = (int32_t)em_reg0(ctx, EM_R_OFM_WIDTH_M1) + 1;
    const int32_t c = (int32_t)em_reg0(ctx, EM_R_OFM_DEPTH_M1) + 1;
    em_fmap_t ifm, ifm2, ofm;
    int rc = em_fmap_setup(ctx, &ifm, EM_FM_IFM, h, w, c);
    if (rc < 0)
    {
        return rc;
    }
    rc = em_fmap_setup(ctx, &ofm, EM_FM_OFM, h, w, c);
    if (rc < 0)
    {
        return rc;
    }
    const uint32_t bc = em_reg0(ctx, EM_R_IFM2_BROADCAST);
    const int bh = (int)(bc & 1u), bw = (int)((bc >> 1) & 1u), bcc = (int)((bc >> 2) & 1u);
    const int reversed = (int)((bc >> 6) & 1u);
    const int scalar = (int)((bc >> 7) & 1u);
    int32_t scalar_value = 0;
    if (!unary)
    {
        if (scalar)
        {
            const uint32_t prec2 = em_reg0(ctx, EM_R_IFM2_PRECISION);
            const uint32_t raw = em_reg0(ctx, EM_R_IFM2_SCALAR);
            const uint32_t zp = em_reg0(ctx, EM_R_IFM2_ZERO_POINT);
            if (prec2 & 1u)
            {
                scalar_value = (int32_t)(int16_t)raw - (int32_t)(int16_t)zp;
            }
            else
            {
                scalar_value = (int32_t)raw - (int32_t)zp;
            }
        }
        else
        {
            rc = em_fmap_setup(ctx, &ifm2, EM_FM_IFM2, bh ? 1 : h, bw ? 1 : w, bcc ? 1 : c);
            if (rc < 0)
            {
                return rc;
            }
        }
    }
    const int scaled = mode == EM_EW_ADD || mode == EM_EW_SUB || mode == EM_EW_MUL || mode == EM_EW_ABS ||
                       mode == EM_EW_LRELU;
    em_output_t out;
    rc = em_output_setup(ctx, &out, c, 0);
    if (rc < 0)
    {
        return rc;
    }
    const uint32_t iprec = em_reg0(ctx, EM_R_IFM_PRECISION);
    const int scale_mode = (int)((iprec >> 8) & 3u);
    const int in_round = (int)((iprec >> 14) & 3u);
    if (scale_mode == 3 || in_round > EM_ROUND_NATURAL)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "unknown IFM scale or rounding mode");
    }
    const int wide = ifm.elem_bytes == 4; /* 32-bit inputs: shift-only scaling */
    const int S = ifm.elem_bytes == 1 ? 20 : 15;
    const uint32_t opa_scale = em_reg1(ctx, EM_R1_OPA_SCALE);
    const int32_t opa_shift = (int32_t)(em_reg1_param(ctx, EM_R1_OPA_SCALE) & 0x3Fu);
    const uint32_t opb_scale = em_reg1(ctx, EM_R1_OPB_SCALE);

    for (int32_t y = 0; y < h; y++)
    {
        for (int32_t x = 0; x < w; x++)
        {
            int32_t ch = 0;
            while (ch < c)
            {
                /* A run of channels contiguous in IFM, IFM2 and OFM. */
                int32_t run = em_fmap_run(&ifm, ch);
                const int32_t run_o = em_fmap_run(&ofm, ch);
                run = run_o < run ? run_o : run;
                const uint8_t *pa = em_fmap_ptr(&ifm, y, x, ch);
                const uint8_t *pb = NULL;
                uint8_t *po = em_fmap_ptr(&ofm, y, x, ch);
                int b_step = 0;
                if (!unary && !scalar)
                {
                    pb = em_fmap_ptr(&ifm2, bh ? 0 : y, bw ? 0 : x, bcc ? 0 : ch);
                    if (!bcc)
                    {
                        const int32_t run_b = em_fmap_run(&ifm2, ch);
                        run = run_b < run ? run_b : run;
                        b_step = 1;
                    }
                }
                for (int32_t i = 0; i < run; i++)
                {
                    int64_t a = (int64_t)em_fmap_load_at(&ifm, pa, i) - ifm.zero_point;
                    int64_t b = 0;
                    if (!unary)
                    {
                        b = scalar ? scalar_value : (int64_t)em_fmap_load_at(&ifm2, pb, i * b_step) - ifm2.zero_point;
                        if (reversed)
                        {
                            const int64_t t = a;
                            a = b;
                            b = t;
                        }
                    }
                    int64_t r;
                    switch (mode)
                    {
                    case EM_EW_ADD:
                    case EM_EW_SUB:
                        if (!wide)
                        {
                            if (scale_mode == 0)
                            {
                                a *= (int64_t)opa_scale;
                                b *= (int64_t)opb_scale;
                            }
                            else if (scale_mode == 1)
                            {
                                a = em_scale_round(a * ((int64_t)1 << S), opa_scale, opa_shift + S, in_round);
                                b *= (int64_t)1 << (S - 1);
                            }
                            else
                            {
                                a *= (int64_t)1 << (S - 1);
                                b = em_scale_round(b * ((int64_t)1 << S), opa_scale, opa_shift + S, in_round);
                            }
                        }
                        r = mode == EM_EW_ADD ? a + b : a - b;
                        break;
                    case EM_EW_MUL:
                        r = a * b;
                        break;
                    case EM_EW_MIN:
                        r = a < b ? a : b;
                        break;
                    case EM_EW_MAX:
                        r = a > b ? a : b;
                        break;
                    case EM_EW_ABS:
                        r = a < 0 ? -a : a;
                        break;
                    case EM_EW_LRELU:
                        r = a;
                        break;
                    case EM_EW_CLZ:
                        r = em_clz32(a);
                        break;
                    case EM_EW_SHL:
                    {
                        const int64_t sh = b < 0 ? 0 : (b > 32 ? 32 : b);
                        r = (int64_t)(int32_t)(uint32_t)((uint64_t)a << sh);
                        break;
                    }
                    default: /* SHR */
                        r = em_shift_right_round(a, b, out.round_mode);
                        break;
                    }
                    int64_t v;
                    if (!scaled || (mode == EM_EW_LRELU && r >= 0))
                    {
                        v = r + out.ofm_zero_point;
                    }
                    else if (wide && mode != EM_EW_ABS && mode != EM_EW_LRELU)
                    {
                        v = em_scale_round(r, 1u, out.global.shift, out.round_mode) + out.ofm_zero_point;
                    }
                    else
                    {
                        v = em_scale_round(r, out.global.scale, out.global.shift, out.round_mode) + out.ofm_zero_point;
                    }
                    em_fmap_store_at(&ofm, po, i, em_activation_apply(ctx, &out, v));
                }
                ch += run;
            }
        }
    }
    return 0;
}
