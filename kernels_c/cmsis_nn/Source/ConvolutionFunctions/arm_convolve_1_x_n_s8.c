/*
 * arm_convolve_1_x_n_s8.c - convolution of a one-row input with a 1 x KW filter.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Requires input_dims->h == 1, filter_dims->h == 1, dilation.w == 1, no groups. Without padding
 * the input window of every output is contiguous ([KW * C_IN] bytes), so the convolution is a
 * matrix product of overlapping rows with the filter. Scratch (ctx->buf,
 * arm_convolve_1_x_n_s8_get_buffer_size() bytes) holds one zero-point-padded window for the
 * outputs that overlap the padding (Helium); other paths use no scratch.
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

arm_cmsis_nn_status arm_convolve_1_x_n_s8(const cmsis_nn_context *ctx,
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
    if (input_dims->h != 1 || filter_dims->h != 1 || conv_params->dilation.w != 1 ||
        filter_dims->c != input_dims->c)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    return arm_nn_convolve_s8_ref(conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                                  bias_data, output_dims, output_data);
}
