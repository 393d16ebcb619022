/*
 * fw_main.c - Corstone-300 firmware that runs a batch of CMSIS-NN kernel cases.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * The cases (blobs of fw_pkg/include/cmsis_nn_cases.h, each followed by its expected output)
 * are linked in from a generated source defining cmsis_nn_case_data / cmsis_nn_case_data_size.
 * For every case it prints
 *   CASE index=<i> op=<op> status=<s> mismatches=<m> instructions=<n> scratch=<bytes>
 * (instructions: the kernel call alone, from the platform's counter) and finally a BYOC_RESULT
 * line with path=<mve|dsp|c>. Exit code 0 when every case passed.
 */
#include "byoc_platform.h"

static uint64_t g_instructions;
/* run_case brackets the kernel call alone with these hooks. */
#define CASE_TIMER_START() byoc_counter_start()
#define CASE_TIMER_STOP() (g_instructions = byoc_counter_stop())

#include "cmsis_nn_cases.h"

extern const uint8_t cmsis_nn_case_data[];
extern const uint32_t cmsis_nn_case_data_size;
const char *cmsis_nn_cases_path(void);

#define SCRATCH_BYTES (256 * 1024)
#define OUTPUT_BYTES (256 * 1024)
static uint8_t g_scratch[SCRATCH_BYTES] BYOC_ARENA_ATTR;
static int8_t g_output[OUTPUT_BYTES + CASE_GUARD + 16] BYOC_ARENA_ATTR;

int main(void)
{
    byoc_platform_init();
    uint32_t pos = 0;
    uint32_t index = 0;
    uint32_t failed = 0;
    uint64_t total = 0;
    while (pos + 16 <= cmsis_nn_case_data_size)
    {
        const uint8_t *blob = cmsis_nn_case_data + pos;
        case_reader r;
        if (!case_open(&r, blob) || r.total <= 0 || r.out_bytes > OUTPUT_BYTES)
        {
            byoc_print("CASE_ERROR bad blob\n");
            failed++;
            break;
        }
        int32_t used = 0;
        g_instructions = 0;
        const int32_t status = run_case(blob, g_output, g_scratch, SCRATCH_BYTES, &used);
        int32_t exp_len = 0;
        const int8_t *expected = case_expected(blob, case_sections(r.op), &exp_len);
        uint32_t mismatches = 0;
        if (expected == NULL || exp_len != r.out_bytes)
        {
            mismatches = (uint32_t)r.out_bytes + 1u;
        }
        else
        {
            for (int32_t i = 0; i < exp_len; i++)
            {
                mismatches += g_output[i] != expected[i];
            }
        }
        if (status != 0 || mismatches != 0)
        {
            failed++;
        }
        total += g_instructions;
        byoc_print("CASE index=");
        byoc_print_u64(index);
        byoc_print(" op=");
        byoc_print_i32(r.op);
        byoc_print(" status=");
        byoc_print_i32(status);
        byoc_print(" mismatches=");
        byoc_print_u64(mismatches);
        byoc_print(" instructions=");
        byoc_print_u64(g_instructions);
        byoc_print(" scratch=");
        byoc_print_i32(used);
        byoc_print("\n");
        pos += (uint32_t)r.total;
        index++;
    }
    byoc_result_begin(failed == 0);
    byoc_result_u64("cases", index);
    byoc_result_u64("failed", failed);
    byoc_result_u64("instructions", total);
    byoc_result_str("path", cmsis_nn_cases_path());
    byoc_result_end();
    return failed == 0 ? 0 : 1;
}
