/*
 * arm_nnsupportfunctions_s16.h - internal helpers of the int16-activation kernels.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#ifndef ARM_NNSUPPORTFUNCTIONS_S16_H
#define ARM_NNSUPPORTFUNCTIONS_S16_H

#include "arm_nnsupportfunctions.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * TFLite's MultiplyByQuantizedMultiplier for a 64-bit accumulator (16x8 kernels): the Q31
 * multiplier is rounded to 16 bits (saturating at 0x7FFF), then one rounding right shift by
 * 15 - shift (round half up).
 */
ARM_NN_INLINE int32_t arm_nn_requantize_s64(const int64_t val, const int32_t multiplier, const int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? (int64_t)((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int32_t total_shift = 15 - shift;
    const int64_t result = (val * reduced + ((int64_t)1 << (total_shift - 1))) >> total_shift;
    return (int32_t)result;
}

#ifdef __cplusplus
}
#endif

#endif /* ARM_NNSUPPORTFUNCTIONS_S16_H */
