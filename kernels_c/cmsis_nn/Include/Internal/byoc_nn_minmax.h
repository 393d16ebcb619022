/*
 * Internal/byoc_nn_minmax.h - the broadcasting loop shared by arm_maximum_s8 / arm_minimum_s8.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#ifndef BYOC_NN_MINMAX_H
#define BYOC_NN_MINMAX_H

#include "arm_nn_math_types.h"
#include "arm_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Element distance of one step along a dimension of size `dim` that broadcasts when 1. */
ARM_NN_INLINE int32_t byoc_nn_bcast_step(const int32_t dim, const int32_t inner)
{
    return dim == 1 ? 0 : inner;
}

/** 1 when every dimension of `in` equals the output's or is 1. */
ARM_NN_INLINE int byoc_nn_bcast_ok(const cmsis_nn_dims *in, const cmsis_nn_dims *out)
{
    return (in->n == out->n || in->n == 1) && (in->h == out->h || in->h == 1) && (in->w == out->w || in->w == 1) &&
        (in->c == out->c || in->c == 1);
}

/**
 * out[n][h][w][c] = max (take_max != 0) or min of a[...] and b[...] with NHWC dimensions of
 * size 1 broadcast. The channel loop is the inner one; for equal shapes it is one flat loop.
 */
ARM_NN_INLINE arm_cmsis_nn_status byoc_nn_minmax_s8(const int8_t *a,
                                                    const cmsis_nn_dims *a_dims,
                                                    const int8_t *b,
                                                    const cmsis_nn_dims *b_dims,
                                                    int8_t *out,
                                                    const cmsis_nn_dims *out_dims,
                                                    const int take_max)
{
    if (!byoc_nn_bcast_ok(a_dims, out_dims) || !byoc_nn_bcast_ok(b_dims, out_dims))
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    const int32_t c = out_dims->c;
    if (a_dims->n == b_dims->n && a_dims->h == b_dims->h && a_dims->w == b_dims->w && a_dims->c == b_dims->c)
    {
        const int32_t total = out_dims->n * out_dims->h * out_dims->w * c;
        for (int32_t i = 0; i < total; i++)
        {
            out[i] = take_max ? (a[i] > b[i] ? a[i] : b[i]) : (a[i] < b[i] ? a[i] : b[i]);
        }
        return ARM_CMSIS_NN_SUCCESS;
    }
    const int32_t a_sc = byoc_nn_bcast_step(a_dims->c, 1), b_sc = byoc_nn_bcast_step(b_dims->c, 1);
    const int32_t a_sw = byoc_nn_bcast_step(a_dims->w, a_dims->c), b_sw = byoc_nn_bcast_step(b_dims->w, b_dims->c);
    const int32_t a_sh = byoc_nn_bcast_step(a_dims->h, a_dims->w * a_dims->c);
    const int32_t b_sh = byoc_nn_bcast_step(b_dims->h, b_dims->w * b_dims->c);
    const int32_t a_sn = byoc_nn_bcast_step(a_dims->n, a_dims->h * a_dims->w * a_dims->c);
    const int32_t b_sn = byoc_nn_bcast_step(b_dims->n, b_dims->h * b_dims->w * b_dims->c);
    for (int32_t n = 0; n < out_dims->n; n++)
    {
        for (int32_t h = 0; h < out_dims->h; h++)
        {
            for (int32_t w = 0; w < out_dims->w; w++)
            {
                const int8_t *pa = a + n * a_sn + h * a_sh + w * a_sw;
                const int8_t *pb = b + n * b_sn + h * b_sh + w * b_sw;
                for (int32_t i = 0; i < c; i++)
                {
                    const int8_t x = pa[i * a_sc], y = pb[i * b_sc];
                    *out++ = take_max ? (x > y ? x : y) : (x < y ? x : y);
                }
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}

#ifdef __cplusplus
}
#endif

#endif /* BYOC_NN_MINMAX_H */
