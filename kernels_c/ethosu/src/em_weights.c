/*
 * em_weights.c - the compressed weight stream (Vela's "MLW" format) and the order in which the
 * NPU consumes the decoded weights.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Bitstream (bits read least significant first within each byte) = slices. Slice header:
 *   ZDIV 3      zero-run Golomb-Rice divisor (0-3); 6 = no zero runs; 7 = end of stream marker,
 *               followed by padding to the next byte (and possibly more markers)
 *   SLICELEN 15 number of non-zero-run weights - 1
 *   WDIV 3      weight divisor (0-5); 7 = uncompressed indices
 *   WTRUNC 1    truncated unary codes (each unary bit pair is one symbol)
 *   NEWPAL 1    a palette definition follows (mandatory for the first slice after a marker):
 *               DIROFS 5, PALSIZE 5 (0 = none, else size - 1), PALBITS 3 (+2), PALSIZE entries
 * The slice body is a sequence of chunks. Each chunk may carry (in this order) the 12 unary-0
 * bits of up to 12 weight symbols, the unary bits of the zero-run symbols (12, or 8 for divisors
 * >= 3), the unary-1 bits (one per set unary-0 bit), then the remainders of the weight and
 * zero-run symbols of the PREVIOUS chunk. A weight symbol is an index: below PALSIZE it selects a
 * palette entry, otherwise index - PALSIZE + DIROFS is the value; values are sign-magnitude with
 * the sign in bit 0. With zero runs, a new-palette slice starts with a run of zeros and every
 * weight is followed by its own run of zeros. Flow control keeps the two symbol streams within
 * 8 symbols of each other.
 *
 * The decoder streams: it keeps only a few decoded symbols (queues) and the bit position, so a
 * decoder state can be copied and replayed (the convolution re-reads an OFM block's weights for
 * each group of output pixels).
 */
#include "em_internal.h"

#define EM_ZDIV_DISABLE 6
#define EM_ZDIV_EOS 7
#define EM_WDIV_UNCOMPRESSED 7

void em_mlw_init(em_mlw_t *d, const uint8_t *buf, uint32_t size)
{
    uint8_t *p = (uint8_t *)d;
    for (size_t i = 0; i < sizeof(*d); i++)
    {
        p[i] = 0;
    }
    d->buf = buf;
    d->size = size;
    d->first = 1;
}

static inline int em_mlw_bits(em_mlw_t *d, int n, uint32_t *out)
{
    if (n == 0)
    {
        *out = 0;
        return 0;
    }
    while (d->cache_bits < (uint32_t)n)
    {
        if (d->next_byte >= d->size)
        {
            d->error = 1;
            return -1;
        }
        d->cache |= (uint64_t)d->buf[d->next_byte++] << d->cache_bits;
        d->cache_bits += 8u;
    }
    *out = (uint32_t)(d->cache & ((1ull << n) - 1u));
    d->cache >>= n;
    d->cache_bits -= (uint32_t)n;
    d->bitpos += (uint32_t)n;
    return 0;
}

/* Skip to the next byte boundary. */
static void em_mlw_align(em_mlw_t *d)
{
    const uint32_t skip = (8u - (d->bitpos & 7u)) & 7u;
    uint32_t dummy;
    if (skip != 0u)
    {
        (void)em_mlw_bits(d, (int)skip, &dummy);
    }
}

#define EM_BITS(d, n, var)                  \
    do                                      \
    {                                       \
        if (em_mlw_bits((d), (n), &(var)) < 0) \
        {                                   \
            return -1;                      \
        }                                   \
    } while (0)

