/*
 * fw_main.c - Corstone-300 firmware that runs Vela payloads through the Ethos-U driver API
 * (byoc's Ethos-U55 model; or byoc's register-level driver / Arm's driver on the emulated
 * Ethos-U55 device, an FVP or hardware).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * The cases (ethosu_fw_cases.h) are linked in from a generated source defining
 * ethosu_case_data / ethosu_case_data_size. For every case it prints
 *   ETHOSU_CASE index=<i> rc=<rc> expected_rc=<rc> mismatches=<m> instructions=<n> [ops=<n>]
 * (instructions: the ethosu_invoke_v3 call alone) and finally a BYOC_RESULT line.
 * Exit code 0 when every case passed.
 */
#include <string.h>

#include "byoc_platform.h"
#include "ethosu_driver.h"
#include "ethosu_fw_cases.h"
/* byoc's model reports operation counts; Arm's driver (ETHOSU_DRIVER_PATH) has no such header. */
#if defined(__has_include)
#if __has_include("ethosu_model.h")
#include "ethosu_model.h"
#define FW_HAVE_MODEL 1
#endif
#endif

extern const uint8_t ethosu_case_data[];
extern const uint32_t ethosu_case_data_size;

#define SCRATCH_BYTES (1024u * 1024u)
static uint8_t g_scratch[SCRATCH_BYTES] BYOC_ARENA_ATTR;
static struct ethosu_driver g_drv;

int main(void)
{
    byoc_platform_init();
    /* Secure and privileged like the firmware's CPU (the NPU's accesses are then Secure too). */
    if (ethosu_init(&g_drv, (void *)BYOC_NPU_BASE_ADDRESS, NULL, 0, 1, 1) != 0)
    {
        byoc_print("ETHOSU_INIT_FAILED\n");
        return 1;
    }
    byoc_npu_attach(&g_drv);
    uint32_t pos = 0, index = 0, failed = 0;
    uint64_t total = 0;
    while (pos + 32u <= ethosu_case_data_size)
    {
        ethosu_fw_case c;
        if (ethosu_fw_case_open(ethosu_case_data + pos, ethosu_case_data_size - pos, &c) != 0 ||
            c.scratch_bytes > SCRATCH_BYTES)
        {
            byoc_print("ETHOSU_CASE_ERROR bad blob\n");
            failed++;
            break;
        }
        memset(g_scratch, 0x5A, c.scratch_bytes);
        for (uint32_t i = 0; i < c.n_inputs; i++)
        {
            memcpy(g_scratch + c.inputs[i].offset, c.inputs[i].data, c.inputs[i].bytes);
        }
        uint64_t base[3] = {(uint64_t)(uintptr_t)c.read_only, (uint64_t)(uintptr_t)g_scratch,
                            (uint64_t)(uintptr_t)g_scratch};
        size_t sizes[3] = {c.read_only_bytes, c.scratch_bytes, c.scratch_bytes};
        struct ethosu_driver *drv = ethosu_reserve_driver();
        byoc_counter_start();
        const int rc = ethosu_invoke_v3(drv, c.payload, (int)c.payload_bytes, base, sizes, 3, NULL);
        const uint64_t n = byoc_counter_stop();
        ethosu_release_driver(drv);
        uint32_t mismatches = 0;
        if (rc == 0)
        {
            for (uint32_t i = 0; i < c.n_outputs; i++)
            {
                mismatches += byoc_compare_i8("out", (const int8_t *)(g_scratch + c.outputs[i].offset),
                                              (const int8_t *)c.outputs[i].data, c.outputs[i].bytes, 0);
            }
        }
        const int ok = (c.expected_rc == 0) ? (rc == 0 && mismatches == 0) : (rc < 0);
        failed += ok ? 0u : 1u;
        total += n;
        byoc_print("ETHOSU_CASE index=");
        byoc_print_u64(index);
        byoc_print(" rc=");
        byoc_print_i32(rc);
        byoc_print(" expected_rc=");
        byoc_print_i32(c.expected_rc);
        byoc_print(" mismatches=");
        byoc_print_u64(mismatches);
        byoc_print(" instructions=");
        byoc_print_u64(n);
#ifdef FW_HAVE_MODEL
        byoc_print(" ops=");
        byoc_print_u64(ethosu_model_last_op_count(drv));
#endif
        byoc_print("\n");
        pos += c.total;
        index++;
    }
    byoc_result_begin(failed == 0 && index > 0);
    byoc_result_u64("mismatches", failed);
    byoc_result_u64("instructions", total);
    byoc_result_u64("cases", index);
    byoc_result_end();
    return failed == 0 && index > 0 ? 0 : 1;
}
