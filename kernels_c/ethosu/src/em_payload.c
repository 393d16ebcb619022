/*
 * em_payload.c - Vela's driver payload: a "COP1" fourcc followed by driver actions.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Every action is one 32-bit tag word (bits 0-7 action, 8-15 reserved/extra, 16-31 parameter):
 *   0x01 CONFIG      followed by the NPU config word (bits 0-3 log2 MACs per cycle, 4-7 command
 *                    stream version, 8-15 SHRAM size in KiB, 28-31 product: 0 = Ethos-U55) and the
 *                    NPU id word (architecture revision the stream was compiled for)
 *   0x02 CMD_STREAM  length in words = (bits 8-15 << 16) | parameter, followed by the commands
 *   0x03 READ_APB    register read-back request (debug; ignored)
 *   0x04 DUMP_SHRAM  SHRAM dump request (debug; ignored)
 *   0x05 NOP         padding (aligns the command stream to 16 bytes)
 */
#include "em_internal.h"

#define EM_FOURCC_COP1 0x31504F43u /* "COP1" little-endian */

#define EM_DA_CONFIG 0x01u
#define EM_DA_CMD_STREAM 0x02u
#define EM_DA_READ_APB 0x03u
#define EM_DA_DUMP_SHRAM 0x04u
#define EM_DA_NOP 0x05u

int em_configure(em_ctx_t *ctx, uint32_t config_word)
{
    const uint32_t log2_macs = config_word & 0xFu;
    const uint32_t version = (config_word >> 4) & 0xFu;
    const uint32_t shram_kib = (config_word >> 8) & 0xFFu;
    const uint32_t product = (config_word >> 28) & 0xFu;
    if (product != 0u)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_CONFIG, "payload is not for an Ethos-U55 (product id)");
    }
    if (version != 0u)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_CONFIG, "unsupported command stream version");
    }
    if (log2_macs < 5u || log2_macs > 8u)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_CONFIG, "unsupported MACs per cycle (Ethos-U55: 32..256)");
    }
    const int macs = 1 << log2_macs;
    if (ctx->drv->model_macs != 0u && (uint32_t)macs != ctx->drv->model_macs)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_CONFIG, "payload compiled for another MAC configuration");
    }
    /* SHRAM of the Ethos-U55 configurations: 16, 16, 24, 48 KiB. */
    static const uint32_t expected_shram[4] = {16u, 16u, 24u, 48u};
    if (shram_kib != expected_shram[log2_macs - 5u])
    {
        return em_fail(ctx, ETHOSU_MODEL_E_CONFIG, "SHRAM size does not match the MAC configuration");
    }
    ctx->macs = macs;
    ctx->shram_bytes = shram_kib * 1024u;
    ctx->ifm_ublock_depth = 8;
    ctx->ofm_ublock_depth = macs == 32 ? 4 : 8;
    return 0;
}

int em_run_payload(em_ctx_t *ctx, const uint32_t *words, uint32_t nwords)
{
    ctx->cmd_pos = 0;
    if (nwords < 1u || words[0] != EM_FOURCC_COP1)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_PAYLOAD, "payload does not start with COP1");
    }
    int configured = 0;
    int streams = 0;
    uint32_t i = 1;
    while (i < nwords)
    {
        ctx->cmd_pos = i * 4u;
        const uint32_t tag = words[i];
        const uint32_t action = tag & 0xFFu;
        const uint32_t extra = (tag >> 8) & 0xFFu;
        const uint32_t param = tag >> 16;
        i++;
        switch (action)
        {
        case EM_DA_CONFIG:
        {
            if (nwords - i < 2u)
            {
                return em_fail(ctx, ETHOSU_MODEL_E_PAYLOAD, "payload truncated in the config action");
            }
            int rc = em_configure(ctx, words[i]);
            if (rc < 0)
            {
                return rc;
            }
            /* words[i + 1]: id word (architecture revision); any Ethos-U55 revision is accepted. */
            if (((words[i + 1] >> 28) & 0xFu) != 1u)
            {
                return em_fail(ctx, ETHOSU_MODEL_E_CONFIG, "unsupported NPU architecture major revision");
            }
            configured = 1;
            i += 2u;
            break;
        }
        case EM_DA_CMD_STREAM:
        {
            const uint32_t length = (extra << 16) | param;
            if (!configured)
            {
                return em_fail(ctx, ETHOSU_MODEL_E_PAYLOAD, "command stream before the config action");
            }
            if (length > nwords - i)
            {
                return em_fail(ctx, ETHOSU_MODEL_E_PAYLOAD, "payload truncated: command stream longer than payload");
            }
            int rc = em_run_commands(ctx, words + i, length, i * 4u);
            if (rc < 0)
            {
                return rc;
            }
            streams++;
            i += length;
            break;
        }
        case EM_DA_READ_APB:
        case EM_DA_DUMP_SHRAM:
        case EM_DA_NOP:
            break;
        default:
            return em_fail(ctx, ETHOSU_MODEL_E_PAYLOAD, "unknown driver action in payload");
        }
    }
    if (streams == 0)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_PAYLOAD, "payload has no command stream");
    }
    return 0;
}
