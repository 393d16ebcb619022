/*
 * arm_convolve_get_buffer_sizes_s8.c - scratch-buffer sizes of the s8 convolutions.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * The sizes reproduce Arm CMSIS-NN v7's for every call (checked against Arm's compiled size
 * functions by tests/test_cmsis_nn_kernels.py), so a memory plan made with either library is
 * valid for both. byoc's kernels never need more than these sizes:
 *   Helium  generic: four im2col columns of C_IN*KH*KW int8, each rounded up to 16 bytes.
 *           1xN:     one padded input window (KW*C_IN bytes) fits in the size below.
 *   DSP/C   generic: 2 * C_IN*KH*KW (rounded up to 4) int16 = two q15 im2col columns.
 *   1x1 without padding/dilation: nothing.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

static int32_t round_up(const int32_t x, const int32_t m)
{
    return ((x + m - 1) / m) * m;
}

static int32_t generic_size_mve(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
    const int32_t col = input_dims->c * filter_dims->h * filter_dims->w;
    return 4 * round_up(col, 16);
}

static int32_t generic_size_dsp(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
    const int32_t col = input_dims->c * filter_dims->h * filter_dims->w;
    return 2 * round_up(col, 4) * (int32_t)sizeof(int16_t);
}

/* Helium 1xN: Arm sizes a buffer for the input windows of the left- and right-padded outputs.
 * The output row splits into left-padded, unpadded and right-padded runs; when that split does
 * not cover the row exactly the generic kernel (and size) is used instead. */
static int32_t one_by_n_size_mve(const cmsis_nn_conv_params *conv_params,
                                 const cmsis_nn_dims *input_dims,
                                 const cmsis_nn_dims *filter_dims,
                                 const cmsis_nn_dims *output_dims)
{
    const int32_t ch = input_dims->c;
    const int32_t pad = conv_params->padding.w;
    const int32_t stride = conv_params->stride.w;
    const int32_t k = filter_dims->w;
    const int32_t out_w = output_dims->w;
    const int32_t total_pad = (out_w - 1) * stride + k - input_dims->w;
    const int32_t odd = total_pad % 2; /* C remainder: may be -1 for negative totals */
    const int32_t right_pad = pad + odd;

    const int32_t n_left = pad != 0 ? MAX(1, (pad + stride - 1) / stride) : 0;
    const int32_t n_right = right_pad != 0 ? MAX(1, (right_pad + stride - 1) / stride) : 0;
    const int32_t n_mid = MAX(out_w - n_left - n_right, 0);
    if (n_left + n_mid + n_right != out_w)
    {
        return generic_size_mve(input_dims, filter_dims);
    }
    const int32_t left_bytes = (k + pad) * ch;
    const int32_t right_bytes = (k - 1) * ch + (odd != 0 ? n_right * ch : pad * ch);
    return MAX(left_bytes, right_bytes);
}

static int is_1x1_no_pad(const cmsis_nn_conv_params *p, const cmsis_nn_dims *filter_dims)
{
    return p->padding.w == 0 && p->padding.h == 0 && filter_dims->w == 1 && filter_dims->h == 1 &&
        p->dilation.w == 1 && p->dilation.h == 1;
}

static int is_1_x_n(const cmsis_nn_conv_params *p, const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
    return input_dims->h == 1 && p->dilation.w == 1 && filter_dims->h == 1 &&
        (p->stride.w * input_dims->c) % 4 == 0;
}

int32_t arm_convolve_wrapper_s8_get_buffer_size_mve(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims)
{
    if (is_1x1_no_pad(conv_params, filter_dims))
    {
        return 0;
    }
    if (is_1_x_n(conv_params, input_dims, filter_dims))
    {
        return one_by_n_size_mve(conv_params, input_dims, filter_dims, output_dims);
    }
    return generic_size_mve(input_dims, filter_dims);
}

int32_t arm_convolve_wrapper_s8_get_buffer_size_dsp(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims)
{
    (void)output_dims;
    if (is_1x1_no_pad(conv_params, filter_dims))
    {
        return 0;
    }
    return generic_size_dsp(input_dims, filter_dims);
}

int32_t arm_convolve_wrapper_s8_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                                const cmsis_nn_dims *input_dims,
                                                const cmsis_nn_dims *filter_dims,
                                                const cmsis_nn_dims *output_dims)
{
#if defined(ARM_MATH_MVEI)
    return arm_convolve_wrapper_s8_get_buffer_size_mve(conv_params, input_dims, filter_dims, output_dims);
#else
    return arm_convolve_wrapper_s8_get_buffer_size_dsp(conv_params, input_dims, filter_dims, output_dims);
#endif
}

int32_t arm_convolve_s8_get_buffer_size(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
#if defined(ARM_MATH_MVEI)
    return generic_size_mve(input_dims, filter_dims);
#else
    return generic_size_dsp(input_dims, filter_dims);
#endif
}

int32_t arm_convolve_1x1_s8_fast_get_buffer_size(const cmsis_nn_dims *input_dims)
{
    (void)input_dims;
    return 0;
}

int32_t arm_convolve_1_x_n_s8_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                              const cmsis_nn_dims *input_dims,
                                              const cmsis_nn_dims *filter_dims,
                                              const cmsis_nn_dims *output_dims)
{
#if defined(ARM_MATH_MVEI)
    return one_by_n_size_mve(conv_params, input_dims, filter_dims, output_dims);
#else
    (void)conv_params;
    (void)output_dims;
    return generic_size_dsp(input_dims, filter_dims);
#endif
}
