/*
 * arm_depthwise_conv_wrapper_s8.c - s8 depthwise convolution entry point.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Layouts: input [N, H, W, C_IN], filter [1, KH, KW, C_OUT], output [N, OH, OW, C_OUT],
 * C_OUT = C_IN * ch_mult. Scratch: arm_depthwise_conv_wrapper_s8_get_buffer_size() bytes.
 *   ch_mult 1, batch 1, no dilation: arm_depthwise_conv_s8_opt
 *   otherwise (any ch_mult, dilation, batch): arm_depthwise_conv_s8
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

arm_cmsis_nn_status arm_depthwise_conv_wrapper_s8(const cmsis_nn_context *ctx,
                                                  const cmsis_nn_dw_conv_params *dw_conv_params,
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
    if (dw_conv_params->ch_mult == 1 && input_dims->n == 1 && dw_conv_params->dilation.w == 1 &&
        dw_conv_params->dilation.h == 1)
    {
        return arm_depthwise_conv_s8_opt(ctx, dw_conv_params, quant_params, input_dims, input_data, filter_dims,
                                         filter_data, bias_dims, bias_data, output_dims, output_data);
    }
    return arm_depthwise_conv_s8(ctx, dw_conv_params, quant_params, input_dims, input_data, filter_dims,
                                 filter_data, bias_dims, bias_data, output_dims, output_data);
}
