/*
 * arm_depthwise_conv_s8_opt.c - s8 depthwise convolution with ch_mult 1, no dilation, batch 1.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input [1, H, W, C], filter [1, KH, KW, C], output [1, OH, OW, C]. Any stride and padding.
 * byoc's implementation needs no scratch memory (ctx may be NULL) although the size function
 * reports Arm's size for compatibility.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

arm_cmsis_nn_status arm_depthwise_conv_s8_opt(const cmsis_nn_context *ctx,
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
    if (dw_conv_params->ch_mult != 1 || input_dims->n != 1 || dw_conv_params->dilation.w != 1 ||
        dw_conv_params->dilation.h != 1 || output_dims->c != input_dims->c)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
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
    return byoc_nn_depthwise_conv_s8_ref(dw_conv_params, quant_params, input_dims, input_data, filter_dims,
                                        filter_data, bias_data, output_dims, output_data);
}
