/*
 * cmsis_nn_cases.h - test-case runner for the CMSIS-NN kernels, shared by the host driver
 * (host_main.c) and the Corstone-300 firmware (fw_main.c).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * A case is a little-endian blob of int32 words written by kernels_c/test/cmsis_nn_testlib.py:
 *   [0] magic CASE_MAGIC  [1] op  [2] total bytes  [3] output bytes  [4..35] params[32]
 *   then sections: int32 byte length + data padded to 4 bytes, in the op's order
 *   (see run_case), optionally followed by the expected output as a last section.
 * The runner sizes the scratch buffer with the kernel's own *_get_buffer_size(), passes NULL
 * when it is 0, and checks guard bytes after the scratch and the output.
 */
#ifndef CMSIS_NN_CASES_H
#define CMSIS_NN_CASES_H

#include <stdint.h>
#include <string.h>

#include "arm_nnfunctions.h"

#define CASE_MAGIC 0x434E4E43
#define CASE_HEADER_WORDS 36
#define CASE_GUARD 32
#define CASE_GUARD_BYTE 0xA5

enum
{
    OP_CONV = 1,
    OP_DW = 2,
    OP_FC = 3,
    OP_AVGPOOL = 4,
    OP_MAXPOOL = 5,
    OP_SOFTMAX = 6,
    OP_ADD = 7,
    OP_MUL = 8,
    OP_SIZES = 9,
    /* int16 activations (A16W8) */
    OP_CONV_S16 = 10,
    OP_DW_S16 = 11,
    OP_FC_S16 = 12,
    OP_AVGPOOL_S16 = 13,
    OP_MAXPOOL_S16 = 14,
    OP_SOFTMAX_S16 = 15,
    OP_ADD_S16 = 16,
    OP_MUL_S16 = 17,
    OP_SIZES_S16 = 18,
};

/* Status codes of run_case beyond the kernel's own (negative) ones. */
#define CASE_BAD_BLOB 100
#define CASE_SCRATCH_OVERRUN 101
#define CASE_OUTPUT_OVERRUN 102
#define CASE_SCRATCH_TOO_SMALL 103

#ifndef CASE_TIMER_START
    #define CASE_TIMER_START()
#endif
#ifndef CASE_TIMER_STOP
    #define CASE_TIMER_STOP()
#endif

typedef struct
{
    const uint8_t *blob;
    int32_t op;
    int32_t total;
    int32_t out_bytes;
    const int32_t *p;
    const uint8_t *cursor;
    int32_t bad;
} case_reader;

static inline int32_t case_word(const uint8_t *b, int32_t i)
{
    int32_t v;
    memcpy(&v, b + 4 * i, 4);
    return v;
}

static inline int case_open(case_reader *r, const uint8_t *blob)
{
    r->blob = blob;
    r->bad = 0;
    if (case_word(blob, 0) != CASE_MAGIC)
    {
        return 0;
    }
    r->op = case_word(blob, 1);
    r->total = case_word(blob, 2);
    r->out_bytes = case_word(blob, 3);
    r->p = (const int32_t *)(const void *)(blob + 16);
    r->cursor = blob + 4 * CASE_HEADER_WORDS;
    return 1;
}

/* Next section; *len receives its byte length. The blob is 4-byte aligned, so int32 sections are too. */
static inline const void *case_section(case_reader *r, int32_t *len)
{
    if (r->cursor + 4 > r->blob + r->total)
    {
        r->bad = 1;
        *len = 0;
        return NULL;
    }
    int32_t n;
    memcpy(&n, r->cursor, 4);
    const void *data = r->cursor + 4;
    r->cursor += 4 + ((n + 3) & ~3);
    if (r->cursor > r->blob + r->total)
    {
        r->bad = 1;
    }
    *len = n;
    return n > 0 ? data : NULL;
}

static inline void guard_fill(uint8_t *p)
{
    memset(p, CASE_GUARD_BYTE, CASE_GUARD);
}

