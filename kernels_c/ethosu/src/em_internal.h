/*
 * em_internal.h - internal interfaces of byoc's functional Ethos-U55 model.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Files (one concern each):
 *   ethosu_driver.c      driver API, weak hooks, driver list, error reporting
 *   em_payload.c         "COP1" payload: driver actions (config/id words, command-stream record)
 *   em_command.c         command decoding (cmd0/cmd1), register file, operation dispatch
 *   em_region.c          NPU regions = base addresses, bounds-checked
 *   em_fmap.c            feature maps: NHWC / NHCWB16, up to 4 tiles, strides, padding, upscaling
 *   em_weights.c         compressed weight stream decoder and the NPU's weight order
 *   em_scale.c           scale/bias records, output scaling, rounding modes
 *   em_activation.c      activation clamps and LUT activations
 *   em_conv.c            CONV and DEPTHWISE
 *   em_pool.c            POOL (max, average, reduce-sum)
 *   em_elementwise.c     ELEMENTWISE (binary and unary modes, IFM2 broadcast and scalars)
 *   em_dma.c             DMA (copies between regions, LUT loads into SHRAM)
 *
 * Every function that can fail returns 0 or a negative ETHOSU_MODEL_E_* code after recording
 * a message with em_fail(); nothing allocates memory.
 */
#ifndef EM_INTERNAL_H
#define EM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ethosu_model.h"

/* ------------------------------------------------------------------ opcodes (cmd0) */
#define EM_OP_STOP 0x000
#define EM_OP_IRQ 0x001
#define EM_OP_CONV 0x002
#define EM_OP_DEPTHWISE 0x003
#define EM_OP_POOL 0x005
#define EM_OP_ELEMENTWISE 0x006
#define EM_OP_DMA_START 0x010
#define EM_OP_DMA_WAIT 0x011
#define EM_OP_KERNEL_WAIT 0x012
#define EM_OP_PMU_MASK 0x013

/* cmd0 registers (16-bit parameter) */
#define EM_R_IFM_PAD_TOP 0x100
#define EM_R_IFM_PAD_LEFT 0x101
#define EM_R_IFM_PAD_RIGHT 0x102
#define EM_R_IFM_PAD_BOTTOM 0x103
#define EM_R_IFM_DEPTH_M1 0x104
#define EM_R_IFM_PRECISION 0x105
#define EM_R_IFM_UPSCALE 0x107
#define EM_R_IFM_ZERO_POINT 0x109
#define EM_R_IFM_WIDTH0_M1 0x10A
#define EM_R_IFM_HEIGHT0_M1 0x10B
#define EM_R_IFM_HEIGHT1_M1 0x10C
#define EM_R_IFM_IB_END 0x10D
#define EM_R_IFM_REGION 0x10F
#define EM_R_OFM_WIDTH_M1 0x111
#define EM_R_OFM_HEIGHT_M1 0x112
#define EM_R_OFM_DEPTH_M1 0x113
#define EM_R_OFM_PRECISION 0x114
#define EM_R_OFM_BLK_WIDTH_M1 0x115
#define EM_R_OFM_BLK_HEIGHT_M1 0x116
#define EM_R_OFM_BLK_DEPTH_M1 0x117
#define EM_R_OFM_ZERO_POINT 0x118
#define EM_R_OFM_WIDTH0_M1 0x11A
#define EM_R_OFM_HEIGHT0_M1 0x11B
#define EM_R_OFM_HEIGHT1_M1 0x11C
#define EM_R_OFM_REGION 0x11F
#define EM_R_KERNEL_WIDTH_M1 0x120
#define EM_R_KERNEL_HEIGHT_M1 0x121
#define EM_R_KERNEL_STRIDE 0x122
#define EM_R_PARALLEL_MODE 0x123
#define EM_R_ACC_FORMAT 0x124
#define EM_R_ACTIVATION 0x125
#define EM_R_ACTIVATION_MIN 0x126
#define EM_R_ACTIVATION_MAX 0x127
#define EM_R_WEIGHT_REGION 0x128
#define EM_R_SCALE_REGION 0x129
#define EM_R_AB_START 0x12D
#define EM_R_BLOCKDEP 0x12F
#define EM_R_DMA0_SRC_REGION 0x130
#define EM_R_DMA0_DST_REGION 0x131
#define EM_R_DMA0_SIZE0 0x132
#define EM_R_DMA0_SIZE1 0x133
#define EM_R_IFM2_BROADCAST 0x180
#define EM_R_IFM2_SCALAR 0x181
#define EM_R_IFM2_PRECISION 0x185
#define EM_R_IFM2_ZERO_POINT 0x189
#define EM_R_IFM2_WIDTH0_M1 0x18A
#define EM_R_IFM2_HEIGHT0_M1 0x18B
#define EM_R_IFM2_HEIGHT1_M1 0x18C
#define EM_R_IFM2_IB_START 0x18D
#define EM_R_IFM2_REGION 0x18F
#define EM_R0_FIRST 0x100
#define EM_R0_COUNT 0x90

