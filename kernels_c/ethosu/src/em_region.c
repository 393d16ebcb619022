/*
 * em_region.c - NPU regions: region i is the memory [base_addr[i], base_addr[i] +
 * base_addr_size[i]) given to ethosu_invoke_v3. Every access the model makes is checked here
 * first; anything outside is a driver error (ETHOSU_MODEL_E_REGION), never a memory access.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#include "em_internal.h"

uint8_t *em_region_span(em_ctx_t *ctx, uint32_t region, int64_t offset, int64_t len, const char *what)
{
    if (region >= (uint32_t)ctx->regions.count)
    {
        em_fail(ctx, ETHOSU_MODEL_E_REGION, "command uses a region without a base address");
        return NULL;
    }
    uint8_t *base = ctx->regions.ptr[region];
    const uint64_t size = (uint64_t)ctx->regions.size[region];
    if (base == NULL)
    {
        em_fail(ctx, ETHOSU_MODEL_E_REGION, "command uses a region whose base address is NULL");
        return NULL;
    }
    if (offset < 0 || len < 0 || (uint64_t)offset > size || (uint64_t)len > size - (uint64_t)offset)
    {
        em_fail(ctx, ETHOSU_MODEL_E_REGION, what != NULL ? what : "access outside the region's base_addr_size");
        return NULL;
    }
    return base + offset;
}

int em_check_work(em_ctx_t *ctx, uint64_t outputs, uint64_t per_output)
{
    if (per_output != 0u && outputs > ETHOSU_MODEL_MAX_OP_WORK / per_output)
    {
        return em_fail(ctx, ETHOSU_MODEL_E_UNSUPPORTED, "operation exceeds the model's work limit");
    }
    return 0;
}
