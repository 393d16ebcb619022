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
#include "Internal/byoc_nn_support.h"

#if defined(ARM_MATH_MVEI)

/* Windows inside the input are read in place, four outputs at a time; a window that overlaps
 * the padding is assembled in the scratch buffer (zero point + input) and computed alone. */
static arm_cmsis_nn_status convolve_1_x_n_mve(int8_t *window,
                                              const cmsis_nn_conv_params *conv_params,
                                              const cmsis_nn_per_channel_quant_params *quant_params,
                                              const cmsis_nn_dims *input_dims,
                                              const int8_t *input_data,
                                              const cmsis_nn_dims *filter_dims,
                                              const int8_t *filter_data,
                                              const int32_t *bias_data,
                                              const cmsis_nn_dims *output_dims,
                                              int8_t *output_data)
{
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t k_w = filter_dims->w;
    const int32_t out_w = output_dims->w;
    const int32_t out_c = output_dims->c;
    const int32_t k = k_w * in_c;
    const int8_t zp = (int8_t)(-conv_params->input_offset);

    for (int32_t b = 0; b < input_dims->n; b++)
    {
        const int8_t *in = input_data + b * in_w * in_c;
        int8_t *out = output_data + b * out_w * out_c;
        const int8_t *rows[4];
        int32_t pending = 0;
        int32_t first = 0;
        for (int32_t ox = 0; ox <= out_w; ox++)
        {
            const int32_t x0 = ox * conv_params->stride.w - conv_params->padding.w;
            const int inside = ox < out_w && x0 >= 0 && x0 + k_w <= in_w;
            if (inside)
            {
                if (pending == 0)
                {
                    first = ox;
                }
                rows[pending++] = in + x0 * in_c;
            }
            if (pending == 4 || (pending > 0 && !inside))
            {
                for (int32_t i = pending; i < 4; i++)
                {
                    rows[i] = rows[0];
                }
                byoc_nn_mat_mult_4rows_s8_mve(rows, pending, filter_data, out_c, k, bias_data,
                                             quant_params->multiplier, quant_params->shift, 1,
                                             conv_params->input_offset, conv_params->output_offset,
                                             conv_params->activation.min, conv_params->activation.max,
                                             out + first * out_c, out_c);
                pending = 0;
            }
            if (!inside && ox < out_w)
            {
                const int32_t left = MIN(MAX(0, -x0), k_w);
                const int32_t right = MIN(MAX(0, x0 + k_w - in_w), k_w - left);
                const int32_t mid = k_w - left - right;
                byoc_nn_fill_s8_mve(window, zp, left * in_c);
                byoc_nn_copy_s8_mve(window + left * in_c, in + (x0 + left) * in_c, mid * in_c);
                byoc_nn_fill_s8_mve(window + (left + mid) * in_c, zp, right * in_c);
                const int8_t *one[4] = {window, window, window, window};
                byoc_nn_mat_mult_4rows_s8_mve(one, 1, filter_data, out_c, k, bias_data, quant_params->multiplier,
                                             quant_params->shift, 1, conv_params->input_offset,
                                             conv_params->output_offset, conv_params->activation.min,
                                             conv_params->activation.max, out + ox * out_c, out_c);
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}

#endif

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
    (void)bias_dims;
    if (input_dims->h != 1 || filter_dims->h != 1 || conv_params->dilation.w != 1 ||
        filter_dims->c != input_dims->c)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
#if defined(ARM_MATH_MVEI)
    if (ctx != NULL && ctx->buf != NULL)
    {
        return convolve_1_x_n_mve((int8_t *)ctx->buf, conv_params, quant_params, input_dims, input_data, filter_dims,
                                  filter_data, bias_data, output_dims, output_data);
    }
#else
    if (ctx != NULL && ctx->buf != NULL)
    {
        /* DSP / C: the scratch has the generic size, use the im2col kernel. */
        return arm_convolve_s8(ctx, conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                               bias_dims, bias_data, NULL, output_dims, output_data);
    }
#endif
    return byoc_nn_convolve_s8_ref(conv_params, quant_params, input_dims, input_data, filter_dims, filter_data,
                                  bias_data, output_dims, output_data);
}