/* cmd1 registers (32-bit payload word; the 16-bit parameter field is kept too) */
#define EM_R1_IFM_BASE0 0x000
#define EM_R1_IFM_STRIDE_X 0x004
#define EM_R1_IFM_STRIDE_Y 0x005
#define EM_R1_IFM_STRIDE_C 0x006
#define EM_R1_OFM_BASE0 0x010
#define EM_R1_OFM_STRIDE_X 0x014
#define EM_R1_OFM_STRIDE_Y 0x015
#define EM_R1_OFM_STRIDE_C 0x016
#define EM_R1_WEIGHT_BASE 0x020
#define EM_R1_WEIGHT_LENGTH 0x021
#define EM_R1_SCALE_BASE 0x022
#define EM_R1_SCALE_LENGTH 0x023
#define EM_R1_OFM_SCALE 0x024
#define EM_R1_OPA_SCALE 0x025
#define EM_R1_OPB_SCALE 0x026
#define EM_R1_DMA0_SRC 0x030
#define EM_R1_DMA0_DST 0x031
#define EM_R1_DMA0_LEN 0x032
#define EM_R1_DMA0_SKIP0 0x033
#define EM_R1_DMA0_SKIP1 0x034
#define EM_R1_IFM2_BASE0 0x080
#define EM_R1_IFM2_STRIDE_X 0x084
#define EM_R1_IFM2_STRIDE_Y 0x085
#define EM_R1_IFM2_STRIDE_C 0x086
#define EM_R1_WEIGHT1_BASE 0x090
#define EM_R1_WEIGHT1_LENGTH 0x091
#define EM_R1_SCALE1_BASE 0x092
#define EM_R1_SCALE1_LENGTH 0x093
#define EM_R1_COUNT 0x94

/* Field values */
#define EM_FORMAT_NHWC 0
#define EM_FORMAT_NHCWB16 1
#define EM_ROUND_TFL 0
#define EM_ROUND_TRUNCATE 1
#define EM_ROUND_NATURAL 2
#define EM_POOL_MAX 0
#define EM_POOL_AVERAGE 1
#define EM_POOL_REDUCE_SUM 2
#define EM_EW_MUL 0
#define EM_EW_ADD 1
#define EM_EW_SUB 2
#define EM_EW_MIN 3
#define EM_EW_MAX 4
#define EM_EW_LRELU 5
#define EM_EW_ABS 6
#define EM_EW_CLZ 7
#define EM_EW_SHR 8
#define EM_EW_SHL 9
#define EM_ACT_NONE 0
#define EM_ACT_TANH 3
#define EM_ACT_SIGMOID 4
#define EM_ACT_LUT_FIRST 16
#define EM_ACT_LUT_LAST 23
#define EM_UPSCALE_NONE 0
#define EM_UPSCALE_NEAREST 1
#define EM_UPSCALE_ZEROS 2

