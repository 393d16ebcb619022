/*
 * arm_fully_connected_s16.c - s16 fully connected (TFLite FULLY_CONNECTED 16x8).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Per-tensor quantization, 64-bit accumulation, int64 bias, TFLite's int64 requantization.
 * Helium / DSP paths (input and filter offsets 0, as TFLite's 16x8 quantization has): exact
 * 64-bit dot products, four output rows per pass over the input (VMLALDAV on weights widened
 * by VLDRB.S16) or four (SMLAD on SXTB16 weight pairs and regrouped int16 input pairs into exact
 * 32-bit partial sums), or
 * four on the portable path (32-bit partial sums of up to 256 products, exact, added to 64 bits).
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support_s16.h"

arm_cmsis_nn_status arm_fully_connected_s16(const cmsis_nn_context *ctx,
                                            const cmsis_nn_fc_params *fc_params,
                                            const cmsis_nn_per_tensor_quant_params *quant_params,
                                            const cmsis_nn_dims *input_dims,
                                            const int16_t *input_data,
                                            const cmsis_nn_dims *filter_dims,
                                            const int8_t *filter_data,
                                            const cmsis_nn_dims *bias_dims,
                                            const int64_t *bias_data,
                                            const cmsis_nn_dims *output_dims,
                                            int16_t *output_data)
{
    (void)ctx;
    (void)bias_dims;
    const int32_t depth = filter_dims->n;
    const int32_t out_c = output_dims->c;
    const int32_t batches = input_dims->n;
    const int32_t in_offset = fc_params->input_offset;
    const int32_t w_offset = fc_params->filter_offset;
    const int32_t out_offset = fc_params->output_offset;
    const int32_t act_min = fc_params->activation.min, act_max = fc_params->activation.max;

    if (in_offset == 0 && w_offset == 0)
    {
        const int32_t mult = quant_params->multiplier, shift = quant_params->shift;
        for (int32_t b = 0; b < batches; b++)
        {
            const int16_t *in = input_data + (int64_t)b * depth;
            int16_t *out = output_data + (int64_t)b * out_c;
            int32_t o = 0;
    #if defined(ARM_MATH_MVEI)
            for (; o <= out_c - 4; o += 4)
            {
                int64_t acc[4];
                byoc_nn_dot4_s16_s8_mve(in, filter_data + (int64_t)o * depth, depth, depth, acc);
                for (int32_t i = 0; i < 4; i++)
                {
                    out[o + i] = byoc_nn_finish_s16(acc[i], bias_data, o + i, mult, shift, out_offset, act_min, act_max);
                }
            }
            for (; o < out_c; o++)
            {
                const int64_t acc = byoc_nn_dot1_s16_s8_mve(in, filter_data + (int64_t)o * depth, depth);
                out[o] = byoc_nn_finish_s16(acc, bias_data, o, mult, shift, out_offset, act_min, act_max);
            }
    #elif defined(ARM_MATH_DSP)
            for (; o <= out_c - 4; o += 4)
            {
                int64_t acc[4];
                byoc_nn_dot4_s16_s8_dsp(in, filter_data + (int64_t)o * depth, depth, depth, acc);
                for (int32_t i = 0; i < 4; i++)
                {
                    out[o + i] = byoc_nn_finish_s16(acc[i], bias_data, o + i, mult, shift, out_offset, act_min, act_max);
                }
            }
            for (; o <= out_c - 2; o += 2)
            {
                int64_t acc[2];
                byoc_nn_dot2_s16_s8_dsp(in, filter_data + (int64_t)o * depth, depth, depth, acc);
                out[o] = byoc_nn_finish_s16(acc[0], bias_data, o, mult, shift, out_offset, act_min, act_max);
                out[o + 1] = byoc_nn_finish_s16(acc[1], bias_data, o + 1, mult, shift, out_offset, act_min, act_max);
            }
            for (; o < out_c; o++)
            {
                const int64_t acc = byoc_nn_dot1_s16_s8_dsp(in, filter_data + (int64_t)o * depth, depth);
                out[o] = byoc_nn_finish_s16(acc, bias_data, o, mult, shift, out_offset, act_min, act_max);
            }
    #else
            for (; o <= out_c - 4; o += 4)
            {
                int64_t acc[4];
                byoc_nn_dot4_s16_s8_c(in, filter_data + (int64_t)o * depth, depth, depth, acc);
                for (int32_t i = 0; i < 4; i++)
                {
                    out[o + i] = byoc_nn_finish_s16(acc[i], bias_data, o + i, mult, shift, out_offset, act_min, act_max);
                }
            }
            for (; o < out_c; o++)
            {
                const int64_t acc = byoc_nn_dot1_s16_s8_c(in, filter_data + (int64_t)o * depth, depth);
                out[o] = byoc_nn_finish_s16(acc, bias_data, o, mult, shift, out_offset, act_min, act_max);
            }
    #endif
        }
        return ARM_CMSIS_NN_SUCCESS;
    }

    for (int32_t b = 0; b < batches; b++)
    {
        const int16_t *in = input_data + (int64_t)b * depth;
        for (int32_t o = 0; o < out_c; o++)
        {
            const int8_t *w = filter_data + (int64_t)o * depth;
            int64_t acc = 0;
            for (int32_t j = 0; j < depth; j++)
            {
                acc += (int64_t)(in[j] + in_offset) * (w[j] + w_offset);
            }
            if (bias_data != NULL)
            {
                acc += bias_data[o];
            }
            int32_t res = byoc_nn_requantize_s64(acc, quant_params->multiplier, quant_params->shift);
            res += out_offset;
            res = MAX(res, act_min);
            res = MIN(res, act_max);
            output_data[(int64_t)b * out_c + o] = (int16_t)res;
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}

int32_t arm_fully_connected_s16_get_buffer_size(const cmsis_nn_dims *filter_dims)
{
    (void)filter_dims;
    return 0;
}

int32_t arm_fully_connected_s16_get_buffer_size_mve(const cmsis_nn_dims *filter_dims)
{
    (void)filter_dims;
    return 0;
}

int32_t arm_fully_connected_s16_get_buffer_size_dsp(const cmsis_nn_dims *filter_dims)
{
    (void)filter_dims;
    return 0;
}
