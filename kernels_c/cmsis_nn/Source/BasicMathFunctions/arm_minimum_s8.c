/*
 * arm_minimum_s8.c - s8 elementwise minimum with broadcasting (TFLite MINIMUM).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * out = the smaller of the two inputs, compared as int8 (TFLite requires both inputs and the output
 * to share one scale and zero point, so no requantization). NHWC dimensions of size 1 in an
 * input broadcast against the output. No scratch (ctx unused).
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_minmax.h"

arm_cmsis_nn_status arm_minimum_s8(const cmsis_nn_context *ctx,
                                   const int8_t *input_1_data,
                                   const cmsis_nn_dims *input_1_dims,
                                   const int8_t *input_2_data,
                                   const cmsis_nn_dims *input_2_dims,
                                   int8_t *output_data,
                                   const cmsis_nn_dims *output_dims)
{
    (void)ctx;
    return byoc_nn_minmax_s8(input_1_data, input_1_dims, input_2_data, input_2_dims, output_data, output_dims, 0);
}
