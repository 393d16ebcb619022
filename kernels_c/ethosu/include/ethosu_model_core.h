/*
 * ethosu_model_core.h - the NPU side of byoc's functional Ethos-U55 model, without the driver:
 * what a device model (byoc's QEMU Ethos-U55, fvp/qemu/ethosu55.c) calls to execute a command
 * stream the way the hardware does once the driver has started it (QBASE/QSIZE, BASEP).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#ifndef ETHOSU_MODEL_CORE_H
#define ETHOSU_MODEL_CORE_H

#include "ethosu_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Outcome of one command stream. */
struct ethosu_model_core_result
{
    int error;             /* 0, or ETHOSU_MODEL_E_* */
    const char *message;   /* what went wrong ("no error" on success) */
    uint32_t error_offset; /* byte offset in the command stream of the failing command */
    uint64_t ops;          /* operations executed (CONV, DEPTHWISE, POOL, ELEMENTWISE, DMA) */
    uint64_t work;         /* work units executed (MACs, kernel elements, elements, bytes) */
    uint64_t cycles;       /* estimated NPU cycles (see em_account.c) */
};

/*
 * Execute the register command stream cmds[0..ncmds) (raw words, no COP1 payload) on an
 * Ethos-U55 with `macs` MACs per cycle (32, 64, 128, 256), with NPU region i =
 * [region_ptr[i], region_ptr[i] + region_size[i]) (host pointers; NULL/0 for a region that
 * cannot be accessed). `state` is the NPU's internal memory (SHRAM LUTs, accumulators): keep it
 * across calls like the hardware keeps its SHRAM. work_limit bounds the total work (0: none).
 * Returns 0 or the negative error also stored in *result.
 */
int ethosu_model_core_run(struct ethosu_driver *state, uint32_t macs, const uint32_t *cmds, uint32_t ncmds,
                          uint8_t *const region_ptr[], const size_t region_size[], int num_regions,
                          uint64_t work_limit, struct ethosu_model_core_result *result);

/* Value of the CONFIG register of an Ethos-U55 with `macs` MACs per cycle (the config word a
 * Vela payload carries for that configuration), or 0 for an unsupported value. */
uint32_t ethosu_model_core_config(uint32_t macs);

#ifdef __cplusplus
}
#endif

#endif /* ETHOSU_MODEL_CORE_H */
