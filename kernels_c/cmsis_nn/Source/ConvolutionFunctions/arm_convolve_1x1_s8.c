/*
 * arm_convolve_1x1_s8.c - 1x1 convolution with any stride, no padding, no dilation.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Each output row is a matrix product of every stride.w-th input pixel of input row
 * oy * stride.h ([OW, C_IN], row stride stride.w * C_IN) with the filter [C_OUT, C_IN].
 * No scratch buffer (ctx may be NULL).
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

arm_cmsis_nn_status arm_convolve_1x1_s8(const cmsis_nn_context *ctx,
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
        conv_params->padding.w != 0 || conv_params->padding.h != 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int32_t in_c = input_dims->c;
    const int32_t out_c = output_dims->c;
    for (int32_t b = 0; b < input_dims->n; b++)
    {
        for (int32_t oy = 0; oy < output_dims->h; oy++)
        {
            const int8_t *row = input_data + ((b * input_dims->h + oy * conv_params->stride.h) * input_dims->w) * in_c;
            int8_t *out = output_data + ((b * output_dims->h + oy) * output_dims->w) * out_c;
            arm_cmsis_nn_status status = byoc_nn_mat_mult_s8(
                row, output_dims->w, conv_params->stride.w * in_c, filter_data, out_c, in_c, bias_data, NULL,
                quant_params->multiplier, quant_params->shift, 1, conv_params->input_offset, 0,
                conv_params->output_offset, conv_params->activation.min, conv_params->activation.max, out, out_c);
            if (status != ARM_CMSIS_NN_SUCCESS)
            {
                return status;
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