/* ------------------------------------------------------------------ context */
typedef struct
{
    uint16_t r0[EM_R0_COUNT];  /* cmd0 registers, index opcode - 0x100 */
    uint32_t r1[EM_R1_COUNT];  /* cmd1 payload words */
    uint16_t r1p[EM_R1_COUNT]; /* cmd1 parameter fields */
} em_regs_t;

typedef struct
{
    uint8_t *ptr[ETHOSU_BASEP_INDEXES];
    size_t size[ETHOSU_BASEP_INDEXES];
    int count;
} em_regions_t;

typedef struct em_ctx
{
    struct ethosu_driver *drv;
    em_regs_t regs;
    em_regions_t regions;
    int macs;             /* MACs per cycle of the emulated configuration */
    int ofm_ublock_depth; /* OFM micro-block depth (weight order) */
    int ifm_ublock_depth; /* IFM micro-block depth (weight order) */
    uint32_t shram_bytes; /* SHRAM size of the configuration */
    uint32_t cmd_pos;     /* payload byte offset of the command being executed */
    uint64_t ops;         /* operations executed */
    uint64_t work;        /* work units of the operations executed (see em_account.c) */
    uint64_t work_limit;  /* watchdog: refuse operations beyond this much work (0: no limit) */
    uint64_t cycles;      /* estimated NPU cycles of the operations executed (see em_account.c) */
} em_ctx_t;

/* Upper bound on the work of one operation (output elements x kernel elements x summed input
 * channels): a corrupted command stream can describe operations no real network has, and the
 * model refuses them instead of running for hours. Far above any real Ethos-U55 operation. */
#ifndef ETHOSU_MODEL_MAX_OP_WORK
#define ETHOSU_MODEL_MAX_OP_WORK (1ull << 33)
#endif

/* Refuse an operation whose work exceeds ETHOSU_MODEL_MAX_OP_WORK (E_UNSUPPORTED). */
int em_check_work(em_ctx_t *ctx, uint64_t outputs, uint64_t per_output);

/* Account for the operation about to run (opcode, parameter): add its work units and
 * estimated cycles; refuse it (ETHOSU_MODEL_E_WATCHDOG) when the work limit would be exceeded. */
int em_account(em_ctx_t *ctx, uint32_t opcode, uint32_t param);

/* Record an error (first one wins) and return code. */
int em_fail(em_ctx_t *ctx, int code, const char *msg);

static inline uint32_t em_reg0(const em_ctx_t *ctx, int opcode)
{
    return ctx->regs.r0[opcode - EM_R0_FIRST];
}
static inline uint32_t em_reg1(const em_ctx_t *ctx, int opcode)
{
    return ctx->regs.r1[opcode];
}
static inline uint32_t em_reg1_param(const em_ctx_t *ctx, int opcode)
{
    return ctx->regs.r1p[opcode];
}

/* ------------------------------------------------------------------ payload / commands */
/* Configure ctx for the NPU described by the payload's config word. */
int em_configure(em_ctx_t *ctx, uint32_t config_word);
int em_run_payload(em_ctx_t *ctx, const uint32_t *words, uint32_t nwords);
int em_run_commands(em_ctx_t *ctx, const uint32_t *cmds, uint32_t ncmds, uint32_t byte_offset);

/* ------------------------------------------------------------------ regions */
/* Host pointer to [offset, offset + len) of region, or NULL after em_fail (E_REGION). */
uint8_t *em_region_span(em_ctx_t *ctx, uint32_t region, int64_t offset, int64_t len, const char *what);