static inline int guard_ok(const uint8_t *p)
{
    for (int i = 0; i < CASE_GUARD; i++)
    {
        if (p[i] != CASE_GUARD_BYTE)
        {
            return 0;
        }
    }
    return 1;
}

/*
 * Runs one case. out must have room for out_bytes + CASE_GUARD bytes; scratch has scratch_cap
 * bytes (the runner keeps CASE_GUARD of them as guard). Returns the kernel status (0 = success)
 * or a CASE_* code; *scratch_used receives the buffer size the kernel asked for.
 */
static inline int32_t run_case(const uint8_t *blob, int8_t *out, uint8_t *scratch, int32_t scratch_cap, int32_t *scratch_used)
{
    case_reader r;
    int32_t len;
    int32_t status = 0;
    int32_t bs = 0;
    *scratch_used = 0;
    if (!case_open(&r, blob))
    {
        return CASE_BAD_BLOB;
    }
    const int32_t *p = r.p;
    guard_fill((uint8_t *)out + r.out_bytes);
    cmsis_nn_context ctx = {NULL, 0};

    switch (r.op)
    {
    case OP_CONV: {
        const int8_t *in = case_section(&r, &len);
        const int8_t *w = case_section(&r, &len);
        const int32_t *bias = case_section(&r, &len);
        int32_t *mult = (int32_t *)(uintptr_t)case_section(&r, &len);
        int32_t *shift = (int32_t *)(uintptr_t)case_section(&r, &len);
        cmsis_nn_dims in_dims = {p[0], p[1], p[2], p[3]};
        cmsis_nn_dims f_dims = {p[4], p[5], p[6], p[7]};
        cmsis_nn_dims b_dims = {1, 1, 1, p[4]};
        cmsis_nn_dims o_dims = {p[0], p[8], p[9], p[4]};
        cmsis_nn_conv_params cp;
        cp.stride.h = p[10];
        cp.stride.w = p[11];
        cp.padding.h = p[12];
        cp.padding.w = p[13];
        cp.dilation.h = p[14];
        cp.dilation.w = p[15];
        cp.input_offset = p[16];
        cp.output_offset = p[17];
        cp.activation.min = p[18];
        cp.activation.max = p[19];
        cmsis_nn_per_channel_quant_params q = {mult, shift};
        bs = p[21] == 0 ? arm_convolve_wrapper_s8_get_buffer_size(&cp, &in_dims, &f_dims, &o_dims)
                        : arm_convolve_s8_get_buffer_size(&in_dims, &f_dims);
        if (bs + CASE_GUARD > scratch_cap)
        {
            return CASE_SCRATCH_TOO_SMALL;
        }
        ctx.buf = bs > 0 ? scratch : NULL;
        ctx.size = bs;
        guard_fill(scratch + bs);
        CASE_TIMER_START();
        if (p[21] == 0)
        {
            status = arm_convolve_wrapper_s8(&ctx, &cp, &q, &in_dims, in, &f_dims, w, &b_dims, p[20] ? bias : NULL,
                                             &o_dims, out);
        }
        else
        {
            status = arm_convolve_s8(&ctx, &cp, &q, &in_dims, in, &f_dims, w, &b_dims, p[20] ? bias : NULL, NULL,
                                     &o_dims, out);
        }
        CASE_TIMER_STOP();
        break;
    }
    case OP_DW: {
        const int8_t *in = case_section(&r, &len);
        const int8_t *w = case_section(&r, &len);
        const int32_t *bias = case_section(&r, &len);
        int32_t *mult = (int32_t *)(uintptr_t)case_section(&r, &len);
        int32_t *shift = (int32_t *)(uintptr_t)case_section(&r, &len);
        cmsis_nn_dims in_dims = {p[0], p[1], p[2], p[3]};
        cmsis_nn_dims f_dims = {1, p[5], p[6], p[3] * p[4]};
        cmsis_nn_dims b_dims = {1, 1, 1, p[3] * p[4]};
        cmsis_nn_dims o_dims = {p[0], p[7], p[8], p[3] * p[4]};
        cmsis_nn_dw_conv_params dp;
        dp.ch_mult = p[4];
        dp.stride.h = p[9];
        dp.stride.w = p[10];
        dp.padding.h = p[11];
        dp.padding.w = p[12];
        dp.dilation.h = p[13];
        dp.dilation.w = p[14];
        dp.input_offset = p[15];
        dp.output_offset = p[16];
        dp.activation.min = p[17];
        dp.activation.max = p[18];
        cmsis_nn_per_channel_quant_params q = {mult, shift};
        bs = p[20] == 0 ? arm_depthwise_conv_wrapper_s8_get_buffer_size(&dp, &in_dims, &f_dims, &o_dims) : 0;
        if (bs + CASE_GUARD > scratch_cap)
        {
            return CASE_SCRATCH_TOO_SMALL;
        }
        ctx.buf = bs > 0 ? scratch : NULL;
        ctx.size = bs;
        guard_fill(scratch + bs);
        CASE_TIMER_START();
        if (p[20] == 0)
        {
            status = arm_depthwise_conv_wrapper_s8(&ctx, &dp, &q, &in_dims, in, &f_dims, w, &b_dims,
                                                   p[19] ? bias : NULL, &o_dims, out);
        }
        else
        {
            status = arm_depthwise_conv_s8(&ctx, &dp, &q, &in_dims, in, &f_dims, w, &b_dims, p[19] ? bias : NULL,
                                           &o_dims, out);
        }
        CASE_TIMER_STOP();
        break;
    }
    case OP_FC: {
        const int8_t *in = case_section(&r, &len);
        const int8_t *w = case_section(&r, &len);
        const int32_t *bias = case_section(&r, &len);
        int32_t *mult = (int32_t *)(uintptr_t)case_section(&r, &len);
        int32_t *shift = (int32_t *)(uintptr_t)case_section(&r, &len);
        const int32_t batches = p[0], depth = p[1], out_c = p[2];
        cmsis_nn_dims in_dims = {batches, 1, 1, depth};
        cmsis_nn_dims f_dims = {depth, 1, 1, out_c};
        cmsis_nn_dims b_dims = {1, 1, 1, out_c};
        cmsis_nn_dims o_dims = {batches, 1, 1, out_c};
        cmsis_nn_fc_params fp;
        fp.input_offset = p[3];
        fp.filter_offset = p[4];
        fp.output_offset = p[5];
        fp.activation.min = p[6];
        fp.activation.max = p[7];
        const int32_t *b = p[8] ? bias : NULL;
        bs = arm_fully_connected_s8_get_buffer_size(&f_dims);
        if (bs + CASE_GUARD > scratch_cap)
        {
            return CASE_SCRATCH_TOO_SMALL;
        }
        if (bs > 0 && p[10])
        {
            /* Kernel sums: the generated code precomputes them at compile time. */
            status = arm_vector_sum_s8((int32_t *)(void *)scratch, depth, out_c, w, fp.input_offset,
                                       fp.filter_offset, b);
            ctx.buf = scratch;
            ctx.size = bs;
        }
        guard_fill(scratch + bs);
        if (status != 0)
        {
            break;
        }
        CASE_TIMER_START();
        switch (p[9])
        {
        case 0: {
            cmsis_nn_per_tensor_quant_params q = {mult[0], shift[0]};
            status = arm_fully_connected_s8(&ctx, &fp, &q, &in_dims, in, &f_dims, w, &b_dims, b, &o_dims, out);
            break;
        }
        case 1: {
            cmsis_nn_per_channel_quant_params q = {mult, shift};
            status =
                arm_fully_connected_per_channel_s8(&ctx, &fp, &q, &in_dims, in, &f_dims, w, &b_dims, b, &o_dims, out);
            break;
        }
        default: {
            cmsis_nn_quant_params q = {mult, shift, p[9] == 3};
            status = arm_fully_connected_wrapper_s8(&ctx, &fp, &q, &in_dims, in, &f_dims, w, &b_dims, b, &o_dims, out);
            break;
        }
        }
        CASE_TIMER_STOP();
        break;
    }
    case OP_AVGPOOL:
    case OP_MAXPOOL: {
        const int8_t *in = case_section(&r, &len);
        cmsis_nn_dims in_dims = {p[0], p[1], p[2], p[3]};
        cmsis_nn_dims o_dims = {p[0], p[4], p[5], p[3]};
        cmsis_nn_dims f_dims = {1, p[6], p[7], 1};
        cmsis_nn_pool_params pp;
        pp.stride.h = p[8];
        pp.stride.w = p[9];
        pp.padding.h = p[10];
        pp.padding.w = p[11];
        pp.activation.min = p[12];
        pp.activation.max = p[13];
        bs = r.op == OP_AVGPOOL ? arm_avgpool_s8_get_buffer_size(o_dims.w, in_dims.c) : 0;
        if (bs + CASE_GUARD > scratch_cap)
        {
            return CASE_SCRATCH_TOO_SMALL;
        }
        ctx.buf = bs > 0 ? scratch : NULL;
        ctx.size = bs;
        guard_fill(scratch + bs);
        CASE_TIMER_START();
        if (r.op == OP_AVGPOOL)
        {
            status = arm_avgpool_s8(&ctx, &pp, &in_dims, in, &f_dims, &o_dims, out);
        }
        else
        {
            status = arm_max_pool_s8(&ctx, &pp, &in_dims, in, &f_dims, &o_dims, out);
        }
        CASE_TIMER_STOP();
        break;
    }
    case OP_SOFTMAX: {
        const int8_t *in = case_section(&r, &len);
        guard_fill(scratch);
        CASE_TIMER_START();
        arm_softmax_s8(in, p[0], p[1], p[2], p[3], p[4], out);
        CASE_TIMER_STOP();
        break;
    }
    case OP_ADD: {
        const int8_t *a = case_section(&r, &len);
        const int8_t *b = case_section(&r, &len);
        guard_fill(scratch);
        CASE_TIMER_START();
        status = arm_elementwise_add_s8(a, b, p[1], p[2], p[3], p[4], p[5], p[6], p[7], out, p[8], p[9], p[10], p[11],
                                        p[12], p[0]);
        CASE_TIMER_STOP();
        break;
    }
    case OP_MUL: {
        const int8_t *a = case_section(&r, &len);
        const int8_t *b = case_section(&r, &len);
        guard_fill(scratch);
        CASE_TIMER_START();
        status = arm_elementwise_mul_s8(a, b, p[1], p[2], out, p[3], p[4], p[5], p[6], p[7], p[0]);
        CASE_TIMER_STOP();
        break;
    }
    case OP_SIZES: {
        /* Buffer-size queries: conv and depthwise share one parameter layout (see OP_DW). */
        int32_t sizes[12];
        cmsis_nn_dims in_dims = {p[0], p[1], p[2], p[3]};
        cmsis_nn_dims cf_dims = {p[3] * p[4], p[5], p[6], p[3]};
        cmsis_nn_dims df_dims = {1, p[5], p[6], p[3] * p[4]};
        cmsis_nn_dims o_dims = {p[0], p[7], p[8], p[3] * p[4]};
        cmsis_nn_conv_params cp;
        cmsis_nn_dw_conv_params dp;
        cp.stride.h = dp.stride.h = p[9];
        cp.stride.w = dp.stride.w = p[10];
        cp.padding.h = dp.padding.h = p[11];
        cp.padding.w = dp.padding.w = p[12];
        cp.dilation.h = dp.dilation.h = p[13];
        cp.dilation.w = dp.dilation.w = p[14];
        cp.input_offset = dp.input_offset = 0;
        cp.output_offset = dp.output_offset = 0;
        cp.activation.min = dp.activation.min = -128;
        cp.activation.max = dp.activation.max = 127;
        dp.ch_mult = p[4];
        cmsis_nn_dims fc_dims = {p[3], 1, 1, p[4] * p[3]};
        sizes[0] = arm_convolve_wrapper_s8_get_buffer_size_mve(&cp, &in_dims, &cf_dims, &o_dims);
        sizes[1] = arm_convolve_wrapper_s8_get_buffer_size_dsp(&cp, &in_dims, &cf_dims, &o_dims);
        sizes[2] = arm_convolve_wrapper_s8_get_buffer_size(&cp, &in_dims, &cf_dims, &o_dims);
        sizes[3] = arm_depthwise_conv_wrapper_s8_get_buffer_size_mve(&dp, &in_dims, &df_dims, &o_dims);
        sizes[4] = arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp(&dp, &in_dims, &df_dims, &o_dims);
        sizes[5] = arm_depthwise_conv_wrapper_s8_get_buffer_size(&dp, &in_dims, &df_dims, &o_dims);
        sizes[6] = arm_fully_connected_s8_get_buffer_size_mve(&fc_dims);
        sizes[7] = arm_fully_connected_s8_get_buffer_size_dsp(&fc_dims);
        sizes[8] = arm_fully_connected_s8_get_buffer_size(&fc_dims);
        sizes[9] = arm_avgpool_s8_get_buffer_size_mve(p[8], p[3]);
        sizes[10] = arm_avgpool_s8_get_buffer_size_dsp(p[8], p[3]);
        sizes[11] = arm_avgpool_s8_get_buffer_size(p[8], p[3]);
        memcpy(out, sizes, sizeof(sizes));
        guard_fill(scratch);
        break;
    }
    case OP_CONV_S16: {
        /* params as OP_CONV, plus [22] = bias is int32 (cmsis_nn_bias_data.is_int32_bias) */
        const int16_t *in = case_section(&r, &len);
        const int8_t *w = case_section(&r, &len);
        const void *bias = case_section(&r, &len);
        int32_t *mult = (int32_t *)(uintptr_t)case_section(&r, &len);
        int32_t *shift = (int32_t *)(uintptr_t)case_section(&r, &len);
        cmsis_nn_dims in_dims = {p[0], p[1], p[2], p[3]};
        cmsis_nn_dims f_dims = {p[4], p[5], p[6], p[7]};
        cmsis_nn_dims b_dims = {1, 1, 1, p[4]};
        cmsis_nn_dims o_dims = {p[0], p[8], p[9], p[4]};
        cmsis_nn_conv_params cp;
        cp.stride.h = p[10];
        cp.stride.w = p[11];
        cp.padding.h = p[12];
        cp.padding.w = p[13];
        cp.dilation.h = p[14];
        cp.dilation.w = p[15];
        cp.input_offset = p[16];
        cp.output_offset = p[17];
        cp.activation.min = p[18];
        cp.activation.max = p[19];
        cmsis_nn_per_channel_quant_params q = {mult, shift};
        const cmsis_nn_bias_data bd = {p[20] ? bias : NULL, p[22] != 0};
        bs = p[21] == 0 ? arm_convolve_wrapper_s16_get_buffer_size(&cp, &in_dims, &f_dims, &o_dims)
                        : arm_convolve_s16_get_buffer_size(&in_dims, &f_dims);
        if (bs + CASE_GUARD > scratch_cap)
        {
            return CASE_SCRATCH_TOO_SMALL;
        }
        ctx.buf = bs > 0 ? scratch : NULL;
        ctx.size = bs;
        guard_fill(scratch + bs);
        CASE_TIMER_START();
        if (p[21] == 0)
        {
            status = arm_convolve_wrapper_s16(&ctx, &cp, &q, &in_dims, in, &f_dims, w, &b_dims, &bd, &o_dims,
                                              (int16_t *)(void *)out);
        }
        else
        {
            status = arm_convolve_s16(&ctx, &cp, &q, &in_dims, in, &f_dims, w, &b_dims, &bd, &o_dims,
                                      (int16_t *)(void *)out);
        }
        CASE_TIMER_STOP();
        break;
    }
    case OP_DW_S16: {
        /* params as OP_DW */
        const int16_t *in = case_section(&r, &len);
        const int8_t *w = case_section(&r, &len);
        const int64_t *bias = case_section(&r, &len);
        int32_t *mult = (int32_t *)(uintptr_t)case_section(&r, &len);
        int32_t *shift = (int32_t *)(uintptr_t)case_section(&r, &len);
        cmsis_nn_dims in_dims = {p[0], p[1], p[2], p[3]};
        cmsis_nn_dims f_dims = {1, p[5], p[6], p[3] * p[4]};
        cmsis_nn_dims b_dims = {1, 1, 1, p[3] * p[4]};
        cmsis_nn_dims o_dims = {p[0], p[7], p[8], p[3] * p[4]};
        cmsis_nn_dw_conv_params dp;
        dp.ch_mult = p[4];
        dp.stride.h = p[9];
        dp.stride.w = p[10];
        dp.padding.h = p[11];
        dp.padding.w = p[12];
        dp.dilation.h = p[13];
        dp.dilation.w = p[14];
        dp.input_offset = p[15];
        dp.output_offset = p[16];
        dp.activation.min = p[17];
        dp.activation.max = p[18];
        cmsis_nn_per_channel_quant_params q = {mult, shift};
        bs = p[20] == 0 ? arm_depthwise_conv_wrapper_s16_get_buffer_size(&dp, &in_dims, &f_dims, &o_dims) : 0;
        if (bs + CASE_GUARD > scratch_cap)
        {
            return CASE_SCRATCH_TOO_SMALL;
        }
        ctx.buf = bs > 0 ? scratch : NULL;
        ctx.size = bs;
        guard_fill(scratch + bs);
        CASE_TIMER_START();
        if (p[20] == 0)
        {
            status = arm_depthwise_conv_wrapper_s16(&ctx, &dp, &q, &in_dims, in, &f_dims, w, &b_dims,
                                                    p[19] ? bias : NULL, &o_dims, (int16_t *)(void *)out);
        }
        else
        {
            status = arm_depthwise_conv_s16(&ctx, &dp, &q, &in_dims, in, &f_dims, w, &b_dims, p[19] ? bias : NULL,
                                            &o_dims, (int16_t *)(void *)out);
        }
        CASE_TIMER_STOP();
        break;
    }
    case OP_FC_S16: {
        /* params: batches, depth, units, input / filter / output offset, act min / max, has bias */
        const int16_t *in = case_section(&r, &len);
        const int8_t *w = case_section(&r, &len);
        const int64_t *bias = case_section(&r, &len);
        int32_t *mult = (int32_t *)(uintptr_t)case_section(&r, &len);
        int32_t *shift = (int32_t *)(uintptr_t)case_section(&r, &len);
        const int32_t batches = p[0], depth = p[1], out_c = p[2];
        cmsis_nn_dims in_dims = {batches, 1, 1, depth};
        cmsis_nn_dims f_dims = {depth, 1, 1, out_c};
        cmsis_nn_dims b_dims = {1, 1, 1, out_c};
        cmsis_nn_dims o_dims = {batches, 1, 1, out_c};
        cmsis_nn_fc_params fp;
        fp.input_offset = p[3];
        fp.filter_offset = p[4];
        fp.output_offset = p[5];
        fp.activation.min = p[6];
        fp.activation.max = p[7];
        cmsis_nn_per_tensor_quant_params q = {mult[0], shift[0]};
        bs = arm_fully_connected_s16_get_buffer_size(&f_dims);
        if (bs + CASE_GUARD > scratch_cap)
        {
            return CASE_SCRATCH_TOO_SMALL;
        }
        ctx.buf = bs > 0 ? scratch : NULL;
        ctx.size = bs;
        guard_fill(scratch + bs);
        CASE_TIMER_START();
        status = arm_fully_connected_s16(&ctx, &fp, &q, &in_dims, in, &f_dims, w, &b_dims, p[8] ? bias : NULL,
                                         &o_dims, (int16_t *)(void *)out);
        CASE_TIMER_STOP();
        break;
    }
    case OP_AVGPOOL_S16:
    case OP_MAXPOOL_S16: {
        const int16_t *in = case_section(&r, &len);
        cmsis_nn_dims in_dims = {p[0], p[1], p[2], p[3]};
        cmsis_nn_dims o_dims = {p[0], p[4], p[5], p[3]};
        cmsis_nn_dims f_dims = {1, p[6], p[7], 1};
        cmsis_nn_pool_params pp;
        pp.stride.h = p[8];
        pp.stride.w = p[9];
        pp.padding.h = p[10];
        pp.padding.w = p[11];
        pp.activation.min = p[12];
        pp.activation.max = p[13];
        bs = r.op == OP_AVGPOOL_S16 ? arm_avgpool_s16_get_buffer_size(o_dims.w, in_dims.c) : 0;
        if (bs + CASE_GUARD > scratch_cap)
        {
            return CASE_SCRATCH_TOO_SMALL;
        }
        ctx.buf = bs > 0 ? scratch : NULL;
        ctx.size = bs;
        guard_fill(scratch + bs);
        CASE_TIMER_START();
        if (r.op == OP_AVGPOOL_S16)
        {
            status = arm_avgpool_s16(&ctx, &pp, &in_dims, in, &f_dims, &o_dims, (int16_t *)(void *)out);
        }
        else
        {
            status = arm_max_pool_s16(&ctx, &pp, &in_dims, in, &f_dims, &o_dims, (int16_t *)(void *)out);
        }
        CASE_TIMER_STOP();
        break;
    }
    case OP_SOFTMAX_S16: {
        const int16_t *in = case_section(&r, &len);
        const int16_t *exp_lut = case_section(&r, &len);
        const int16_t *recip_lut = case_section(&r, &len);
        const cmsis_nn_softmax_lut_s16 luts = {exp_lut, recip_lut};
        guard_fill(scratch);
        CASE_TIMER_START();
        status = arm_softmax_s16(in, p[0], p[1], p[2], p[3], &luts, (int16_t *)(void *)out);
        CASE_TIMER_STOP();
        break;
    }
    case OP_ADD_S16: {
        const int16_t *a = case_section(&r, &len);
        const int16_t *b = case_section(&r, &len);
        guard_fill(scratch);
        CASE_TIMER_START();
        status = arm_elementwise_add_s16(a, b, p[1], p[2], p[3], p[4], p[5], p[6], p[7], (int16_t *)(void *)out, p[8],
                                         p[9], p[10], p[11], p[12], p[0]);
        CASE_TIMER_STOP();
        break;
    }
    case OP_MUL_S16: {
        const int16_t *a = case_section(&r, &len);
        const int16_t *b = case_section(&r, &len);
        guard_fill(scratch);
        CASE_TIMER_START();
        status = arm_elementwise_mul_s16(a, b, p[1], p[2], (int16_t *)(void *)out, p[3], p[4], p[5], p[6], p[7], p[0]);
        CASE_TIMER_STOP();
        break;
    }
    case OP_SIZES_S16: {
        /* The s16 size functions, same parameter layout as OP_SIZES. */
        int32_t sizes[12];
        cmsis_nn_dims in_dims = {p[0], p[1], p[2], p[3]};
        cmsis_nn_dims cf_dims = {p[3] * p[4], p[5], p[6], p[3]};
        cmsis_nn_dims df_dims = {1, p[5], p[6], p[3] * p[4]};
        cmsis_nn_dims o_dims = {p[0], p[7], p[8], p[3] * p[4]};
        cmsis_nn_conv_params cp;
        cmsis_nn_dw_conv_params dp;
        cp.stride.h = dp.stride.h = p[9];
        cp.stride.w = dp.stride.w = p[10];
        cp.padding.h = dp.padding.h = p[11];
        cp.padding.w = dp.padding.w = p[12];
        cp.dilation.h = dp.dilation.h = p[13];
        cp.dilation.w = dp.dilation.w = p[14];
        cp.input_offset = dp.input_offset = 0;
        cp.output_offset = dp.output_offset = 0;
        cp.activation.min = dp.activation.min = -32768;
        cp.activation.max = dp.activation.max = 32767;
        dp.ch_mult = p[4];
        cmsis_nn_dims fc_dims = {p[3], 1, 1, p[4] * p[3]};
        sizes[0] = arm_convolve_wrapper_s16_get_buffer_size_mve(&cp, &in_dims, &cf_dims, &o_dims);
        sizes[1] = arm_convolve_wrapper_s16_get_buffer_size_dsp(&cp, &in_dims, &cf_dims, &o_dims);
        sizes[2] = arm_convolve_wrapper_s16_get_buffer_size(&cp, &in_dims, &cf_dims, &o_dims);
        sizes[3] = arm_depthwise_conv_wrapper_s16_get_buffer_size_mve(&dp, &in_dims, &df_dims, &o_dims);
        sizes[4] = arm_depthwise_conv_wrapper_s16_get_buffer_size_dsp(&dp, &in_dims, &df_dims, &o_dims);
        sizes[5] = arm_depthwise_conv_wrapper_s16_get_buffer_size(&dp, &in_dims, &df_dims, &o_dims);
        sizes[6] = arm_fully_connected_s16_get_buffer_size_mve(&fc_dims);
        sizes[7] = arm_fully_connected_s16_get_buffer_size_dsp(&fc_dims);
        sizes[8] = arm_fully_connected_s16_get_buffer_size(&fc_dims);
        sizes[9] = arm_avgpool_s16_get_buffer_size_mve(p[8], p[3]);
        sizes[10] = arm_avgpool_s16_get_buffer_size_dsp(p[8], p[3]);
        sizes[11] = arm_avgpool_s16_get_buffer_size(p[8], p[3]);
        memcpy(out, sizes, sizeof(sizes));
        guard_fill(scratch);
        break;
    }
    default:
        return CASE_BAD_BLOB;
    }
    *scratch_used = bs;
    if (r.bad)
    {
        return CASE_BAD_BLOB;
    }
    if (!guard_ok(scratch + bs))
    {
        return CASE_SCRATCH_OVERRUN;
    }
    if (!guard_ok((uint8_t *)out + r.out_bytes))
    {
        return CASE_OUTPUT_OVERRUN;
    }
    return status;
}

/* The expected output stored after the op's sections (firmware builds), or NULL. */
static inline const int8_t *case_expected(const uint8_t *blob, int32_t n_sections, int32_t *len)
{
    case_reader r;
    if (!case_open(&r, blob))
    {
        return NULL;
    }
    const void *s = NULL;
    for (int32_t i = 0; i <= n_sections; i++)
    {
        s = case_section(&r, len);
    }
    return r.bad ? NULL : (const int8_t *)s;
}

static inline int32_t case_sections(int32_t op)
{
    switch (op)
    {
    case OP_CONV:
    case OP_DW:
    case OP_FC:
    case OP_CONV_S16:
    case OP_DW_S16:
    case OP_FC_S16:
        return 5;
    case OP_SOFTMAX_S16:
        return 3;
    case OP_SIZES:
    case OP_SIZES_S16:
        return 0;
    case OP_ADD:
    case OP_MUL:
    case OP_ADD_S16:
    case OP_MUL_S16:
        return 2;
    default:
        return 1;
    }
}

#endif /* CMSIS_NN_CASES_H */