/* Start the next slice: 1 = started, 0 = end of stream, -1 = malformed. */
static int em_mlw_slice(em_mlw_t *d)
{
    uint32_t zdiv, v;
    if (d->bitpos >= d->size * 8u)
    {
        return 0;
    }
    EM_BITS(d, 3, zdiv);
    while (zdiv == EM_ZDIV_EOS)
    {
        em_mlw_align(d);
        d->first = 1;
        if (d->bitpos >= d->size * 8u)
        {
            return 0;
        }
        EM_BITS(d, 3, zdiv);
    }
    if (zdiv > 3u && zdiv != EM_ZDIV_DISABLE)
    {
        return -1;
    }
    const int use_zero_run = zdiv != EM_ZDIV_DISABLE;
    EM_BITS(d, 15, v);
    d->nvalues = (int32_t)v + 1;
    uint32_t wdiv, wtrunc, newpal;
    EM_BITS(d, 3, wdiv);
    EM_BITS(d, 1, wtrunc);
    EM_BITS(d, 1, newpal);
    if (d->first && !newpal)
    {
        return -1; /* the first slice must define the palette / direct mode */
    }
    if (!newpal && use_zero_run != d->prev_use_zero_run)
    {
        return -1; /* zero-run mode can only change with a new palette */
    }
    d->first = 0;
    d->prev_use_zero_run = use_zero_run;
    if (newpal)
    {
        uint32_t dirofs, palsize, palbits;
        EM_BITS(d, 5, dirofs);
        EM_BITS(d, 5, palsize);
        EM_BITS(d, 3, palbits);
        d->dirofs = (int32_t)dirofs;
        d->palsize = palsize > 0u ? (int32_t)palsize + 1 : 0;
        d->palbits = (int32_t)palbits + 2;
        for (int32_t i = 0; i < d->palsize; i++)
        {
            EM_BITS(d, d->palbits, v);
            d->palette[i] = (int16_t)v;
        }
    }
    d->use_zero_run = use_zero_run;
    d->z_div = (int)zdiv;
    d->w_trunc = (int)wtrunc;
    d->new_palette = (int)newpal;
    if (wdiv == EM_WDIV_UNCOMPRESSED)
    {
        int bits = 0;
        if (d->palsize > 0)
        {
            while ((1 << bits) < d->palsize)
            {
                bits++;
            }
        }
        else
        {
            bits = d->palbits;
        }
        d->w_uncompressed = 1;
        d->w_div = bits;
    }
    else if (wdiv < 6u)
    {
        d->w_uncompressed = 0;
        d->w_div = (int)wdiv;
    }
    else
    {
        return -1;
    }
    d->max_symbols = (d->w_uncompressed && d->w_div > 5) ? 8 : 12;
    d->z_unary_len = d->z_div < 3 ? 12 : 8;
    d->z_nvalues = use_zero_run ? d->nvalues + (newpal ? 1 : 0) : 0;
    d->w_pos = d->z_pos = d->w_prev_pos = d->z_prev_pos = 0;
    d->w_carry = d->z_carry = 0;
    d->w_prev_enable = d->z_prev_enable = 0;
    d->w_prev_n = d->z_prev_n = 0;
    d->wq_head = d->wq_count = d->zq_head = d->zq_count = 0;
    d->w_emitted = 0;
    d->need_initial_zeros = newpal && use_zero_run;
    d->in_slice = 1;
    d->chunks_left = 1; /* chunks remain to be read */
    return 1;
}

static int em_mlw_push_w(em_mlw_t *d, uint32_t index)
{
    if (index >= 512u || d->wq_count >= EM_MLW_QUEUE)
    {
        return -1;
    }
    const int32_t val = (int32_t)index < d->palsize ? (int32_t)d->palette[index]
                                                    : (int32_t)index - d->palsize + d->dirofs;
    if (val < 0 || val >= 512)
    {
        return -1;
    }
    const int32_t mag = val >> 1;
    d->wq[(d->wq_head + d->wq_count) & (EM_MLW_QUEUE - 1)] = (int16_t)((val & 1) ? -mag : mag);
    d->wq_count++;
    return 0;
}

static int em_mlw_push_z(em_mlw_t *d, uint32_t run)
{
    if (d->zq_count >= EM_MLW_QUEUE)
    {
        return -1;
    }
    d->zq[(d->zq_head + d->zq_count) & (EM_MLW_QUEUE - 1)] = run;
    d->zq_count++;
    return 0;
}