/* ------------------------------------------------------------------ feature maps */
typedef struct
{
    uint8_t *tile[4];      /* host pointers of the 4 tile bases (NULL: unused) */
    int32_t tile_h0;       /* rows of tiles 0 and 2 boundary (HEIGHT0) */
    int32_t tile_h1;       /* rows of tiles 1 and 3 boundary (HEIGHT1) */
    int32_t tile_w0;       /* columns of tiles 0/2 (WIDTH0) */
    int32_t stride_x, stride_y, stride_c;
    int32_t height, width, depth; /* extent read or written */
    int elem_bytes;        /* 1, 2 or 4 */
    int is_signed;
    int format;            /* EM_FORMAT_* */
    int32_t zero_point;
} em_fmap_t;

enum em_fmap_kind
{
    EM_FM_IFM,
    EM_FM_IFM2,
    EM_FM_OFM
};

/* Decode the registers of one feature map for an extent of height x width x depth elements
 * and check that every element of that extent lies inside its region. */
int em_fmap_setup(em_ctx_t *ctx, em_fmap_t *fm, enum em_fmap_kind kind, int32_t height, int32_t width,
                  int32_t depth);

static inline uint8_t *em_fmap_ptr(const em_fmap_t *fm, int32_t y, int32_t x, int32_t c)
{
    /* 32-bit offsets: em_fmap_setup checked that every tile spans less than 2 GiB. */
    int t = 0;
    if (x >= fm->tile_w0)
    {
        x -= fm->tile_w0;
        t = 1;
        if (y >= fm->tile_h1)
        {
            y -= fm->tile_h1;
            t = 3;
        }
    }
    else if (y >= fm->tile_h0)
    {
        y -= fm->tile_h0;
        t = 2;
    }
    int32_t off = y * fm->stride_y + x * fm->stride_x;
    if (fm->format == EM_FORMAT_NHWC)
    {
        off += c * fm->elem_bytes;
    }
    else
    {
        off += (c >> 4) * fm->stride_c + (c & 15) * fm->elem_bytes;
    }
    return fm->tile[t] + off;
}

/* Channels from c on that are contiguous in memory (the rest of an NHWC pixel, or of a brick). */
static inline int32_t em_fmap_run(const em_fmap_t *fm, int32_t c)
{
    return fm->format == EM_FORMAT_NHWC ? fm->depth - c : 16 - (c & 15);
}

