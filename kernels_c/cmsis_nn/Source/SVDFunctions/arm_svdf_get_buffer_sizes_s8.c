/*
 * arm_svdf_get_buffer_sizes_s8.c - ctx size of arm_svdf_s8 (Arm's rule: one int32 kernel sum per
 * filter on the Helium path, nothing on the DSP and portable paths), so that a caller sized for
 * either library works with both.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#include "arm_nnfunctions.h"

int32_t arm_svdf_s8_get_buffer_size_dsp(const cmsis_nn_dims *weights_feature_dims)
{
    (void)weights_feature_dims;
    return 0;
}

int32_t arm_svdf_s8_get_buffer_size_mve(const cmsis_nn_dims *weights_feature_dims)
{
    return weights_feature_dims->n * (int32_t)sizeof(int32_t);
}

int32_t arm_svdf_s8_get_buffer_size(const cmsis_nn_dims *weights_feature_dims)
{
#if defined(ARM_MATH_MVEI)
    return arm_svdf_s8_get_buffer_size_mve(weights_feature_dims);
#else
    return arm_svdf_s8_get_buffer_size_dsp(weights_feature_dims);
#endif
}