/* Decode one chunk of the current slice; clears chunks_left when the slice is done. */
static int em_mlw_chunk(em_mlw_t *d)
{
    const int32_t balance = d->use_zero_run ? d->w_pos - d->z_pos : 0;
    const int w_enable = (balance < 8 || !d->use_zero_run) && d->w_pos < d->nvalues;
    const int z_enable = balance >= 0 && d->use_zero_run && d->z_pos < d->z_nvalues;
    uint32_t w_unary0 = 0, z_unary = 0, w_unary1 = 0;
    uint16_t w_q[12], z_q[12];
    int w_n = 0, z_n = 0;

    if (w_enable && !d->w_uncompressed)
    {
        EM_BITS(d, 12, w_unary0);
    }
    if (z_enable)
    {
        EM_BITS(d, d->z_unary_len, z_unary);
        int32_t cnt = d->z_carry;
        for (int i = 0; i < d->z_unary_len; i++)
        {
            if (z_unary & (1u << i))
            {
                cnt++;
            }
            else
            {
                z_q[z_n++] = (uint16_t)cnt;
                cnt = 0;
            }
        }
        if (cnt > 0x7FFF)
        {
            return -1;
        }
        d->z_carry = cnt;
        d->z_pos += z_n;
    }
    if (w_enable)
    {
        const int ones = __builtin_popcount(w_unary0 & ((1u << d->max_symbols) - 1u));
        EM_BITS(d, ones, w_unary1);
        int32_t cnt = d->w_carry;
        for (int i = 0; i < d->max_symbols; i++)
        {
            int code = 0;
            if (w_unary0 & (1u << i))
            {
                code = 1 + (int)(w_unary1 & 1u);
                w_unary1 >>= 1;
            }
            cnt += code;
            if (code < 2 || d->w_trunc)
            {
                w_q[w_n++] = (uint16_t)cnt;
                cnt = 0;
            }
        }
        if (cnt > 0x7FFF)
        {
            return -1;
        }
        d->w_carry = cnt;
        d->w_pos += w_n;
    }
    if (d->w_prev_enable)
    {
        for (int i = 0; i < d->w_prev_n && d->w_prev_pos < d->nvalues; i++, d->w_prev_pos++)
        {
            uint32_t rem;
            EM_BITS(d, d->w_div, rem);
            if (em_mlw_push_w(d, ((uint32_t)d->w_prev_q[i] << d->w_div) + rem) < 0)
            {
                return -1;
            }
        }
    }
    if (d->z_prev_enable)
    {
        for (int i = 0; i < d->z_prev_n && d->z_prev_pos < d->z_nvalues; i++, d->z_prev_pos++)
        {
            uint32_t rem;
            EM_BITS(d, d->z_div, rem);
            if (em_mlw_push_z(d, ((uint32_t)d->z_prev_q[i] << d->z_div) + rem) < 0)
            {
                return -1;
            }
        }
    }
    d->w_prev_enable = w_enable;
    d->z_prev_enable = z_enable;
    d->w_prev_n = w_n;
    d->z_prev_n = z_n;
    for (int i = 0; i < w_n; i++)
    {
        d->w_prev_q[i] = w_q[i];
    }
    for (int i = 0; i < z_n; i++)
    {
        d->z_prev_q[i] = z_q[i];
    }
    if (!w_enable && !z_enable)
    {
        d->chunks_left = 0; /* this was the final (flush) chunk */
    }
    return 0;
}

static int em_mlw_need_w(em_mlw_t *d)
{
    while (d->wq_count == 0)
    {
        if (!d->chunks_left || em_mlw_chunk(d) < 0)
        {
            return -1;
        }
    }
    return 0;
}

static int em_mlw_need_z(em_mlw_t *d)
{
    while (d->zq_count == 0)
    {
        if (!d->chunks_left || em_mlw_chunk(d) < 0)
        {
            return -1;
        }
    }
    return 0;
}

int em_mlw_next(em_mlw_t *d, int32_t *value)
{
    if (d->error)
    {
        return -1;
    }
    for (;;)
    {
        if (d->zeros_pending > 0)
        {
            d->zeros_pending--;
            *value = 0;
            return 1;
        }
        if (!d->in_slice)
        {
            const int rc = em_mlw_slice(d);
            if (rc <= 0)
            {
                d->error = rc < 0;
                return rc;
            }
        }
        if (d->need_initial_zeros)
        {
            if (em_mlw_need_z(d) < 0)
            {
                d->error = 1;
                return -1;
            }
            d->zeros_pending = (int32_t)d->zq[d->zq_head];
            d->zq_head = (d->zq_head + 1) & (EM_MLW_QUEUE - 1);
            d->zq_count--;
            d->need_initial_zeros = 0;
            continue;
        }
        if (d->w_emitted >= d->nvalues)
        {
            /* Read the rest of the slice (the final chunks) to reach the next header. */
            while (d->chunks_left)
            {
                if (em_mlw_chunk(d) < 0)
                {
                    d->error = 1;
                    return -1;
                }
            }
            d->in_slice = 0;
            continue;
        }
        if (em_mlw_need_w(d) < 0)
        {
            d->error = 1;
            return -1;
        }
        const int32_t w = d->wq[d->wq_head];
        d->wq_head = (d->wq_head + 1) & (EM_MLW_QUEUE - 1);
        d->wq_count--;
        d->w_emitted++;
        if (d->use_zero_run)
        {
            if (em_mlw_need_z(d) < 0)
            {
                d->error = 1;
                return -1;
            }
            d->zeros_pending = (int32_t)d->zq[d->zq_head];
            d->zq_head = (d->zq_head + 1) & (EM_MLW_QUEUE - 1);
            d->zq_count--;
        }
        *value = w;
        return 1;
    }
}

