/*
 * arm_depthwise_conv_s8.c - generic s8 depthwise convolution: any channel multiplier, stride,
 * padding, dilation and batch.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input [N, H, W, C_IN], filter [1, KH, KW, C_IN * ch_mult], output [N, OH, OW, C_IN * ch_mult];
 * output channel c_in * ch_mult + m reads input channel c_in. No scratch buffer.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

arm_cmsis_nn_status arm_depthwise_conv_s8(const cmsis_nn_context *ctx,
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
    (void)ctx;
    (void)bias_dims;
#if defined(ARM_MATH_MVEI)
    if (dw_conv_params->ch_mult == 1 && output_dims->c == input_dims->c)
    {
        byoc_nn_depthwise_conv_s8_mve(dw_conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                                     bias_data, output_dims, output_data);
        return ARM_CMSIS_NN_SUCCESS;
    }
#else
    if (dw_conv_params->ch_mult == 1 && output_dims->c == input_dims->c)
    {
        byoc_nn_depthwise_conv_s8_generic(dw_conv_params, quant_params, input_dims, input_data, filter_dims,
                                         filter_data, bias_data, output_dims, output_data);
        return ARM_CMSIS_NN_SUCCESS;
    }
#endif
    if (dw_conv_params->ch_mult > 1 && output_dims->c == input_dims->c * dw_conv_params->ch_mult)
    {
        byoc_nn_depthwise_conv_s8_mult(dw_conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                                      bias_data, output_dims, output_data);
        return ARM_CMSIS_NN_SUCCESS;
    }
    return byoc_nn_depthwise_conv_s8_ref(dw_conv_params, quant_params, input_dims, input_data, filter_dims,
                                        filter_data, bias_data, output_dims, output_data);
}
