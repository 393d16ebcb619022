/*
 * em_command.c - command decoding: the register file and operation dispatch.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Word format: bits 0-9 opcode, bits 14-15 payload size (0: cmd0, 1: cmd1 with one 32-bit
 * payload word following), bits 10-13 zero, bits 16-31 a 16-bit parameter. cmd0 opcodes below
 * 0x100 are operations (STOP, IRQ, CONV, DEPTHWISE, POOL, ELEMENTWISE, DMA_START, DMA_WAIT,
 * KERNEL_WAIT, PMU_MASK); cmd0 opcodes 0x100-0x18F set 16-bit registers; cmd1 opcodes set
 * 32-bit registers (addresses, strides, lengths, scales), keeping the parameter field too
 * (the shift of OFM/OPA_SCALE).
 *
 * The NPU runs operations and DMA in parallel; the model executes each command in stream order,
 * which is always a valid schedule (KERNEL_WAIT/DMA_WAIT only restrict the hardware's overlap).
 */
#include "em_internal.h"

/* Registers that exist (cmd0: index opcode - 0x100). */
static int em_is_reg0(uint32_t opcode)
{
    switch (opcode)
    {
    case EM_R_IFM_PAD_TOP:
    case EM_R_IFM_PAD_LEFT:
    case EM_R_IFM_PAD_RIGHT:
    case EM_R_IFM_PAD_BOTTOM:
    case EM_R_IFM_DEPTH_M1:
    case EM_R_IFM_PRECISION:
    case EM_R_IFM_UPSCALE:
    case EM_R_IFM_ZERO_POINT:
    case EM_R_IFM_WIDTH0_M1:
    case EM_R_IFM_HEIGHT0_M1:
    case EM_R_IFM_HEIGHT1_M1:
    case EM_R_IFM_IB_END:
    case EM_R_IFM_REGION:
    case EM_R_OFM_WIDTH_M1:
    case EM_R_OFM_HEIGHT_M1:
    case EM_R_OFM_DEPTH_M1:
    case EM_R_OFM_PRECISION:
    case EM_R_OFM_BLK_WIDTH_M1:
    case EM_R_OFM_BLK_HEIGHT_M1:
    case EM_R_OFM_BLK_DEPTH_M1:
    case EM_R_OFM_ZERO_POINT:
    case EM_R_OFM_WIDTH0_M1:
    case EM_R_OFM_HEIGHT0_M1:
    case EM_R_OFM_HEIGHT1_M1:
    case EM_R_OFM_REGION:
    case EM_R_KERNEL_WIDTH_M1:
    case EM_R_KERNEL_HEIGHT_M1:
    case EM_R_KERNEL_STRIDE:
    case EM_R_PARALLEL_MODE:
    case EM_R_ACC_FORMAT:
    case EM_R_ACTIVATION:
    case EM_R_ACTIVATION_MIN:
    case EM_R_ACTIVATION_MAX:
    case EM_R_WEIGHT_REGION:
    case EM_R_SCALE_REGION:
    case EM_R_AB_START:
    case EM_R_BLOCKDEP:
    case EM_R_DMA0_SRC_REGION:
    case EM_R_DMA0_DST_REGION:
    case EM_R_DMA0_SIZE0:
    case EM_R_DMA0_SIZE1:
    case EM_R_IFM2_BROADCAST:
    case EM_R_IFM2_SCALAR:
    case EM_R_IFM2_PRECISION:
    case EM_R_IFM2_ZERO_POINT:
    case EM_R_IFM2_WIDTH0_M1:
    case EM_R_IFM2_HEIGHT0_M1:
    case EM_R_IFM2_HEIGHT1_M1:
    case EM_R_IFM2_IB_START:
    case EM_R_IFM2_REGION:
        return 1;
    default:
        return 0;
    }
}

static int em_is_reg1(uint32_t opcode)
{
    if (opcode <= 0x006u || (opcode >= 0x010u && opcode <= 0x016u) || (opcode >= 0x020u && opcode <= 0x026u) ||
        (opcode >= 0x030u && opcode <= 0x034u) || (opcode >= 0x080u && opcode <= 0x086u) ||
        (opcode >= 0x090u && opcode <= 0x093u))
    {
        return 1;
    }
    return 0;
}

static int em_execute(em_ctx_t *ctx, uint32_t opcode, uint32_t param, int *stop)
{
    const int rc = em_account(ctx, opcode, param);
    if (rc < 0)
    {
        return rc;
    }
    switch (opcode)
    {
    case EM_OP_STOP:
        *stop = 1;
        return 0;
    case EM_OP_IRQ:
    case EM_OP_DMA_WAIT:
    case EM_OP_KERNEL_WAIT:
    case EM_OP_PMU_MASK:
        return 0; /* synchronisation / interrupts / profiling: nothing to do functionally */
    case EM_OP_CONV:
        ctx->ops++;
        return em_op_conv(ctx, 0);
    case EM_OP_DEPTHWISE:
        ctx->ops++;
        return em_op_conv(ctx, 1);
    case EM_OP_POOL:
        ctx->ops++;
        return em_op_pool(ctx, (int)param);
    case EM_OP_ELEMENTWISE:
        ctx->ops++;
        return em_op_elementwise(ctx, (int)param);
    case EM_OP_DMA_START:
        ctx->ops++;
        return em_op_dma(ctx, param);
    default:
        return em_fail(ctx, ETHOSU_MODEL_E_COMMAND, "unknown operation opcode");
    }
}

int em_run_commands(em_ctx_t *ctx, const uint32_t *cmds, uint32_t ncmds, uint32_t byte_offset)
{
    uint32_t i = 0;
    while (i < ncmds)
    {
        ctx->cmd_pos = byte_offset + i * 4u;
        const uint32_t w = cmds[i];
        const uint32_t opcode = w & 0x3FFu;
        const uint32_t mode = (w >> 14) & 3u;
        const uint32_t param = w >> 16;
        if ((w & 0x3C00u) != 0u)
        {
            return em_fail(ctx, ETHOSU_MODEL_E_COMMAND, "malformed command word (reserved bits set)");
        }
        if (mode == 0u)
        {
            i++;
            if (opcode < EM_R0_FIRST)
            {
                int stop = 0;
                int rc = em_execute(ctx, opcode, param, &stop);
                if (rc < 0)
                {
                    return rc;
                }
                if (stop)
                {
                    return 0;
                }
            }
            else if (em_is_reg0(opcode))
            {
                ctx->regs.r0[opcode - EM_R0_FIRST] = (uint16_t)param;
            }
            else
            {
                return em_fail(ctx, ETHOSU_MODEL_E_COMMAND, "unknown cmd0 opcode");
            }
        }
        else if (mode == 1u)
        {
            if (i + 1u >= ncmds)
            {
                return em_fail(ctx, ETHOSU_MODEL_E_COMMAND, "command stream truncated inside a cmd1 command");
            }
            if (!em_is_reg1(opcode))
            {
                return em_fail(ctx, ETHOSU_MODEL_E_COMMAND, "unknown cmd1 opcode");
            }
            ctx->regs.r1[opcode] = cmds[i + 1u];
            ctx->regs.r1p[opcode] = (uint16_t)param;
            i += 2u;
        }
        else
        {
            return em_fail(ctx, ETHOSU_MODEL_E_COMMAND, "unsupported command payload size");
        }
    }
    ctx->cmd_pos = byte_offset + ncmds * 4u;
    return em_fail(ctx, ETHOSU_MODEL_E_COMMAND, "command stream ends without STOP");
}
