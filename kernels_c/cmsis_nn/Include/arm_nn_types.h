/*
 * arm_nn_types.h - public types of the CMSIS-NN v7 API subset implemented by byoc.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * The names, field order and meaning of every type here follow Arm's CMSIS-NN v7 public API so
 * that code generated against this header compiles unchanged against Arm's library. The code
 * itself is an independent implementation.
 *
 * Conventions shared by all kernels:
 *   - Feature maps are int8 NHWC. Offsets of INPUTS are the negated zero points
 *     (input_offset = -zero_point, range [-127, 128]); offsets of OUTPUTS are the zero point
 *     itself (output_offset = zero_point, range [-128, 127]).
 *   - Quantized multipliers are Q0.31 int32 values, shifts are TFLite style: positive = left.
 */
#ifndef ARM_NN_TYPES_H
#define ARM_NN_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Status returned by the kernels. */
typedef enum
{
    ARM_CMSIS_NN_SUCCESS = 0,        /**< No error */
    ARM_CMSIS_NN_ARG_ERROR = -1,     /**< An argument is outside what the kernel supports */
    ARM_CMSIS_NN_NO_IMPL_ERROR = -2, /**< No implementation for this configuration */
    ARM_CMSIS_NN_FAILURE = -3,       /**< Logical error */
} arm_cmsis_nn_status;

/** Width and height of a 2-D quantity (stride, padding, dilation). */
typedef struct
{
    int32_t w; /**< Width */
    int32_t h; /**< Height */
} cmsis_nn_tile;

/** Scratch buffer handed to a kernel; size it with the matching *_get_buffer_size(). */
typedef struct
{
    void *buf;    /**< Scratch buffer (may be NULL when the size function returns 0) */
    int32_t size; /**< Size of buf in bytes (informative) */
} cmsis_nn_context;

/** Tensor dimensions; the meaning of each field is given per function. */
typedef struct
{
    int32_t n; /**< Batches (or generic first dimension) */
    int32_t h; /**< Height */
    int32_t w; /**< Width */
    int32_t c; /**< Channels */
} cmsis_nn_dims;

/** Clamp applied to the output, in the output's quantized domain. */
typedef struct
{
    int32_t min; /**< Minimum output value */
    int32_t max; /**< Maximum output value */
} cmsis_nn_activation;

/** Convolution parameters. */
typedef struct
{
    int32_t input_offset;  /**< Input zero point (the kernels subtract it; TFLM passes it so) */
    int32_t output_offset; /**< Output zero point (added after the requantization) */
    cmsis_nn_tile stride;
    cmsis_nn_tile padding; /**< Padding before the first row / column (TFLite SAME: total / 2) */
    cmsis_nn_tile dilation;
    cmsis_nn_activation activation;
} cmsis_nn_conv_params;

/** Depthwise convolution parameters. */
typedef struct
{
    int32_t input_offset;  /**< Input zero point (the kernels subtract it; TFLM passes it so) */
    int32_t output_offset; /**< Output zero point (added after the requantization) */
    int32_t ch_mult;       /**< Channel multiplier: output channels = ch_mult * input channels */
    cmsis_nn_tile stride;
    cmsis_nn_tile padding;
    cmsis_nn_tile dilation;
    cmsis_nn_activation activation;
} cmsis_nn_dw_conv_params;

/** Pooling parameters. */
typedef struct
{
    cmsis_nn_tile stride;
    cmsis_nn_tile padding;
    cmsis_nn_activation activation;
} cmsis_nn_pool_params;

/** Fully connected parameters. */
typedef struct
{
    int32_t input_offset;  /**< Negated input zero point */
    int32_t filter_offset; /**< Negated weight zero point (0 for TFLite int8 weights) */
    int32_t output_offset; /**< Output zero point */
    cmsis_nn_activation activation;
} cmsis_nn_fc_params;

/** Per-channel requantization: one multiplier and shift per output channel. */
typedef struct
{
    int32_t *multiplier;
    int32_t *shift;
} cmsis_nn_per_channel_quant_params;

/** Per-tensor requantization. */
typedef struct
{
    int32_t multiplier;
    int32_t shift;
} cmsis_nn_per_tensor_quant_params;

/** Requantization that is either per channel (arrays) or per tensor (element 0 used). */
typedef struct
{
    int32_t *multiplier;
    int32_t *shift;
    int32_t is_per_channel;
} cmsis_nn_quant_params;


/** Bias of the s16 convolution (v7): int64 (TFLite 16x8 default) or int32 values. */
typedef struct
{
    const void *data;         /**< int64_t[] or int32_t[] bias, or NULL */
    const bool is_int32_bias; /**< true: data is int32_t[], false: int64_t[] */
} cmsis_nn_bias_data;

/** Lookup tables of arm_softmax_s16 (513 entries each, TFLite's int16 softmax LUTs). */
typedef struct
{
    const int16_t *exp_lut;        /**< exp(x) for x in [-10, 0], Q0.15 */
    const int16_t *one_by_one_lut; /**< 1 / (1 + x) for x in [0, 1], Q0.15 */
} cmsis_nn_softmax_lut_s16;

/** Activation of arm_nn_activation_s16. */
typedef enum
{
    ARM_SIGMOID = 0, /**< 1 / (1 + exp(-x)) (TFLite LOGISTIC) */
    ARM_TANH = 1,    /**< tanh(x) (TFLite TANH) */
} arm_nn_activation_type;

/** Transpose convolution parameters (TFLite TRANSPOSE_CONV). */
typedef struct
{
    int32_t input_offset;  /**< Input zero point (the kernels subtract it; TFLM passes it so) */
    int32_t output_offset; /**< Output zero point (added after the requantization) */
    cmsis_nn_tile stride;
    cmsis_nn_tile padding;         /**< Rows / columns cropped before the output (TFLite: total / 2) */
    cmsis_nn_tile padding_offsets; /**< Odd part of the total padding, cropped after the output */
    cmsis_nn_tile dilation;        /**< Must be 1 */
    cmsis_nn_activation activation;
} cmsis_nn_transpose_conv_params;

/** Batch matrix multiplication parameters (TFLite BATCH_MATMUL). */
typedef struct
{
    const bool adj_x; /**< TFLite's adj_x; not read by the kernels (lhs is always [.., M, K]) */
    const bool adj_y; /**< TFLite's adj_y; not read (rhs is always transposed, [.., N, K]) */
    cmsis_nn_fc_params fc_params; /**< lhs offset (input_offset), rhs offset (filter_offset), output */
} cmsis_nn_bmm_params;

/** Transpose parameters: output dimension i is input dimension permutations[i]. */
typedef struct
{
    const int32_t num_dims;       /**< 1 to 4; the dimensions fill n, h, w, c from the first */
    const uint32_t *permutations; /**< num_dims entries, a permutation of 0 .. num_dims - 1 */
} cmsis_nn_transpose_params;

/** SVDF parameters (TFLite SVDF, int8 input / output). */
typedef struct
{
    int32_t rank;          /**< Filters per output unit */
    int32_t input_offset;  /**< Input zero point (the kernels subtract it; TFLM passes it so) */
    int32_t output_offset; /**< Output zero point (added after the requantization) */
    cmsis_nn_activation input_activation;  /**< Clamp of the feature (state) values */
    cmsis_nn_activation output_activation; /**< Clamp of the output */
} cmsis_nn_svdf_params;

#ifdef __cplusplus
}
#endif

#endif /* ARM_NN_TYPES_H */
