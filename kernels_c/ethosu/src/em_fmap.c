/*
 * em_fmap.c - feature maps: element addressing (NHWC, NHCWB16), tiles, strides, padding and
 * upscaling of kernel operations.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * A feature map is up to four tiles (BASE0..3): tile 0 holds rows [0, HEIGHT0) x columns
 * [0, WIDTH0); tile 1 the columns from WIDTH0 on, rows [0, HEIGHT1); tile 2 the rows from HEIGHT0
 * on in the first WIDTH0 columns; tile 3 the rest. Coordinates inside a tile are relative to its
 * base. Element (y, x, c) of a tile is at
 *   NHWC:    base + y * STRIDE_Y + x * STRIDE_X + c * element_size       (STRIDE_C unused)
 *   NHCWB16: base + y * STRIDE_Y + x * STRIDE_X + (c / 16) * STRIDE_C + (c % 16) * element_size
 * Strides are signed 32-bit values (negative strides reverse an axis).
 */
#include "em_internal.h"

typedef struct
{
    int region_reg, base_reg, h0_reg, h1_reg, w0_reg, sx_reg, sy_reg, sc_reg, prec_reg, zp_reg;
    const char *oob_msg;
} em_fmap_regs_t;

static const em_fmap_regs_t em_fmap_regs[3] = {
    {EM_R_IFM_REGION, EM_R1_IFM_BASE0, EM_R_IFM_HEIGHT0_M1, EM_R_IFM_HEIGHT1_M1, EM_R_IFM_WIDTH0_M1,
     EM_R1_IFM_STRIDE_X, EM_R1_IFM_STRIDE_Y, EM_R1_IFM_STRIDE_C, EM_R_IFM_PRECISION, EM_R_IFM_ZERO_POINT,
     "IFM outside its region"},
    {EM_R_IFM2_REGION, EM_R1_IFM2_BASE0, EM_R_IFM2_HEIGHT0_M1, EM_R_IFM2_HEIGHT1_M1, EM_R_IFM2_WIDTH0_M1,
     EM_R1_IFM2_STRIDE_X, EM_R1_IFM2_STRIDE_Y, EM_R1_IFM2_STRIDE_C, EM_R_IFM2_PRECISION, EM_R_IFM2_ZERO_POINT,
     "IFM2 outside its region"},
    {EM_R_OFM_REGION, EM_R1_OFM_BASE0, EM_R_OFM_HEIGHT0_M1, EM_R_OFM_HEIGHT1_M1, EM_R_OFM_WIDTH0_M1,
     EM_R1_OFM_STRIDE_X, EM_R1_OFM_STRIDE_Y, EM_R1_OFM_STRIDE_C, EM_R_OFM_PRECISION, EM_R_OFM_ZERO_POINT,
     "OFM outside its region"},
};

static int64_t em_min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t em_max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Byte offsets [*lo, *hi] spanned by rows x cols x depth elements of one tile. */
static void em_tile_extent(const em_fmap_t *fm, int32_t rows, int32_t cols, int32_t depth, int64_t *lo, int64_t *hi)
{
    const int64_t ylast = (int64_t)(rows - 1) * fm->stride_y;
    const int64_t xlast = (int64_t)(cols - 1) * fm->stride_x;
    int64_t clo = 0;
    int64_t chi;
    if (fm->format == EM_FORMAT_NHWC)
    {
        chi = (int64_t)(depth - 1) * fm->elem_bytes;
    }
    else
    {
        const int32_t last_brick = (depth - 1) >> 4;
        const int64_t last = (int64_t)last_brick * fm->stride_c;
        chi = last + (int64_t)((depth - 1) & 15) * fm->elem_bytes;
        clo = em_min64(0, last);
        if (last_brick > 0)
        {
            chi = em_max64(chi, (int64_t)(last_brick - 1) * fm->stride_c + 15 * fm->elem_bytes);
            chi = em_max64(chi, 15 * fm->elem_bytes);
        }
    }
    *lo = em_min64(0, ylast) + em_min64(0, xlast) + clo;
    *hi = em_max64(0, ylast) + em_max64(0, xlast) + chi + fm->elem_bytes - 1;
}