int em_mlw_read(em_mlw_t *d, int16_t *out, int n)
{
    int got = 0;
    while (got < n)
    {
        if (d->zeros_pending > 0)
        {
            int32_t k = d->zeros_pending < n - got ? d->zeros_pending : n - got;
            d->zeros_pending -= k;
            while (k-- > 0)
            {
                out[got++] = 0;
            }
            continue;
        }
        /* Fast path: a decoded weight is queued and its zero run too (or none is needed). */
        if (d->in_slice && !d->need_initial_zeros && d->w_emitted < d->nvalues && d->wq_count > 0 &&
            (!d->use_zero_run || d->zq_count > 0))
        {
            out[got++] = d->wq[d->wq_head];
            d->wq_head = (d->wq_head + 1) & (EM_MLW_QUEUE - 1);
            d->wq_count--;
            d->w_emitted++;
            if (d->use_zero_run)
            {
                d->zeros_pending = (int32_t)d->zq[d->zq_head];
                d->zq_head = (d->zq_head + 1) & (EM_MLW_QUEUE - 1);
                d->zq_count--;
            }
            continue;
        }
        int32_t v;
        const int rc = em_mlw_next(d, &v);
        if (rc < 0)
        {
            return rc;
        }
        if (rc == 0)
        {
            break;
        }
        out[got++] = (int16_t)v;
    }
    return got;
}

/* ------------------------------------------------------------------ weight order */

void em_worder_init(em_ctx_t *ctx, em_worder_t *o, int depthwise, int part_kernel, int32_t ofm_depth,
                    int32_t ifm_depth, int32_t kh, int32_t kw, int32_t dil_x, int32_t dil_y, int32_t ofm_block_depth,
                    int ifm_bits)
{
    o->depthwise = depthwise;
    o->part_kernel = part_kernel && !depthwise;
    o->ofm_depth = ofm_depth;
    o->ifm_depth = depthwise ? 1 : ifm_depth;
    o->kernel_h = kh;
    o->kernel_w = kw;
    o->decomp_x = 8 / dil_x;
    o->decomp_y = 8 / dil_y;
    o->ofm_block_depth = ofm_block_depth;
    o->ifm_block_depth = (o->part_kernel || ifm_bits == 16) ? 16 : 32;
    o->ofm_ublock = ctx->ofm_ublock_depth;
    o->ifm_ublock = ctx->ifm_ublock_depth;
    if (depthwise)
    {
        o->sub_round = 4;
    }
    else if (o->part_kernel)
    {
        o->sub_round = ifm_bits == 16 ? 2 : 4;
    }
    else
    {
        o->sub_round = 1;
    }
}

/*
 * Order of one OFM block (the OFM channels [start, start + block depth)):
 *   for each IFM block (32 channels, 16 for part-kernel-first or 16-bit IFMs; one for depthwise)
 *     for each sub-kernel (the kernel split into pieces of at most 8x8 / dilation)
 *       [part-kernel-first: for each IFM micro-block of the IFM block]
 *         for each OFM micro-block of the OFM block
 *           for each kernel element of the sub-kernel (count rounded up to 4 for depthwise and
 *                                                      part-kernel-first 8-bit, 2 for 16-bit)
 *             [depth-first: for each IFM micro-block of the IFM block]
 *               for each OFM channel of the micro-block
 *                 for each IFM channel of the micro-block (one for depthwise)
 * Positions outside the weight tensor are zero padding in the stream.
 */
