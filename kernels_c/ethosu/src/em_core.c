/*
 * em_core.c - the NPU side of the model (ethosu_model_core.h), error recording and reporting.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "em_internal.h"
#include "ethosu_model_core.h"

int em_fail(em_ctx_t *ctx, int code, const char *msg)
{
    struct ethosu_driver *drv = ctx->drv;
    if (drv->model_error == 0)
    {
        drv->model_error = code;
        drv->model_error_msg = msg;
        drv->model_error_pos = ctx->cmd_pos;
    }
    return code;
}

/* ------------------------------------------------------------------ error reporting */
int ethosu_model_last_error(const struct ethosu_driver *drv)
{
    return drv != NULL ? drv->model_error : ETHOSU_MODEL_E_ARGUMENT;
}

const char *ethosu_model_last_error_message(const struct ethosu_driver *drv)
{
    if (drv == NULL)
    {
        return "no driver";
    }
    if (drv->model_error == 0)
    {
        return "no error";
    }
    return drv->model_error_msg != NULL ? drv->model_error_msg : ethosu_model_error_name(drv->model_error);
}

uint32_t ethosu_model_last_error_offset(const struct ethosu_driver *drv)
{
    return drv != NULL ? drv->model_error_pos : 0;
}

uint64_t ethosu_model_last_op_count(const struct ethosu_driver *drv)
{
    return drv != NULL ? drv->model_ops : 0;
}

uint64_t ethosu_model_last_cycles(const struct ethosu_driver *drv)
{
    return drv != NULL ? drv->model_cycles : 0;
}

const char *ethosu_model_error_name(int code)
{
    switch (code)
    {
    case 0:
        return "ok";
    case ETHOSU_MODEL_E_ARGUMENT:
        return "bad argument";
    case ETHOSU_MODEL_E_PAYLOAD:
        return "bad payload";
    case ETHOSU_MODEL_E_CONFIG:
        return "unsupported NPU configuration";
    case ETHOSU_MODEL_E_COMMAND:
        return "bad command";
    case ETHOSU_MODEL_E_REGION:
        return "region access out of bounds";
    case ETHOSU_MODEL_E_UNSUPPORTED:
        return "unsupported operation";
    case ETHOSU_MODEL_E_WEIGHTS:
        return "bad weight stream";
    case ETHOSU_MODEL_E_WATCHDOG:
        return "work limit exceeded (watchdog)";
    default:
        return "unknown error";
    }
}

/* ------------------------------------------------------------------ NPU core */
uint32_t ethosu_model_core_config(uint32_t macs)
{
    /* bits 0-3 log2(MACs per cycle), 4-7 command stream version 0, 8-15 SHRAM KiB, 28-31 product 0 */
    static const uint32_t shram_kib[4] = {16u, 16u, 24u, 48u};
    for (uint32_t log2 = 5u; log2 <= 8u; log2++)
    {
        if (macs == (1u << log2))
        {
            return log2 | (shram_kib[log2 - 5u] << 8);
        }
    }
    return 0u;
}

int ethosu_model_core_run(struct ethosu_driver *state, uint32_t macs, const uint32_t *cmds, uint32_t ncmds,
                          uint8_t *const region_ptr[], const size_t region_size[], int num_regions,
                          uint64_t work_limit, struct ethosu_model_core_result *result)
{
    em_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    memset(result, 0, sizeof(*result));
    ctx.drv = state;
    ctx.work_limit = work_limit;
    state->model_error = 0;
    state->model_error_msg = NULL;
    state->model_error_pos = 0;
    state->model_macs = 0;
    int rc;
    if (cmds == NULL || num_regions < 0 || num_regions > ETHOSU_BASEP_INDEXES)
    {
        rc = em_fail(&ctx, ETHOSU_MODEL_E_ARGUMENT, "bad command stream or region array");
    }
    else
    {
        ctx.regions.count = num_regions;
        for (int i = 0; i < num_regions; i++)
        {
            ctx.regions.ptr[i] = region_ptr[i];
            ctx.regions.size[i] = region_ptr[i] != NULL ? region_size[i] : 0u;
        }
        rc = em_configure(&ctx, ethosu_model_core_config(macs));
        if (rc == 0)
        {
            rc = em_run_commands(&ctx, cmds, ncmds, 0u);
        }
    }
    result->error = rc < 0 ? state->model_error : 0;
    result->message = rc < 0 ? ethosu_model_last_error_message(state) : "no error";
    result->error_offset = rc < 0 ? state->model_error_pos : 0u;
    result->ops = ctx.ops;
    result->work = ctx.work;
    result->cycles = ctx.cycles;
    return rc < 0 ? result->error : 0;
}
