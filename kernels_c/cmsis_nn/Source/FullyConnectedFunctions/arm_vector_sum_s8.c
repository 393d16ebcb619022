/*
 * arm_vector_sum_s8.c - kernel sums for the Helium fully connected path.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * vector_data is [vector_rows][vector_cols] int8 (fully connected weights, one row per output):
 *   vector_sum_buf[r] = bias_data[r] + lhs_offset * sum_j (vector_data[r][j] + rhs_offset)
 * (bias_data may be NULL: 0). A code generator can evaluate the same formula at compile time.
 */
#include "arm_nnfunctions.h"
#include "Internal/byoc_nn_support.h"

arm_cmsis_nn_status arm_vector_sum_s8(int32_t *vector_sum_buf,
                                      const int32_t vector_cols,
                                      const int32_t vector_rows,
                                      const int8_t *vector_data,
                                      const int32_t lhs_offset,
                                      const int32_t rhs_offset,
                                      const int32_t *bias_data)
{
    if (vector_sum_buf == NULL)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    for (int32_t r = 0; r < vector_rows; r++)
    {
        const int8_t *row = vector_data + r * vector_cols;
        int32_t sum = 0;
#if defined(ARM_MATH_MVEI)
        int32_t left = vector_cols;
        const int8_t *p = row;
        while (left > 0)
        {
            const mve_pred16_t pred = vctp8q((uint32_t)left);
            sum = vaddvaq_p_s8(sum, vldrbq_z_s8(p, pred), pred);
            p += 16;
            left -= 16;
        }
#else
        for (int32_t j = 0; j < vector_cols; j++)
        {
            sum += row[j];
        }
#endif
        sum += rhs_offset * vector_cols;
        vector_sum_buf[r] = (bias_data != NULL ? bias_data[r] : 0) + lhs_offset * sum;
    }
    return ARM_CMSIS_NN_SUCCESS;
}
