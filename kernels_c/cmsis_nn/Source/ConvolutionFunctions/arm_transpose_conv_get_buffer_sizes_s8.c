/*
 * arm_transpose_conv_get_buffer_sizes_s8.c - scratch sizes of the s8 transpose convolution.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * byoc's kernel needs no scratch; these return Arm CMSIS-NN v7's sizes for the same call so
 * that a memory plan made with either library is valid for both. Arm's library takes a
 * "reverse convolution" (a stride-1 convolution of the zero-upsampled input with the flipped
 * filter) when both strides are <= 2 and C_IN > 16; then ctx holds that convolution's im2col
 * buffer and reverse_conv_ctx the flipped filter; otherwise ctx holds int32 accumulators for
 * max(KH, stride.h) rows of ((W_IN - 1) * stride.w + max(KW, stride.h)) * C_OUT values (Arm's
 * formula, stride.h in the width term included).
 */
#include "arm_nnfunctions.h"

#define BYOC_NN_TCONV_REVERSE_MIN_C_IN 16

static int byoc_nn_tconv_uses_reverse_conv(const cmsis_nn_transpose_conv_params *params, const cmsis_nn_dims *input_dims)
{
    return params->stride.w <= 2 && params->stride.h <= 2 && input_dims->c > BYOC_NN_TCONV_REVERSE_MIN_C_IN;
}

int32_t arm_transpose_conv_s8_get_buffer_size(const cmsis_nn_transpose_conv_params *transpose_conv_params,
                                              const cmsis_nn_dims *input_dims,
                                              const cmsis_nn_dims *filter_dims,
                                              const cmsis_nn_dims *out_dims)
{
    const cmsis_nn_transpose_conv_params *p = transpose_conv_params;
    if (byoc_nn_tconv_uses_reverse_conv(p, input_dims))
    {
        const cmsis_nn_dims upsampled = {
            input_dims->n, input_dims->h * p->stride.h, input_dims->w * p->stride.w, input_dims->c};
        return arm_convolve_s8_get_buffer_size(&upsampled, filter_dims);
    }
    const int32_t row_values =
        ((input_dims->w - 1) * p->stride.w + (filter_dims->w > p->stride.h ? filter_dims->w : p->stride.h)) *
        out_dims->c;
    const int32_t rows = filter_dims->h > p->stride.h ? filter_dims->h : p->stride.h;
    return row_values * rows * (int32_t)sizeof(int32_t);
}

int32_t arm_transpose_conv_s8_get_reverse_conv_buffer_size(const cmsis_nn_transpose_conv_params *transpose_conv_params,
                                                           const cmsis_nn_dims *input_dims,
                                                           const cmsis_nn_dims *filter_dims)
{
    if (byoc_nn_tconv_uses_reverse_conv(transpose_conv_params, input_dims))
    {
        return input_dims->c * filter_dims->w * filter_dims->h * filter_dims->n;
    }
    return 0;
}
