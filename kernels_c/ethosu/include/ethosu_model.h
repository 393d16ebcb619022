/*
 * ethosu_model.h - extensions of byoc's functional Ethos-U55 model (not part of Arm's driver
 * API; code that must also link against Arm's driver should not need them).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#ifndef ETHOSU_MODEL_H
#define ETHOSU_MODEL_H

#include "ethosu_driver.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes returned by ethosu_invoke_v3 (all negative). */
#define ETHOSU_MODEL_E_ARGUMENT (-1)    /* NULL pointers, negative sizes, driver not initialised */
#define ETHOSU_MODEL_E_PAYLOAD (-2)     /* not a COP1 payload, truncated, bad driver action */
#define ETHOSU_MODEL_E_CONFIG (-3)      /* payload compiled for an NPU this model does not emulate */
#define ETHOSU_MODEL_E_COMMAND (-4)     /* unknown opcode, malformed command, no STOP */
#define ETHOSU_MODEL_E_REGION (-5)      /* region without base address or access out of bounds */
#define ETHOSU_MODEL_E_UNSUPPORTED (-6) /* register configuration the model does not implement */
#define ETHOSU_MODEL_E_WEIGHTS (-7)     /* malformed compressed weight stream */
#define ETHOSU_MODEL_E_WATCHDOG (-8)    /* the stream's work exceeds the work limit (NPU device watchdog) */

/*
 * Emulate a fixed NPU configuration (MACs per cycle: 32, 64, 128 or 256), rejecting payloads
 * compiled for another one as the real driver does. 0 (the default) emulates whatever
 * Ethos-U55 configuration the payload was compiled for. Returns 0, or -1 for a bad value.
 */
int ethosu_model_set_macs(struct ethosu_driver *drv, uint32_t macs);

/* Last error of the driver: code (0 = none), message and payload byte offset of the command. */
int ethosu_model_last_error(const struct ethosu_driver *drv);
const char *ethosu_model_last_error_message(const struct ethosu_driver *drv);
uint32_t ethosu_model_last_error_offset(const struct ethosu_driver *drv);

/* NPU operations (CONV, DEPTHWISE, POOL, ELEMENTWISE, DMA) executed by the last invoke. */
uint64_t ethosu_model_last_op_count(const struct ethosu_driver *drv);

/* Estimated NPU cycles of the last invoke (a throughput estimate, see src/em_account.c). */
uint64_t ethosu_model_last_cycles(const struct ethosu_driver *drv);

/* Name of an error code. */
const char *ethosu_model_error_name(int code);

#ifdef __cplusplus
}
#endif

#endif /* ETHOSU_MODEL_H */
