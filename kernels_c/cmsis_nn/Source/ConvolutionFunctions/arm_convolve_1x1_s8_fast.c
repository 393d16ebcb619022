/*
 * arm_convolve_1x1_s8_fast.c - 1x1 convolution, stride 1, no padding, no dilation.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * The input pixels [N*H*W, C_IN] multiply the filter [C_OUT, C_IN]: one matrix product
 * (byoc_nn_mat_mult_s8). No scratch buffer (ctx may be NULL).
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

arm_cmsis_nn_status arm_convolve_1x1_s8_fast(const cmsis_nn_context *ctx,
                                             const cmsis_nn_conv_params *conv_params,
                                             const cmsis_nn_per_channel_quant_params *quant_params,
                                             const cmsis_nn_dims *input_dims,
                                             const int8_t *input_data,
                                             const cmsis_nn_dims *filter_dims,
                                             const int8_t *filter_data,
                                             const cmsis_nn_dims *bias_dims,
                                             const int32_t *bias_data,
                                             const cmsis_nn_dims *output_dims,
                                             int8_t *output_data)
{
    (void)ctx;
    (void)bias_dims;
    if (filter_dims->c != input_dims->c || filter_dims->w != 1 || filter_dims->h != 1 ||
        conv_params->padding.w != 0 || conv_params->padding.h != 0 || conv_params->stride.w != 1 ||
        conv_params->stride.h != 1)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int32_t rows = input_dims->n * input_dims->h * input_dims->w;
    return byoc_nn_mat_mult_s8(input_data, rows, input_dims->c, filter_data, output_dims->c, input_dims->c,
                              bias_data, NULL, quant_params->multiplier, quant_params->shift, 1,
                              conv_params->input_offset, 0, conv_params->output_offset,
                              conv_params->activation.min, conv_params->activation.max, output_data,
                              output_dims->c);
}
