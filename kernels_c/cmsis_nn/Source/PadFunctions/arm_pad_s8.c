/*
 * arm_pad_s8.c - constant padding of an int8 tensor in all four dimensions (TFLite PAD / PADV2).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Output dimensions are input + pre_pad + post_pad per field (n, h, w, c); every element outside
 * the copied input is pad_value (PAD: the output zero point; PADV2: the quantized constant).
 * Rows of C values are copied with memcpy. No scratch.
 */
#include <string.h>

#include "arm_nnfunctions.h"

arm_cmsis_nn_status arm_pad_s8(const int8_t *input,
                               int8_t *output,
                               const int8_t pad_value,
                               const cmsis_nn_dims *input_size,
                               const cmsis_nn_dims *pre_pad,
                               const cmsis_nn_dims *post_pad)
{
    const int32_t out_c = pre_pad->c + input_size->c + post_pad->c;
    const int32_t out_w = pre_pad->w + input_size->w + post_pad->w;
    const int32_t out_h = pre_pad->h + input_size->h + post_pad->h;
    const int32_t out_row = out_w * out_c;       /* one output row (all w and c) */
    const int32_t out_plane = out_h * out_row;   /* one output batch */
    int8_t *dst = output;

    memset(dst, pad_value, (size_t)(pre_pad->n * out_plane));
    dst += pre_pad->n * out_plane;
    for (int32_t n = 0; n < input_size->n; n++)
    {
        memset(dst, pad_value, (size_t)(pre_pad->h * out_row));
        dst += pre_pad->h * out_row;
        for (int32_t h = 0; h < input_size->h; h++)
        {
            memset(dst, pad_value, (size_t)(pre_pad->w * out_c));
            dst += pre_pad->w * out_c;
            for (int32_t w = 0; w < input_size->w; w++)
            {
                memset(dst, pad_value, (size_t)pre_pad->c);
                dst += pre_pad->c;
                memcpy(dst, input, (size_t)input_size->c);
                dst += input_size->c;
                input += input_size->c;
                memset(dst, pad_value, (size_t)post_pad->c);
                dst += post_pad->c;
            }
            memset(dst, pad_value, (size_t)(post_pad->w * out_c));
            dst += post_pad->w * out_c;
        }
        memset(dst, pad_value, (size_t)(post_pad->h * out_row));
        dst += post_pad->h * out_row;
    }
    memset(dst, pad_value, (size_t)(post_pad->n * out_plane));
    return ARM_CMSIS_NN_SUCCESS;
}
