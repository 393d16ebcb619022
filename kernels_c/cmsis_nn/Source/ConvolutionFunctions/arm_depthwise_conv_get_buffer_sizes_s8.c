/*
 * arm_depthwise_conv_get_buffer_sizes_s8.c - scratch-buffer sizes of the s8 depthwise
 * convolutions.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * The sizes reproduce Arm CMSIS-NN v7's for every call (checked against Arm's compiled size
 * functions by the tests) so that a memory plan is valid for both libraries. byoc's depthwise
 * kernels use no scratch memory at all, so any size is enough for them.
 *   Helium: ch_mult 1, batch 1, no dilation: 4 * 124 * KH * KW bytes; one input channel with
 *           ch_mult > 1 (a convolution in disguise): the convolution's size + KH*KW*C_OUT.
 *   DSP:    ch_mult 1, batch 1, no dilation and not (3x3 with padding <= 1): 2 * C_IN*KH*KW.
 *   C:      0.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

#define DW_MVE_CH_BLOCK 124

static int is_opt_case(const cmsis_nn_dw_conv_params *p, const cmsis_nn_dims *input_dims)
{
    return p->ch_mult == 1 && input_dims->n == 1 && p->dilation.w == 1 && p->dilation.h == 1;
}

int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size_mve(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                          const cmsis_nn_dims *input_dims,
                                                          const cmsis_nn_dims *filter_dims,
                                                          const cmsis_nn_dims *output_dims)
{
    if (is_opt_case(dw_conv_params, input_dims))
    {
        return 4 * DW_MVE_CH_BLOCK * filter_dims->w * filter_dims->h;
    }
    if (input_dims->c == 1 && dw_conv_params->ch_mult > 1)
    {
        const cmsis_nn_conv_params conv = {dw_conv_params->input_offset,
                                           dw_conv_params->output_offset,
                                           dw_conv_params->stride,
                                           dw_conv_params->padding,
                                           dw_conv_params->dilation,
                                           dw_conv_params->activation};
        const cmsis_nn_dims conv_filter = {output_dims->c, filter_dims->h, filter_dims->w, 1};
        return arm_convolve_wrapper_s8_get_buffer_size_mve(&conv, input_dims, &conv_filter, output_dims) +
            filter_dims->h * filter_dims->w * output_dims->c;
    }
    return 0;
}

int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                          const cmsis_nn_dims *input_dims,
                                                          const cmsis_nn_dims *filter_dims,
                                                          const cmsis_nn_dims *output_dims)
{
    (void)output_dims;
    if (!is_opt_case(dw_conv_params, input_dims))
    {
        return 0;
    }
    if (filter_dims->w == 3 && filter_dims->h == 3 && dw_conv_params->padding.w <= 1 &&
        dw_conv_params->padding.h <= 1)
    {
        return 0;
    }
    return input_dims->c * filter_dims->w * filter_dims->h * (int32_t)sizeof(int16_t);
}

int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                      const cmsis_nn_dims *input_dims,
                                                      const cmsis_nn_dims *filter_dims,
                                                      const cmsis_nn_dims *output_dims)
{
#if defined(ARM_MATH_MVEI)
    return arm_depthwise_conv_wrapper_s8_get_buffer_size_mve(dw_conv_params, input_dims, filter_dims, output_dims);
#elif defined(ARM_MATH_DSP)
    return arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp(dw_conv_params, input_dims, filter_dims, output_dims);
#else
    (void)dw_conv_params;
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
#endif
}

int32_t arm_depthwise_conv_s8_opt_get_buffer_size(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
#if defined(ARM_MATH_MVEI)
    (void)input_dims;
    return 4 * DW_MVE_CH_BLOCK * filter_dims->w * filter_dims->h;
#elif defined(ARM_MATH_DSP)
    return input_dims->c * filter_dims->w * filter_dims->h * (int32_t)sizeof(int16_t);
#else
    (void)input_dims;
    (void)filter_dims;
    return 0;
#endif
}
