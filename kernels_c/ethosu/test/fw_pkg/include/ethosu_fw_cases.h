/*
 * ethosu_fw_cases.h - case blobs of the Ethos-U55 model firmware test.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * A case is a Vela payload, its read-only blob, the scratch size, the inputs to place in the
 * scratch area and the expected outputs (TFLite Micro's results on the original model), or an
 * expected negative driver return code. Layout (little-endian 32-bit words, sections 16-byte
 * aligned):
 *   header: magic 'EUC1', total bytes, payload bytes, read-only bytes, scratch bytes,
 *           expected return code, input count, output count
 *   payload, read-only blob, then per input and output: offset, bytes, data
 */
#ifndef ETHOSU_FW_CASES_H
#define ETHOSU_FW_CASES_H

#include <stdint.h>

#define ETHOSU_FW_CASE_MAGIC 0x31435545u /* "EUC1" */

typedef struct
{
    uint32_t offset; /* in the scratch area */
    uint32_t bytes;
    const uint8_t *data;
} ethosu_fw_tensor;

typedef struct
{
    uint32_t total;
    const uint8_t *payload;
    uint32_t payload_bytes;
    const uint8_t *read_only;
    uint32_t read_only_bytes;
    uint32_t scratch_bytes;
    int32_t expected_rc;
    uint32_t n_inputs, n_outputs;
    ethosu_fw_tensor inputs[4];
    ethosu_fw_tensor outputs[4];
} ethosu_fw_case;

/* Parse the case at blob (16-byte aligned); 0 on success, -1 for a bad blob. */
int ethosu_fw_case_open(const uint8_t *blob, uint32_t available, ethosu_fw_case *c);

#endif /* ETHOSU_FW_CASES_H */
