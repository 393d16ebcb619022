/*
 * arm_nn_math_types.h - kernel path selection and basic limits.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Every kernel has up to three implementations chosen at compile time from the target's
 * feature macros (the same rule as Arm's CMSIS-NN):
 *   ARM_MATH_MVEI  Helium / MVE integer vectors (__ARM_FEATURE_MVE: Cortex-M55, Cortex-M85)
 *   ARM_MATH_DSP   32-bit SIMD DSP extension  (__ARM_FEATURE_DSP: Cortex-M4/M7/M33, and M55/M85)
 *   neither        portable C (Cortex-M0+/M3, host builds)
 * When both are available the MVE code is used. All paths give bit-identical results.
 *
 * For testing, BYOC_NN_NO_MVE / BYOC_NN_NO_DSP (compile definitions) switch a path off.
 */
#ifndef ARM_NN_MATH_TYPES_H
#define ARM_NN_MATH_TYPES_H

#include <limits.h>
#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(BYOC_NN_NO_MVE)
    #ifndef ARM_MATH_MVEI
        #define ARM_MATH_MVEI 1
    #endif
#endif

#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(BYOC_NN_NO_DSP)
    #ifndef ARM_MATH_DSP
        #define ARM_MATH_DSP 1
    #endif
#endif

#if defined(ARM_MATH_MVEI)
    #include <arm_mve.h>
#endif
#if defined(ARM_MATH_DSP)
    #include <arm_acle.h>
#endif

/* Name of the compiled path, for test and benchmark reports. */
#if defined(ARM_MATH_MVEI)
    #define ARM_NN_PATH_NAME "mve"
#elif defined(ARM_MATH_DSP)
    #define ARM_NN_PATH_NAME "dsp"
#else
    #define ARM_NN_PATH_NAME "c"
#endif

#define NN_Q31_MAX ((int32_t)(0x7FFFFFFFL))
#define NN_Q31_MIN ((int32_t)(0x80000000L))
#define NN_Q15_MAX ((int16_t)(0x7FFF))
#define NN_Q15_MIN ((int16_t)(0x8000))
#define NN_Q7_MAX ((int8_t)(0x7F))
#define NN_Q7_MIN ((int8_t)(0x80))

#if defined(__GNUC__)
    #define ARM_NN_INLINE static inline __attribute__((always_inline))
    #define ARM_NN_RESTRICT __restrict
#else
    #define ARM_NN_INLINE static inline
    #define ARM_NN_RESTRICT
#endif

#endif /* ARM_NN_MATH_TYPES_H */