int em_weights_block(em_ctx_t *ctx, em_mlw_t *dec, const em_worder_t *o, int32_t ofm_block_start, em_weight_fn fn,
                     void *user)
{
    int32_t obd = o->ofm_depth - ofm_block_start;
    if (obd > o->ofm_block_depth)
    {
        obd = o->ofm_block_depth;
    }
    if (o->ofm_ublock > EM_UBLOCK_MAX || o->ifm_ublock > EM_UBLOCK_MAX)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "micro-block larger than the model supports");
    }
    const int32_t ifm_end = o->depthwise ? 1 : o->ifm_depth;
    const int32_t iub_depth = o->depthwise ? 1 : o->ifm_ublock;
    em_wtile_t tile;
    for (int32_t ibz = 0; ibz < ifm_end; ibz += o->ifm_block_depth)
    {
        int32_t clipped_ibd;
        if (o->depthwise)
        {
            clipped_ibd = o->ifm_ublock;
        }
        else if (o->part_kernel)
        {
            clipped_ibd = o->ifm_depth - ibz < o->ifm_block_depth ? o->ifm_depth - ibz : o->ifm_block_depth;
        }
        else
        {
            clipped_ibd = o->ifm_block_depth;
        }
        const int32_t outer = o->part_kernel ? clipped_ibd : 1;
        const int32_t inner = o->part_kernel ? 1 : clipped_ibd;
        for (int32_t sky = 0; sky < o->kernel_h; sky += o->decomp_y)
        {
            const int32_t sub_h = o->kernel_h - sky < o->decomp_y ? o->kernel_h - sky : o->decomp_y;
            for (int32_t skx = 0; skx < o->kernel_w; skx += o->decomp_x)
            {
                const int32_t sub_w = o->kernel_w - skx < o->decomp_x ? o->kernel_w - skx : o->decomp_x;
                int32_t elems = sub_w * sub_h;
                elems = (elems + o->sub_round - 1) / o->sub_round * o->sub_round;
                for (int32_t iuo = 0; iuo < outer; iuo += o->ifm_ublock)
                {
                    for (int32_t oub = 0; oub < obd; oub += o->ofm_ublock)
                    {
                        for (int32_t e = 0; e < elems; e++)
                        {
                            const int32_t kx = e % sub_w;
                            const int32_t ky = e / sub_w;
                            for (int32_t iui = 0; iui < inner; iui += o->ifm_ublock)
                            {
                                /* The ofm_ublock x iub_depth weights of this tile, [oz][iz] order. */
                                int16_t raw[EM_UBLOCK_MAX * EM_UBLOCK_MAX];
                                const int count = (int)(o->ofm_ublock * iub_depth);
                                const int rc = em_mlw_read(dec, raw, count);
                                if (rc != count)
                                {
                                    return em_fail(ctx, ETHOSU_MODEL_E_WEIGHTS,
                                                   rc < 0 ? "malformed compressed weight stream"
                                                          : "weight stream shorter than the operation needs");
                                }
                                int nonzero = 0;
                                for (int i = 0; i < count; i++)
                                {
                                    nonzero |= raw[i];
                                }
                                if (!nonzero || ky >= sub_h)
                                {
                                    continue; /* all zero, or kernel-element padding */
                                }
                                for (int32_t oz = 0; oz < o->ofm_ublock; oz++)
                                {
                                    for (int32_t iz = 0; iz < iub_depth; iz++)
                                    {
                                        tile.w[oz][iz] = raw[oz * iub_depth + iz];
                                    }
                                }
                                tile.ky = sky + ky;
                                tile.kx = skx + kx;
                                tile.ofm_c0 = oub;
                                tile.n_ofm = obd - oub < o->ofm_ublock ? obd - oub : o->ofm_ublock;
                                tile.ifm_c0 = ibz + iui + iuo;
                                if (o->depthwise)
                                {
                                    tile.n_ifm = 1;
                                }
                                else
                                {
                                    tile.n_ifm = o->ifm_depth - tile.ifm_c0;
                                    if (tile.n_ifm > o->ifm_ublock)
                                    {
                                        tile.n_ifm = o->ifm_ublock;
                                    }
                                    if (tile.n_ifm <= 0)
                                    {
                                        continue; /* IFM depth padding */
                                    }
                                }
                                fn(user, &tile);
                            }
                        }
                    }
                }
            }
        }
    }
    return 0;
}