/* Element i after p (p from em_fmap_ptr, i within em_fmap_run). */
static inline int32_t em_fmap_load_at(const em_fmap_t *fm, const uint8_t *p, int32_t i)
{
    if (fm->elem_bytes == 1)
    {
        return fm->is_signed ? (int32_t)(int8_t)p[i] : (int32_t)p[i];
    }
    p += i * fm->elem_bytes;
    if (fm->elem_bytes == 2)
    {
        const uint32_t v = (uint32_t)p[0] | ((uint32_t)p[1] << 8);
        return fm->is_signed ? (int32_t)(int16_t)v : (int32_t)v;
    }
    return (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

static inline void em_fmap_store_at(const em_fmap_t *fm, uint8_t *p, int32_t i, int32_t v)
{
    p += i * fm->elem_bytes;
    p[0] = (uint8_t)v;
    if (fm->elem_bytes >= 2)
    {
        p[1] = (uint8_t)((uint32_t)v >> 8);
    }
    if (fm->elem_bytes == 4)
    {
        p[2] = (uint8_t)((uint32_t)v >> 16);
        p[3] = (uint8_t)((uint32_t)v >> 24);
    }
}

static inline int32_t em_fmap_load(const em_fmap_t *fm, int32_t y, int32_t x, int32_t c)
{
    const uint8_t *p = em_fmap_ptr(fm, y, x, c);
    switch (fm->elem_bytes)
    {
    case 1:
        return fm->is_signed ? (int32_t)(int8_t)p[0] : (int32_t)p[0];
    case 2:
    {
        uint32_t v = (uint32_t)p[0] | ((uint32_t)p[1] << 8);
        return fm->is_signed ? (int32_t)(int16_t)v : (int32_t)v;
    }
    default:
        return (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
    }
}

static inline void em_fmap_store(const em_fmap_t *fm, int32_t y, int32_t x, int32_t c, int32_t v)
{
    uint8_t *p = em_fmap_ptr(fm, y, x, c);
    p[0] = (uint8_t)v;
    if (fm->elem_bytes >= 2)
    {
        p[1] = (uint8_t)((uint32_t)v >> 8);
    }
    if (fm->elem_bytes == 4)
    {
        p[2] = (uint8_t)((uint32_t)v >> 16);
        p[3] = (uint8_t)((uint32_t)v >> 24);
    }
}

/* Input geometry of a kernel operation (CONV, DEPTHWISE, POOL). */
typedef struct
{
    int32_t kernel_w, kernel_h;     /* undilated kernel size */
    int32_t stride_x, stride_y;
    int32_t dilation_x, dilation_y;
    int32_t pad_top, pad_left, pad_bottom, pad_right;
    int32_t upscale;                /* EM_UPSCALE_* */
    int32_t in_h, in_w;             /* IFM extent in the (upscaled) input plane */
    int part_kernel;                /* weight order: part-kernel-first */
} em_kernel_t;

int em_kernel_setup(em_ctx_t *ctx, em_kernel_t *k, int32_t ofm_h, int32_t ofm_w);

/* Read IFM element (y, x, c) of the upscaled, padded input plane (y, x relative to its origin);
 * *valid = 0 for padding (value = zero point). */
static inline int32_t em_kernel_load(const em_fmap_t *ifm, const em_kernel_t *k, int32_t y, int32_t x, int32_t c,
                                     int *valid)
{
    if (y < 0 || x < 0 || y >= k->in_h || x >= k->in_w)
    {
        *valid = 0;
        return ifm->zero_point;
    }
    if (k->upscale != EM_UPSCALE_NONE)
    {
        if (k->upscale == EM_UPSCALE_ZEROS && ((y | x) & 1))
        {
            *valid = 1;
            return ifm->zero_point;
        }
        y >>= 1;
        x >>= 1;
    }
    *valid = 1;
    return em_fmap_load(ifm, y, x, c);
}

/* ------------------------------------------------------------------ output stage */
typedef struct
{
    int64_t bias;
    uint32_t scale;
    int32_t shift;
} em_scale_t;

typedef struct
{
    int round_mode;       /* EM_ROUND_* */
    int per_channel;      /* scale from the scale stream (else OFM_SCALE) */
    const uint8_t *records; /* scale stream (10 bytes per channel) when per_channel */
    int32_t channels;
    em_scale_t global;
    int32_t ofm_zero_point;
    int32_t act_min, act_max; /* clamp (OFM precision and activation registers) */
    int activation;           /* EM_ACT_* */
    int lut_index;            /* LUT slot for activation 16..23 */
    int ofm_bits;
    int ofm_signed;
} em_output_t;

int em_output_setup(em_ctx_t *ctx, em_output_t *out, int32_t channels, int per_channel_allowed);
em_scale_t em_output_scale(const em_output_t *out, int32_t channel);
/* Scale with one of the NPU's rounding modes: the result of acc * scale / 2^shift. */
int64_t em_scale_round(int64_t acc, uint32_t scale, int32_t shift, int round_mode);
/* Full output stage: scale (bias added first), zero point, activation/LUT, clamp. */
int32_t em_output_value(em_ctx_t *ctx, const em_output_t *out, int64_t acc, int32_t channel);
int32_t em_activation_apply(em_ctx_t *ctx, const em_output_t *out, int64_t value);

/* ------------------------------------------------------------------ weights */
#define EM_MLW_QUEUE 64

typedef struct
{
    const uint8_t *buf;
    uint32_t size;   /* bytes */
    uint32_t bitpos;      /* bits consumed */
    uint64_t cache;       /* bits read ahead, least significant first */
    uint32_t cache_bits;  /* valid bits in cache */
    uint32_t next_byte;   /* next byte of buf to load into the cache */
    int error;
    /* slice header */
    int in_slice;
    int32_t nvalues, z_nvalues;
    int w_div, w_trunc, w_uncompressed, z_div, use_zero_run, new_palette, first;
    int chunks_left;       /* the current slice has chunks left to read */
    int prev_use_zero_run; /* zero-run mode of the previous slice */
    int z_unary_len, max_symbols;
    int32_t palsize, palbits, dirofs;
    int16_t palette[32];
    /* chunk state */
    int32_t w_pos, z_pos, w_prev_pos, z_prev_pos;
    int32_t w_carry, z_carry;
    int w_prev_enable, z_prev_enable, w_prev_n, z_prev_n;
    uint16_t w_prev_q[12], z_prev_q[12];
    /* decoded queues */
    int16_t wq[EM_MLW_QUEUE];
    uint32_t zq[EM_MLW_QUEUE];
    int wq_head, wq_count, zq_head, zq_count;
    /* output state */
    int32_t zeros_pending;
    int32_t w_emitted; /* weights of the current slice emitted */
    int need_initial_zeros;
} em_mlw_t;

void em_mlw_init(em_mlw_t *d, const uint8_t *buf, uint32_t size);
/* Next decoded weight: 1 and *value, 0 at the end of the stream, negative on a malformed stream. */
int em_mlw_next(em_mlw_t *d, int32_t *value);
/* Next n decoded weights: n, or fewer at the end of the stream, negative on a malformed stream. */
int em_mlw_read(em_mlw_t *d, int16_t *out, int n);

/* Weights of one kernel element for one OFM micro-block x IFM micro-block: the unit in which
 * the NPU's weight order delivers weights. w[o][i] is the weight of OFM channel ofm_c0 + o
 * (relative to the OFM block start) and IFM channel ifm_c0 + i (depthwise: i = 0 only). */
#define EM_UBLOCK_MAX 8
typedef struct
{
    int32_t ky, kx;
    int32_t ofm_c0, n_ofm;
    int32_t ifm_c0, n_ifm;
    int16_t w[EM_UBLOCK_MAX][EM_UBLOCK_MAX];
} em_wtile_t;

/* Weight order of one OFM block (depth ofm_block_depth starting at ofm_block_start). */
typedef struct
{
    int depthwise, part_kernel;
    int32_t ofm_depth, ifm_depth, kernel_h, kernel_w;
    int32_t decomp_x, decomp_y;
    int32_t ofm_block_depth, ifm_block_depth;
    int32_t ofm_ublock, ifm_ublock;
    int32_t sub_round;
} em_worder_t;

void em_worder_init(em_ctx_t *ctx, em_worder_t *o, int depthwise, int part_kernel, int32_t ofm_depth,
                    int32_t ifm_depth, int32_t kh, int32_t kw, int32_t dil_x, int32_t dil_y,
                    int32_t ofm_block_depth, int ifm_bits);
/* Callback per weight tile (only tiles with a non-zero weight are passed). */
typedef void (*em_weight_fn)(void *user, const em_wtile_t *tile);
/* Decode the weights of one OFM block in the NPU's order, calling fn for each tile. */
int em_weights_block(em_ctx_t *ctx, em_mlw_t *dec, const em_worder_t *o, int32_t ofm_block_start,
                     em_weight_fn fn, void *user);

/* ------------------------------------------------------------------ operations */
int em_op_conv(em_ctx_t *ctx, int depthwise);
int em_op_pool(em_ctx_t *ctx, int mode);
int em_op_elementwise(em_ctx_t *ctx, int mode);
int em_op_dma(em_ctx_t *ctx, uint32_t param);

#endif /* EM_INTERNAL_H */
