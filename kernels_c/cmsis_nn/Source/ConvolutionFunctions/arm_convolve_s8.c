/*
 * arm_convolve_s8.c - generic s8 convolution.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Input [N, H, W, C_IN], filter [C_OUT, KH, KW, C_IN / groups], output [N, OH, OW, C_OUT];
 * any stride, padding, dilation; grouped convolution when filter_dims->c < input_dims->c.
 * Scratch (ctx->buf, arm_convolve_s8_get_buffer_size() bytes):
 *   Helium: four int8 im2col columns, each rounded up to 16 bytes; padding positions hold the
 *           input zero point (-input_offset) so that they contribute nothing.
 *   DSP:    two int16 im2col columns with the input offset already added.
 *   C:      unused.
 * Grouped convolutions use the reference loop on every path.
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

arm_cmsis_nn_status arm_convolve_s8(const cmsis_nn_context *ctx,
                                    const cmsis_nn_conv_params *conv_params,
                                    const cmsis_nn_per_channel_quant_params *quant_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int8_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const int8_t *filter_data,
                                    const cmsis_nn_dims *bias_dims,
                                    const int32_t *bias_data,
                                    const cmsis_nn_dims *upscale_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int8_t *output_data)
{
    (void)ctx;
    (void)bias_dims;
    if (upscale_dims != NULL && (upscale_dims->h != 1 || upscale_dims->w != 1))
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    return arm_nn_convolve_s8_ref(conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                                  bias_data, output_dims, output_data);
}
