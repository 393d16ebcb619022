/*
 * em_account.c - work accounting of the operations: the NPU cycle estimate and the watchdog.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * The model is functional, not timed; the cycle figure is a throughput estimate computed from
 * the operation's registers, so that an emulated NPU can report a plausible PMU cycle count.
 * Per operation, the larger of compute and memory:
 *   compute  CONV (also fully connected): MACs / MACs-per-cycle; DEPTHWISE, POOL: kernel
 *            elements x OFM elements / (MACs-per-cycle / 8) (one IFM channel per OFM channel
 *            uses 1/8 of the MAC array); ELEMENTWISE: OFM elements / (MACs-per-cycle / 32)
 *   memory   bytes read and written (IFM tile 0, IFM2, OFM, weight and scale streams, DMA
 *            length; one byte per element) / 8 (64-bit AXI beats)
 * Vela's own estimate (byoc reports it separately) models each memory's bandwidth and the
 * block overheads; this one is a coarse bound of the same two terms.
 *
 * The same work units (MACs, kernel elements, elements, bytes) bound a command stream: the
 * work limit turns a corrupted stream that describes enormous operations into an error
 * (ETHOSU_MODEL_E_WATCHDOG) instead of an emulator that runs for hours.
 */
#include "em_internal.h"

static uint64_t em_reg_p1(const em_ctx_t *ctx, int opcode)
{
    return (uint64_t)em_reg0(ctx, opcode) + 1u;
}

/* a * b, saturating: a corrupted stream's shapes must not wrap into a small work figure */
static uint64_t em_mul(uint64_t a, uint64_t b)
{
    return (b != 0u && a > UINT64_MAX / b) ? UINT64_MAX : a * b;
}

static uint64_t em_div_up(uint64_t value, uint64_t divisor)
{
    return divisor == 0u ? value : (value + divisor - 1u) / divisor;
}

int em_account(em_ctx_t *ctx, uint32_t opcode, uint32_t param)
{
    const uint64_t ofm = em_mul(em_mul(em_reg_p1(ctx, EM_R_OFM_HEIGHT_M1), em_reg_p1(ctx, EM_R_OFM_WIDTH_M1)),
                                em_reg_p1(ctx, EM_R_OFM_DEPTH_M1));
    const uint64_t kernel = em_mul(em_reg_p1(ctx, EM_R_KERNEL_HEIGHT_M1), em_reg_p1(ctx, EM_R_KERNEL_WIDTH_M1));
    const uint64_t macs = ctx->macs > 0 ? (uint64_t)ctx->macs : 256u;
    const uint64_t ifm = em_mul(em_mul(em_reg_p1(ctx, EM_R_IFM_HEIGHT0_M1), em_reg_p1(ctx, EM_R_IFM_WIDTH0_M1)),
                                em_reg_p1(ctx, EM_R_IFM_DEPTH_M1));
    const uint64_t streams = (uint64_t)em_reg1(ctx, EM_R1_WEIGHT_LENGTH) + em_reg1(ctx, EM_R1_SCALE_LENGTH);
    uint64_t work;
    uint64_t cycles;
    uint64_t bytes;
    switch (opcode)
    {
    case EM_OP_CONV:
        work = em_mul(em_mul(ofm, kernel), em_reg_p1(ctx, EM_R_IFM_DEPTH_M1));
        cycles = em_div_up(work, macs);
        bytes = ifm + ofm + streams;
        break;
    case EM_OP_DEPTHWISE:
    case EM_OP_POOL:
        work = em_mul(em_mul(ofm, kernel),
                      opcode == EM_OP_POOL && param == EM_POOL_REDUCE_SUM ? em_reg_p1(ctx, EM_R_IFM_DEPTH_M1) : 1u);
        cycles = em_div_up(work, macs / 8u);
        bytes = ifm + ofm + (opcode == EM_OP_DEPTHWISE ? streams : 0u);
        break;
    case EM_OP_ELEMENTWISE:
        work = ofm;
        cycles = em_div_up(work, macs / 32u);
        bytes = em_mul(ofm, 3u);
        break;
    case EM_OP_DMA_START:
        work = em_reg1(ctx, EM_R1_DMA0_LEN);
        cycles = 0u;
        bytes = work;
        break;
    default:
        return 0;
    }
    if (em_div_up(bytes, 8u) > cycles)
    {
        cycles = em_div_up(bytes, 8u);
    }
    if (ctx->work_limit != 0u && work > ctx->work_limit - (ctx->work < ctx->work_limit ? ctx->work : ctx->work_limit))
    {
        return em_fail(ctx, ETHOSU_MODEL_E_WATCHDOG, "command stream exceeds the NPU work limit (watchdog)");
    }
    ctx->work = ctx->work > UINT64_MAX - work ? UINT64_MAX : ctx->work + work;
    ctx->cycles = ctx->cycles > UINT64_MAX - cycles ? UINT64_MAX : ctx->cycles + cycles;
    return 0;
}