int em_fmap_setup(em_ctx_t *ctx, em_fmap_t *fm, enum em_fmap_kind kind, int32_t height, int32_t width, int32_t depth)
{
    const em_fmap_regs_t *r = &em_fmap_regs[kind];
    const uint32_t prec = em_reg0(ctx, r->prec_reg);
    uint32_t bits_code;
    fm->is_signed = (int)(prec & 1u);
    if (kind == EM_FM_OFM)
    {
        bits_code = (prec >> 1) & 3u;
    }
    else
    {
        bits_code = (prec >> 2) & 3u;
    }
    fm->format = (int)((prec >> 6) & 3u);
    if (bits_code > 2u)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "64-bit feature maps are not supported");
    }
    if (fm->format > EM_FORMAT_NHCWB16)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "unknown feature map format");
    }
    fm->elem_bytes = 1 << bits_code;
    const uint32_t zp = em_reg0(ctx, r->zp_reg);
    fm->zero_point = fm->is_signed ? (int32_t)(int16_t)zp : (int32_t)zp;
    fm->tile_h0 = (int32_t)em_reg0(ctx, r->h0_reg) + 1;
    fm->tile_h1 = (int32_t)em_reg0(ctx, r->h1_reg) + 1;
    fm->tile_w0 = (int32_t)em_reg0(ctx, r->w0_reg) + 1;
    fm->stride_x = (int32_t)em_reg1(ctx, r->sx_reg);
    fm->stride_y = (int32_t)em_reg1(ctx, r->sy_reg);
    fm->stride_c = (int32_t)em_reg1(ctx, r->sc_reg);
    fm->height = height;
    fm->width = width;
    fm->depth = depth;
    if (kind == EM_FM_OFM && ((height > 1 && fm->stride_y == 0) || (width > 1 && fm->stride_x == 0) ||
                              (fm->format == EM_FORMAT_NHCWB16 && depth > 16 && fm->stride_c == 0)))
    {
        /* Every OFM element has its own address; zero strides only come from corruption. */
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "OFM stride of zero");
    }
    const uint32_t region = em_reg0(ctx, r->region_reg) & 0x7u;
    if ((em_reg0(ctx, r->region_reg) & ~0x7u) != 0u)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "feature map region register out of range");
    }
    for (int t = 0; t < 4; t++)
    {
        fm->tile[t] = NULL;
    }
    if (height <= 0 || width <= 0 || depth <= 0)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "empty feature map");
    }
    /* Rows and columns of each tile the extent touches. */
    int32_t rows[4], cols[4];
    const int32_t w_left = width < fm->tile_w0 ? width : fm->tile_w0;
    const int32_t w_right = width > fm->tile_w0 ? width - fm->tile_w0 : 0;
    rows[0] = height < fm->tile_h0 ? height : fm->tile_h0;
    cols[0] = w_left;
    rows[1] = w_right > 0 ? (height < fm->tile_h1 ? height : fm->tile_h1) : 0;
    cols[1] = w_right;
    rows[2] = height > fm->tile_h0 ? height - fm->tile_h0 : 0;
    cols[2] = w_left;
    rows[3] = (w_right > 0 && height > fm->tile_h1) ? height - fm->tile_h1 : 0;
    cols[3] = w_right;
    for (int t = 0; t < 4; t++)
    {
        if (rows[t] <= 0 || cols[t] <= 0)
        {
            continue;
        }
        const int64_t base = (int64_t)em_reg1(ctx, r->base_reg + t);
        int64_t lo, hi;
        em_tile_extent(fm, rows[t], cols[t], depth, &lo, &hi);
        if (lo < -0x7FFFFFFF || hi > 0x7FFFFFFF)
        {
            return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "feature map tile spans 2 GiB or more");
        }
        uint8_t *p = em_region_span(ctx, region, base + lo, hi - lo + 1, r->oob_msg);
        if (p == NULL)
        {
            return ETHOSU_MODEL_E_REGION;
        }
        fm->tile[t] = p - lo;
    }
    return 0;
}

int em_kernel_setup(em_ctx_t *ctx, em_kernel_t *k, int32_t ofm_h, int32_t ofm_w)
{
    const uint32_t ks = em_reg0(ctx, EM_R_KERNEL_STRIDE);
    k->stride_x = (int32_t)((((ks >> 6) & 7u) << 1) | (ks & 1u)) + 1;
    k->stride_y = (int32_t)((((ks >> 9) & 7u) << 1) | ((ks >> 1) & 1u)) + 1;
    k->part_kernel = (int)((ks >> 2) & 1u);
    k->dilation_x = (int32_t)((ks >> 3) & 1u) + 1;
    k->dilation_y = (int32_t)((ks >> 4) & 1u) + 1;
    const int32_t kw_m1 = (int32_t)em_reg0(ctx, EM_R_KERNEL_WIDTH_M1);
    const int32_t kh_m1 = (int32_t)em_reg0(ctx, EM_R_KERNEL_HEIGHT_M1);
    if (kw_m1 % k->dilation_x != 0 || kh_m1 % k->dilation_y != 0)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "dilated kernel size not a multiple of the dilation");
    }
    k->kernel_w = kw_m1 / k->dilation_x + 1;
    k->kernel_h = kh_m1 / k->dilation_y + 1;
    k->pad_top = (int32_t)em_reg0(ctx, EM_R_IFM_PAD_TOP);
    k->pad_left = (int32_t)em_reg0(ctx, EM_R_IFM_PAD_LEFT);
    k->pad_bottom = (int32_t)em_reg0(ctx, EM_R_IFM_PAD_BOTTOM);
    k->pad_right = (int32_t)em_reg0(ctx, EM_R_IFM_PAD_RIGHT);
    k->upscale = (int32_t)(em_reg0(ctx, EM_R_IFM_UPSCALE) & 3u);
    if (k->upscale == 3)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "unknown IFM upscale mode");
    }
    /* The input plane the kernel reads: everything between the top/left and bottom/right padding. */
    k->in_h = (ofm_h - 1) * k->stride_y + kh_m1 + 1 - k->pad_top - k->pad_bottom;
    k->in_w = (ofm_w - 1) * k->stride_x + kw_m1 + 1 - k->pad_left - k->pad_right;
    if (k->in_h < 1 || k->in_w < 1)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "padding larger than the kernel footprint");
    }
    return 0;
}
