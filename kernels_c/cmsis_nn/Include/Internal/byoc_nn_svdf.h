/*
 * Internal/byoc_nn_svdf.h - the part of the SVDF kernels that does not depend on the state type.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#ifndef BYOC_NN_SVDF_H
#define BYOC_NN_SVDF_H

#include "arm_nn_math_types.h"
#include "arm_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * SVDF output stage: for every batch b and unit u, bias[u] (0 without a bias) plus the rank
 * time sums time_sums[b * filters + u * rank + r] (int32 wrap-around), requantized
 * (TFLite MultiplyByQuantizedMultiplier), plus output_offset, clamped to
 * [act_min, act_max] and stored as int8 in output[b * units + u]. unit_sums (batches * units
 * int32) holds the sums before the requantization.
 */
void byoc_nn_svdf_output_s8(const int32_t *time_sums,
                            int32_t *unit_sums,
                            const int32_t *bias,
                            int32_t batches,
                            int32_t units,
                            int32_t rank,
                            int32_t multiplier,
                            int32_t shift,
                            int32_t output_offset,
                            int32_t act_min,
                            int32_t act_max,
                            int8_t *output);

/**
 * Checks shared by arm_svdf_s8 and arm_svdf_state_s16_s8: both scratch buffers present, rank
 * >= 1 dividing the filters. Returns ARM_CMSIS_NN_SUCCESS or ARM_CMSIS_NN_ARG_ERROR.
 */
arm_cmsis_nn_status byoc_nn_svdf_check(const cmsis_nn_context *input_ctx,
                                       const cmsis_nn_context *output_ctx,
                                       int32_t rank,
                                       int32_t filters);

#ifdef __cplusplus
}
#endif

#endif /* BYOC_NN_SVDF_H */
