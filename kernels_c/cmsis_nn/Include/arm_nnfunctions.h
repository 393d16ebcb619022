/*
 * arm_nnfunctions.h - public functions of the CMSIS-NN v7 API subset implemented by byoc.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Function names, argument order, types and semantics follow Arm's CMSIS-NN v7 so that generated
 * code builds unchanged against either library. The implementation is byoc's own, written from
 * TFLite's reference integer arithmetic; every kernel is bit-exact with TFLite Micro's reference
 * kernels on all three compile-time paths (Helium/MVE, DSP, portable C; see arm_nn_math_types.h).
 *
 * Layouts: feature maps NHWC int8; convolution filters [C_OUT, KH, KW, C_IN] (OHWI); depthwise
 * filters [1, KH, KW, C_OUT]; fully connected weights [C_OUT][C_IN] (row per output).
 * Offsets: input_offset = -input zero point, output_offset = output zero point.
 * Shifts: TFLite style, positive = left shift.
 *
 * Scratch buffers: a kernel that needs one receives it in ctx->buf, sized by the matching
 * *_get_buffer_size() of the SAME build (it depends on the path). The _mve/_dsp variants give the
 * size another path would need, for planning on a host. Sizes equal Arm's for the same call, so a
 * plan made with either library's size functions is valid for both.
 */
#ifndef ARM_NNFUNCTIONS_H
#define ARM_NNFUNCTIONS_H

#include "arm_nn_math_types.h"
#include "arm_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================================================
 * Convolution
 * ========================================================================================== */

/**
 * @brief s8 convolution; picks the best kernel for the configuration.
 *
 * @param[in, out] ctx          scratch buffer of arm_convolve_wrapper_s8_get_buffer_size() bytes
 * @param[in]      conv_params  offsets (input [-127, 128], output [-128, 127]), stride, padding,
 *                              dilation, activation range
 * @param[in]      quant_params per-output-channel multiplier and shift
 * @param[in]      input_dims   [N, H, W, C_IN]
 * @param[in]      input_data   int8 input
 * @param[in]      filter_dims  [C_OUT, KH, KW, C_IN / groups]
 * @param[in]      filter_data  int8 filter, OHWI
 * @param[in]      bias_dims    [C_OUT] (unused)
 * @param[in]      bias_data    int32 bias or NULL
 * @param[in]      output_dims  [N, OH, OW, C_OUT]
 * @param[out]     output_data  int8 output
 * @return ARM_CMSIS_NN_SUCCESS, or ARM_CMSIS_NN_ARG_ERROR for unsupported arguments
 *
 * Dispatch: 1x1 filter without padding and dilation -> arm_convolve_1x1_s8_fast (stride 1) or
 * arm_convolve_1x1_s8; one-row input and filter (H == 1, KH == 1, dilation.w == 1,
 * stride.w * C_IN % 4 == 0) -> arm_convolve_1_x_n_s8; otherwise arm_convolve_s8.
 */
arm_cmsis_nn_status arm_convolve_wrapper_s8(const cmsis_nn_context *ctx,
                                            const cmsis_nn_conv_params *conv_params,
                                            const cmsis_nn_per_channel_quant_params *quant_params,
                                            const cmsis_nn_dims *input_dims,
                                            const int8_t *input_data,
                                            const cmsis_nn_dims *filter_dims,
                                            const int8_t *filter_data,
                                            const cmsis_nn_dims *bias_dims,
                                            const int32_t *bias_data,
                                            const cmsis_nn_dims *output_dims,
                                            int8_t *output_data);

/** @brief Scratch bytes arm_convolve_wrapper_s8 needs in this build. */
int32_t arm_convolve_wrapper_s8_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                                const cmsis_nn_dims *input_dims,
                                                const cmsis_nn_dims *filter_dims,
                                                const cmsis_nn_dims *output_dims);

/** @brief Scratch bytes arm_convolve_wrapper_s8 needs in a Helium (MVE) build; for host planning. */
int32_t arm_convolve_wrapper_s8_get_buffer_size_mve(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims);

/** @brief Scratch bytes arm_convolve_wrapper_s8 needs in a DSP (and portable) build; for host planning. */
int32_t arm_convolve_wrapper_s8_get_buffer_size_dsp(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims);

/**
 * @brief Generic s8 convolution: any filter size, stride, padding, dilation, batch and groups
 *        (filter_dims->c may divide input_dims->c).
 *
 * ctx->buf: arm_convolve_s8_get_buffer_size() bytes (im2col columns). upscale_dims must be NULL
 * or {1, 1, 1, 1} (no upscaling is implemented).
 */
arm_cmsis_nn_status arm_convolve_s8(const cmsis_nn_context *ctx,
                                    const cmsis_nn_conv_params *conv_params,
                                    const cmsis_nn_per_channel_quant_params *quant_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int8_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const int8_t *filter_data,
                                    const cmsis_nn_dims *bias_dims,
                                    const int32_t *bias_data,
                                    const cmsis_nn_dims *upscale_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int8_t *output_data);

/** @brief Scratch bytes of arm_convolve_s8 in this build. */
int32_t arm_convolve_s8_get_buffer_size(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims);

/**
 * @brief 1x1 convolution, stride 1, no padding, no dilation: a matrix product of the pixels
 *        ([N*H*W, C_IN]) with the filter ([C_OUT, C_IN]). No scratch buffer.
 */
arm_cmsis_nn_status arm_convolve_1x1_s8_fast(const cmsis_nn_context *ctx,
                                             const cmsis_nn_conv_params *conv_params,
                                             const cmsis_nn_per_channel_quant_params *quant_params,
                                             const cmsis_nn_dims *input_dims,
                                             const int8_t *input_data,
                                             const cmsis_nn_dims *filter_dims,
                                             const int8_t *filter_data,
                                             const cmsis_nn_dims *bias_dims,
                                             const int32_t *bias_data,
                                             const cmsis_nn_dims *output_dims,
                                             int8_t *output_data);

/** @brief Scratch bytes of arm_convolve_1x1_s8_fast (always 0). */
int32_t arm_convolve_1x1_s8_fast_get_buffer_size(const cmsis_nn_dims *input_dims);

/** @brief 1x1 convolution with any stride, no padding, no dilation. No scratch buffer. */
arm_cmsis_nn_status arm_convolve_1x1_s8(const cmsis_nn_context *ctx,
                                        const cmsis_nn_conv_params *conv_params,
                                        const cmsis_nn_per_channel_quant_params *quant_params,
                                        const cmsis_nn_dims *input_dims,
                                        const int8_t *input_data,
                                        const cmsis_nn_dims *filter_dims,
                                        const int8_t *filter_data,
                                        const cmsis_nn_dims *bias_dims,
                                        const int32_t *bias_data,
                                        const cmsis_nn_dims *output_dims,
                                        int8_t *output_data);

/**
 * @brief Convolution of a one-row input with a one-row filter (input_dims->h == 1,
 *        filter_dims->h == 1, dilation.w == 1). ctx->buf: arm_convolve_1_x_n_s8_get_buffer_size().
 */
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
                                          int8_t *output_data);

/** @brief Scratch bytes of arm_convolve_1_x_n_s8 in this build. */
int32_t arm_convolve_1_x_n_s8_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                              const cmsis_nn_dims *input_dims,
                                              const cmsis_nn_dims *filter_dims,
                                              const cmsis_nn_dims *output_dims);

/* ============================================================================================
 * Depthwise convolution
 * ========================================================================================== */

/**
 * @brief s8 depthwise convolution; picks the best kernel for the configuration.
 *
 * @param[in, out] ctx            scratch of arm_depthwise_conv_wrapper_s8_get_buffer_size() bytes
 * @param[in]      dw_conv_params offsets, ch_mult (= C_OUT / C_IN, any value >= 1), stride,
 *                                padding, dilation, activation
 * @param[in]      quant_params   per-output-channel multiplier and shift
 * @param[in]      input_dims     [N, H, W, C_IN]
 * @param[in]      input_data     int8 input
 * @param[in]      filter_dims    [1, KH, KW, C_OUT]
 * @param[in]      filter_data    int8 filter; output channel c = c_in * ch_mult + m
 * @param[in]      bias_dims      [C_OUT] (unused)
 * @param[in]      bias_data      int32 bias or NULL
 * @param[in]      output_dims    [N, OH, OW, C_OUT]
 * @param[out]     output_data    int8 output
 */
arm_cmsis_nn_status arm_depthwise_conv_wrapper_s8(const cmsis_nn_context *ctx,
                                                  const cmsis_nn_dw_conv_params *dw_conv_params,
                                                  const cmsis_nn_per_channel_quant_params *quant_params,
                                                  const cmsis_nn_dims *input_dims,
                                                  const int8_t *input_data,
                                                  const cmsis_nn_dims *filter_dims,
                                                  const int8_t *filter_data,
                                                  const cmsis_nn_dims *bias_dims,
                                                  const int32_t *bias_data,
                                                  const cmsis_nn_dims *output_dims,
                                                  int8_t *output_data);

/** @brief Scratch bytes arm_depthwise_conv_wrapper_s8 needs in this build. */
int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                      const cmsis_nn_dims *input_dims,
                                                      const cmsis_nn_dims *filter_dims,
                                                      const cmsis_nn_dims *output_dims);

/** @brief Scratch bytes of arm_depthwise_conv_wrapper_s8 in a Helium build; for host planning. */
int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size_mve(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                          const cmsis_nn_dims *input_dims,
                                                          const cmsis_nn_dims *filter_dims,
                                                          const cmsis_nn_dims *output_dims);

/** @brief Scratch bytes of arm_depthwise_conv_wrapper_s8 in a DSP build; for host planning. */
int32_t arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                          const cmsis_nn_dims *input_dims,
                                                          const cmsis_nn_dims *filter_dims,
                                                          const cmsis_nn_dims *output_dims);

/** @brief Generic depthwise convolution (any ch_mult, dilation, batch). No scratch buffer. */
arm_cmsis_nn_status arm_depthwise_conv_s8(const cmsis_nn_context *ctx,
                                          const cmsis_nn_dw_conv_params *dw_conv_params,
                                          const cmsis_nn_per_channel_quant_params *quant_params,
                                          const cmsis_nn_dims *input_dims,
                                          const int8_t *input_data,
                                          const cmsis_nn_dims *filter_dims,
                                          const int8_t *filter_data,
                                          const cmsis_nn_dims *bias_dims,
                                          const int32_t *bias_data,
                                          const cmsis_nn_dims *output_dims,
                                          int8_t *output_data);

/**
 * @brief Depthwise convolution with ch_mult == 1, no dilation, batch 1.
 *        ctx->buf: arm_depthwise_conv_s8_opt_get_buffer_size() bytes (may be unused).
 */
arm_cmsis_nn_status arm_depthwise_conv_s8_opt(const cmsis_nn_context *ctx,
                                              const cmsis_nn_dw_conv_params *dw_conv_params,
                                              const cmsis_nn_per_channel_quant_params *quant_params,
                                              const cmsis_nn_dims *input_dims,
                                              const int8_t *input_data,
                                              const cmsis_nn_dims *filter_dims,
                                              const int8_t *filter_data,
                                              const cmsis_nn_dims *bias_dims,
                                              const int32_t *bias_data,
                                              const cmsis_nn_dims *output_dims,
                                              int8_t *output_data);

/** @brief Scratch bytes of arm_depthwise_conv_s8_opt in this build. */
int32_t arm_depthwise_conv_s8_opt_get_buffer_size(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims);

/* ============================================================================================
 * Fully connected
 * ========================================================================================== */

/**
 * @brief s8 fully connected layer, per-tensor requantization.
 *
 * @param[in, out] ctx          Helium build: ctx->buf holds the kernel sums produced by
 *                              arm_vector_sum_s8() (arm_fully_connected_s8_get_buffer_size()
 *                              bytes); other builds: unused.
 * @param[in]      fc_params    input_offset [-127, 128], filter_offset, output_offset, activation
 * @param[in]      quant_params per-tensor multiplier and shift
 * @param[in]      input_dims   [N, H, W, C]: N batches of H*W*C inputs
 * @param[in]      input_data   int8 input
 * @param[in]      filter_dims  n = accumulation depth (H*W*C of the input), c = output depth
 * @param[in]      filter_data  int8 weights [C_OUT][depth]
 * @param[in]      bias_dims    [C_OUT] (unused)
 * @param[in]      bias_data    int32 bias or NULL (ignored when kernel sums are used: they include it)
 * @param[in]      output_dims  [N, C_OUT] as n and c
 * @param[out]     output_data  int8 output
 */
arm_cmsis_nn_status arm_fully_connected_s8(const cmsis_nn_context *ctx,
                                           const cmsis_nn_fc_params *fc_params,
                                           const cmsis_nn_per_tensor_quant_params *quant_params,
                                           const cmsis_nn_dims *input_dims,
                                           const int8_t *input_data,
                                           const cmsis_nn_dims *filter_dims,
                                           const int8_t *filter_data,
                                           const cmsis_nn_dims *bias_dims,
                                           const int32_t *bias_data,
                                           const cmsis_nn_dims *output_dims,
                                           int8_t *output_data);

/** @brief As arm_fully_connected_s8 with one multiplier and shift per output channel. */
arm_cmsis_nn_status arm_fully_connected_per_channel_s8(const cmsis_nn_context *ctx,
                                                       const cmsis_nn_fc_params *fc_params,
                                                       const cmsis_nn_per_channel_quant_params *quant_params,
                                                       const cmsis_nn_dims *input_dims,
                                                       const int8_t *input_data,
                                                       const cmsis_nn_dims *filter_dims,
                                                       const int8_t *filter_data,
                                                       const cmsis_nn_dims *bias_dims,
                                                       const int32_t *bias_data,
                                                       const cmsis_nn_dims *output_dims,
                                                       int8_t *output_data);

/** @brief Per-tensor or per-channel fully connected, chosen by quant_params->is_per_channel. */
arm_cmsis_nn_status arm_fully_connected_wrapper_s8(const cmsis_nn_context *ctx,
                                                   const cmsis_nn_fc_params *fc_params,
                                                   const cmsis_nn_quant_params *quant_params,
                                                   const cmsis_nn_dims *input_dims,
                                                   const int8_t *input_data,
                                                   const cmsis_nn_dims *filter_dims,
                                                   const int8_t *filter_data,
                                                   const cmsis_nn_dims *bias_dims,
                                                   const int32_t *bias_data,
                                                   const cmsis_nn_dims *output_dims,
                                                   int8_t *output_data);

/** @brief Scratch bytes of arm_fully_connected_s8 in this build (kernel sums: 4 * C_OUT on Helium). */
int32_t arm_fully_connected_s8_get_buffer_size(const cmsis_nn_dims *filter_dims);

/** @brief Scratch bytes of arm_fully_connected_s8 in a Helium build (4 * filter_dims->c). */
int32_t arm_fully_connected_s8_get_buffer_size_mve(const cmsis_nn_dims *filter_dims);

/** @brief Scratch bytes of arm_fully_connected_s8 in a DSP build (0). */
int32_t arm_fully_connected_s8_get_buffer_size_dsp(const cmsis_nn_dims *filter_dims);

/**
 * @brief Kernel sums for the Helium fully connected path:
 *        vector_sum_buf[r] = bias_data[r] + lhs_offset * sum_{j < vector_cols} (vector_data[r][j] + rhs_offset)
 *        for r < vector_rows (bias_data may be NULL). lhs_offset is the fc input_offset and
 *        rhs_offset the filter_offset (0 for TFLite int8 weights).
 */
arm_cmsis_nn_status arm_vector_sum_s8(int32_t *vector_sum_buf,
                                      const int32_t vector_cols,
                                      const int32_t vector_rows,
                                      const int8_t *vector_data,
                                      const int32_t lhs_offset,
                                      const int32_t rhs_offset,
                                      const int32_t *bias_data);

/* ============================================================================================
 * Pooling
 * ========================================================================================== */

/**
 * @brief s8 average pooling (TFLite AVERAGE_POOL_2D): mean over the window positions inside the
 *        input (padding is not counted), rounded to nearest with ties away from zero, then
 *        clamped to the activation range. Input and output share quantization.
 *
 * @param[in, out] ctx         DSP build: arm_avgpool_s8_get_buffer_size() bytes; others unused
 * @param[in]      pool_params stride, padding, activation range
 * @param[in]      input_dims  [N, H, W, C]
 * @param[in]      filter_dims window size in h and w
 * @param[in]      output_dims [N, OH, OW, C]
 */
arm_cmsis_nn_status arm_avgpool_s8(const cmsis_nn_context *ctx,
                                   const cmsis_nn_pool_params *pool_params,
                                   const cmsis_nn_dims *input_dims,
                                   const int8_t *input_data,
                                   const cmsis_nn_dims *filter_dims,
                                   const cmsis_nn_dims *output_dims,
                                   int8_t *output_data);

/** @brief Scratch bytes of arm_avgpool_s8 in this build. */
int32_t arm_avgpool_s8_get_buffer_size(const int dim_dst_width, const int ch_src);

/** @brief Scratch bytes of arm_avgpool_s8 in a Helium build (0). */
int32_t arm_avgpool_s8_get_buffer_size_mve(const int dim_dst_width, const int ch_src);

/** @brief Scratch bytes of arm_avgpool_s8 in a DSP build (4 * ch_src). */
int32_t arm_avgpool_s8_get_buffer_size_dsp(const int dim_dst_width, const int ch_src);

/**
 * @brief s8 max pooling (TFLite MAX_POOL_2D) over the window positions inside the input,
 *        clamped to the activation range. No scratch buffer.
 */
arm_cmsis_nn_status arm_max_pool_s8(const cmsis_nn_context *ctx,
                                    const cmsis_nn_pool_params *pool_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int8_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int8_t *output_data);

/* ============================================================================================
 * Softmax
 * ========================================================================================== */

/**
 * @brief s8 softmax over the last dimension, TFLite's integer algorithm (output scale 1/256,
 *        zero point -128).
 *
 * @param[in]  input    int8 input, num_rows x row_size
 * @param[in]  num_rows rows
 * @param[in]  row_size elements per row
 * @param[in]  mult     input beta multiplier (TFLite PreprocessSoftmaxScaling, 5 integer bits)
 * @param[in]  shift    input beta left shift (>= 0)
 * @param[in]  diff_min differences (x - row max) below this give output -128
 * @param[out] output   int8 output
 */
void arm_softmax_s8(const int8_t *input,
                    const int32_t num_rows,
                    const int32_t row_size,
                    const int32_t mult,
                    const int32_t shift,
                    const int32_t diff_min,
                    int8_t *output);

/* ============================================================================================
 * Elementwise
 * ========================================================================================== */

/**
 * @brief s8 elementwise add (TFLite ADD, same shapes):
 *        out = clamp(requant(requant((a + in1_offset) << left_shift, m1, s1)
 *                          + requant((b + in2_offset) << left_shift, m2, s2), out_mult, out_shift)
 *                    + out_offset)
 *        Input offsets are the negated zero points ([-127, 128]); left_shift is 20 for int8.
 */
arm_cmsis_nn_status arm_elementwise_add_s8(const int8_t *input_1_vect,
                                           const int8_t *input_2_vect,
                                           const int32_t input_1_offset,
                                           const int32_t input_1_mult,
                                           const int32_t input_1_shift,
                                           const int32_t input_2_offset,
                                           const int32_t input_2_mult,
                                           const int32_t input_2_shift,
                                           const int32_t left_shift,
                                           int8_t *output,
                                           const int32_t out_offset,
                                           const int32_t out_mult,
                                           const int32_t out_shift,
                                           const int32_t out_activation_min,
                                           const int32_t out_activation_max,
                                           const int32_t block_size);

/**
 * @brief s8 elementwise multiply (TFLite MUL, same shapes):
 *        out = clamp(requant((a + in1_offset) * (b + in2_offset), out_mult, out_shift) + out_offset)
 */
arm_cmsis_nn_status arm_elementwise_mul_s8(const int8_t *input_1_vect,
                                           const int8_t *input_2_vect,
                                           const int32_t input_1_offset,
                                           const int32_t input_2_offset,
                                           int8_t *output,
                                           const int32_t out_offset,
                                           const int32_t out_mult,
                                           const int32_t out_shift,
                                           const int32_t out_activation_min,
                                           const int32_t out_activation_max,
                                           const int32_t block_size);


/* ============================================================================================
 * int16 activations, int8 weights (A16W8, TFLite "16x8" quantization)
 *
 * Activations are int16 with zero point 0 (input_offset / output_offset are 0); weights are
 * symmetric int8 per channel. Convolution, depthwise and fully connected accumulate in 64 bits
 * and requantize with TFLite's int64 MultiplyByQuantizedMultiplier (multiplier rounded to 16
 * bits, one rounding shift), except a convolution with an int32 bias, which follows TFLite's
 * int32-accumulator rule (double rounding).
 * ========================================================================================== */

/** @brief s16 convolution wrapper (TFLite CONV_2D 16x8); filter [C_OUT, KH, KW, C_IN]. */
arm_cmsis_nn_status arm_convolve_wrapper_s16(const cmsis_nn_context *ctx,
                                             const cmsis_nn_conv_params *conv_params,
                                             const cmsis_nn_per_channel_quant_params *quant_params,
                                             const cmsis_nn_dims *input_dims,
                                             const int16_t *input_data,
                                             const cmsis_nn_dims *filter_dims,
                                             const int8_t *filter_data,
                                             const cmsis_nn_dims *bias_dims,
                                             const cmsis_nn_bias_data *bias_data,
                                             const cmsis_nn_dims *output_dims,
                                             int16_t *output_data);

/** @brief s16 convolution (generic: any stride, padding, dilation, batch). */
arm_cmsis_nn_status arm_convolve_s16(const cmsis_nn_context *ctx,
                                     const cmsis_nn_conv_params *conv_params,
                                     const cmsis_nn_per_channel_quant_params *quant_params,
                                     const cmsis_nn_dims *input_dims,
                                     const int16_t *input_data,
                                     const cmsis_nn_dims *filter_dims,
                                     const int8_t *filter_data,
                                     const cmsis_nn_dims *bias_dims,
                                     const cmsis_nn_bias_data *bias_data,
                                     const cmsis_nn_dims *output_dims,
                                     int16_t *output_data);

/** @brief Scratch bytes of arm_convolve_wrapper_s16 in this build. */
int32_t arm_convolve_wrapper_s16_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                                 const cmsis_nn_dims *input_dims,
                                                 const cmsis_nn_dims *filter_dims,
                                                 const cmsis_nn_dims *output_dims);
int32_t arm_convolve_wrapper_s16_get_buffer_size_mve(const cmsis_nn_conv_params *conv_params,
                                                     const cmsis_nn_dims *input_dims,
                                                     const cmsis_nn_dims *filter_dims,
                                                     const cmsis_nn_dims *output_dims);
int32_t arm_convolve_wrapper_s16_get_buffer_size_dsp(const cmsis_nn_conv_params *conv_params,
                                                     const cmsis_nn_dims *input_dims,
                                                     const cmsis_nn_dims *filter_dims,
                                                     const cmsis_nn_dims *output_dims);
/** @brief Scratch bytes of arm_convolve_s16 in this build. */
int32_t arm_convolve_s16_get_buffer_size(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims);

/** @brief s16 depthwise convolution wrapper (TFLite DEPTHWISE_CONV_2D 16x8), int64 bias;
 *         filter [1, KH, KW, C_OUT]. */
arm_cmsis_nn_status arm_depthwise_conv_wrapper_s16(const cmsis_nn_context *ctx,
                                                   const cmsis_nn_dw_conv_params *dw_conv_params,
                                                   const cmsis_nn_per_channel_quant_params *quant_params,
                                                   const cmsis_nn_dims *input_dims,
                                                   const int16_t *input_data,
                                                   const cmsis_nn_dims *filter_dims,
                                                   const int8_t *filter_data,
                                                   const cmsis_nn_dims *bias_dims,
                                                   const int64_t *bias_data,
                                                   const cmsis_nn_dims *output_dims,
                                                   int16_t *output_data);

/** @brief s16 depthwise convolution (generic: any ch_mult, stride, padding, dilation, batch). */
arm_cmsis_nn_status arm_depthwise_conv_s16(const cmsis_nn_context *ctx,
                                           const cmsis_nn_dw_conv_params *dw_conv_params,
                                           const cmsis_nn_per_channel_quant_params *quant_params,
                                           const cmsis_nn_dims *input_dims,
                                           const int16_t *input_data,
                                           const cmsis_nn_dims *filter_dims,
                                           const int8_t *filter_data,
                                           const cmsis_nn_dims *bias_dims,
                                           const int64_t *bias_data,
                                           const cmsis_nn_dims *output_dims,
                                           int16_t *output_data);

/** @brief Scratch bytes of arm_depthwise_conv_wrapper_s16 in this build. */
int32_t arm_depthwise_conv_wrapper_s16_get_buffer_size(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                       const cmsis_nn_dims *input_dims,
                                                       const cmsis_nn_dims *filter_dims,
                                                       const cmsis_nn_dims *output_dims);
int32_t arm_depthwise_conv_wrapper_s16_get_buffer_size_mve(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                           const cmsis_nn_dims *input_dims,
                                                           const cmsis_nn_dims *filter_dims,
                                                           const cmsis_nn_dims *output_dims);
int32_t arm_depthwise_conv_wrapper_s16_get_buffer_size_dsp(const cmsis_nn_dw_conv_params *dw_conv_params,
                                                           const cmsis_nn_dims *input_dims,
                                                           const cmsis_nn_dims *filter_dims,
                                                           const cmsis_nn_dims *output_dims);

/** @brief s16 fully connected (TFLite FULLY_CONNECTED 16x8), per-tensor quantization,
 *         int64 bias; filter_dims.n = accumulation depth, output_dims.c = output depth. */
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
                                            int16_t *output_data);

/** @brief Scratch bytes of arm_fully_connected_s16 (0 on every path). */
int32_t arm_fully_connected_s16_get_buffer_size(const cmsis_nn_dims *filter_dims);
int32_t arm_fully_connected_s16_get_buffer_size_mve(const cmsis_nn_dims *filter_dims);
int32_t arm_fully_connected_s16_get_buffer_size_dsp(const cmsis_nn_dims *filter_dims);

/**
 * @brief s8 batch matrix multiplication (TFLite BATCH_MATMUL int8), per-tensor quantization.
 *        lhs [n, h, w = M, c = K]; rhs transposed [n, h, w = N, c = K]; output [n, h, M, N].
 *        An operand's n / h is the output's or 1 (broadcast). adj_x / adj_y are not read: the
 *        caller transposes. fc_params: input_offset = -lhs zero point, filter_offset = -rhs
 *        zero point, output_offset, activation. ctx: byoc's kernel uses none; Arm's Helium
 *        kernel needs 4 * N bytes (arm_fully_connected_s8_get_buffer_size with c = N).
 */
arm_cmsis_nn_status arm_batch_matmul_s8(const cmsis_nn_context *ctx,
                                        const cmsis_nn_bmm_params *bmm_params,
                                        const cmsis_nn_per_tensor_quant_params *quant_params,
                                        const cmsis_nn_dims *input_lhs_dims,
                                        const int8_t *input_lhs,
                                        const cmsis_nn_dims *input_rhs_dims,
                                        const int8_t *input_rhs,
                                        const cmsis_nn_dims *output_dims,
                                        int8_t *output);

/**
 * @brief s16 batch matrix multiplication (TFLite BATCH_MATMUL int16: zero points 0, the
 *        fc_params offsets are not read), int64 accumulation, TFLite's int64 requantization.
 *        Layouts and broadcasting as arm_batch_matmul_s8. No scratch.
 */
arm_cmsis_nn_status arm_batch_matmul_s16(const cmsis_nn_context *ctx,
                                         const cmsis_nn_bmm_params *bmm_params,
                                         const cmsis_nn_per_tensor_quant_params *quant_params,
                                         const cmsis_nn_dims *input_lhs_dims,
                                         const int16_t *input_lhs,
                                         const cmsis_nn_dims *input_rhs_dims,
                                         const int16_t *input_rhs,
                                         const cmsis_nn_dims *output_dims,
                                         int16_t *output);

/** @brief s16 average pooling (TFLite AVERAGE_POOL_2D int16). */
arm_cmsis_nn_status arm_avgpool_s16(const cmsis_nn_context *ctx,
                                    const cmsis_nn_pool_params *pool_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int16_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int16_t *output_data);

/** @brief Scratch bytes of arm_avgpool_s16 in this build. */
int32_t arm_avgpool_s16_get_buffer_size(const int dim_dst_width, const int ch_src);
int32_t arm_avgpool_s16_get_buffer_size_mve(const int dim_dst_width, const int ch_src);
int32_t arm_avgpool_s16_get_buffer_size_dsp(const int dim_dst_width, const int ch_src);

/** @brief s16 max pooling (TFLite MAX_POOL_2D int16). No scratch buffer. */
arm_cmsis_nn_status arm_max_pool_s16(const cmsis_nn_context *ctx,
                                     const cmsis_nn_pool_params *pool_params,
                                     const cmsis_nn_dims *input_dims,
                                     const int16_t *input_data,
                                     const cmsis_nn_dims *filter_dims,
                                     const cmsis_nn_dims *output_dims,
                                     int16_t *output_data);

/**
 * @brief s16 softmax (TFLite SOFTMAX int16: output scale 1/32768, zero point 0).
 * @param[in] mult, shift     input scale * beta / (10 / 65535) as a TFLite multiplier / shift
 * @param[in] softmax_params  exp and 1/(1+x) lookup tables (513 entries each)
 */
arm_cmsis_nn_status arm_softmax_s16(const int16_t *input,
                                    const int32_t num_rows,
                                    const int32_t row_size,
                                    const int32_t mult,
                                    const int32_t shift,
                                    const cmsis_nn_softmax_lut_s16 *softmax_params,
                                    int16_t *output);

/** @brief s16 elementwise add (TFLite ADD int16, left_shift 15). */
arm_cmsis_nn_status arm_elementwise_add_s16(const int16_t *input_1_vect,
                                            const int16_t *input_2_vect,
                                            const int32_t input_1_offset,
                                            const int32_t input_1_mult,
                                            const int32_t input_1_shift,
                                            const int32_t input_2_offset,
                                            const int32_t input_2_mult,
                                            const int32_t input_2_shift,
                                            const int32_t left_shift,
                                            int16_t *output,
                                            const int32_t out_offset,
                                            const int32_t out_mult,
                                            const int32_t out_shift,
                                            const int32_t out_activation_min,
                                            const int32_t out_activation_max,
                                            const int32_t block_size);

/** @brief s16 elementwise multiply (TFLite MUL int16). */
arm_cmsis_nn_status arm_elementwise_mul_s16(const int16_t *input_1_vect,
                                            const int16_t *input_2_vect,
                                            const int32_t input_1_offset,
                                            const int32_t input_2_offset,
                                            int16_t *output,
                                            const int32_t out_offset,
                                            const int32_t out_mult,
                                            const int32_t out_shift,
                                            const int32_t out_activation_min,
                                            const int32_t out_activation_max,
                                            const int32_t block_size);

/* ============================================================================================
 * Elementwise maximum / minimum (TFLite MAXIMUM / MINIMUM, int8)
 * ========================================================================================== */

/**
 * @brief s8 elementwise maximum with broadcasting: out = max(in1, in2) as int8 values.
 *
 * @param[in]  ctx           unused (no scratch; may be NULL)
 * @param[in]  input_1_data  int8 input 1, NHWC
 * @param[in]  input_1_dims  [N, H, W, C] of input 1; each dimension equals the output's or is 1
 *                           (broadcast); tensors of fewer dimensions fill the last fields (C first)
 * @param[in]  input_2_data  int8 input 2, NHWC
 * @param[in]  input_2_dims  [N, H, W, C] of input 2, same rule
 * @param[out] output_data   int8 output, NHWC
 * @param[in]  output_dims   [N, H, W, C] of the output (per dimension the larger input size)
 * @return ARM_CMSIS_NN_SUCCESS, or ARM_CMSIS_NN_ARG_ERROR when an input dimension is neither
 *         the output's nor 1
 *
 * Both inputs and the output share one scale and zero point (TFLite's rule), so no requantization.
 */
arm_cmsis_nn_status arm_maximum_s8(const cmsis_nn_context *ctx,
                                   const int8_t *input_1_data,
                                   const cmsis_nn_dims *input_1_dims,
                                   const int8_t *input_2_data,
                                   const cmsis_nn_dims *input_2_dims,
                                   int8_t *output_data,
                                   const cmsis_nn_dims *output_dims);

/** @brief s8 elementwise minimum with broadcasting: out = min(in1, in2); as arm_maximum_s8. */
arm_cmsis_nn_status arm_minimum_s8(const cmsis_nn_context *ctx,
                                   const int8_t *input_1_data,
                                   const cmsis_nn_dims *input_1_dims,
                                   const int8_t *input_2_data,
                                   const cmsis_nn_dims *input_2_dims,
                                   int8_t *output_data,
                                   const cmsis_nn_dims *output_dims);

/* ============================================================================================
 * Data movement: pad, transpose (int8)
 * ========================================================================================== */

/**
 * @brief Pads an int8 NHWC tensor with a constant in every dimension (TFLite PAD / PADV2).
 *
 * @param[in]  input       int8 input, NHWC
 * @param[out] output      int8 output of (n + pre.n + post.n) x (h + ..) x (w + ..) x (c + ..)
 *                         elements; must not overlap the input
 * @param[in]  pad_value   value of the padding (PAD: output zero point; PADV2: the quantized
 *                         constant value)
 * @param[in]  input_size  [N, H, W, C] of the input (rank < 4: leading fields 1)
 * @param[in]  pre_pad     elements added before the data, per field (>= 0)
 * @param[in]  post_pad    elements added after the data, per field (>= 0)
 * @return ARM_CMSIS_NN_SUCCESS
 */
arm_cmsis_nn_status arm_pad_s8(const int8_t *input,
                               int8_t *output,
                               const int8_t pad_value,
                               const cmsis_nn_dims *input_size,
                               const cmsis_nn_dims *pre_pad,
                               const cmsis_nn_dims *post_pad);

/**
 * @brief Transposes an int8 tensor of 1 to 4 dimensions (TFLite TRANSPOSE).
 *
 * @param[in]  input_data        int8 input
 * @param[out] output_data       int8 output (same element count); must not overlap the input
 * @param[in]  input_dims        input sizes in the first num_dims fields (n, h, w, c order)
 * @param[in]  output_dims       output sizes, the same way (the permuted input sizes; unused)
 * @param[in]  transpose_params  num_dims (1..4) and permutations[num_dims]: output dimension i
 *                               is input dimension permutations[i]
 * @return ARM_CMSIS_NN_SUCCESS, or ARM_CMSIS_NN_ARG_ERROR when num_dims is outside 1..4 or the
 *         permutation is not one
 *
 * Note: for num_dims == 2 Arm's implementation swaps the two dimensions whatever the
 * permutation; byoc's applies the permutation (the same result for {1, 0}).
 */
arm_cmsis_nn_status arm_transpose_s8(const int8_t *input_data,
                                     int8_t *const output_data,
                                     const cmsis_nn_dims *const input_dims,
                                     const cmsis_nn_dims *const output_dims,
                                     const cmsis_nn_transpose_params *const transpose_params);

/* ============================================================================================
 * int16 activation functions
 * ========================================================================================== */

/**
 * @brief int16 LOGISTIC (ARM_SIGMOID) or TANH (ARM_TANH) by table interpolation, bit-exact with
 *        TFLite's int16 kernels (output scale 1/32768, zero point 0).
 *
 * @param[in]  input       int16 input (zero point 0)
 * @param[out] output      int16 output (may be the input)
 * @param[in]  size        number of elements
 * @param[in]  left_shift  input scale as a power of two: scale = 2^(left_shift - 12); values
 *                         < 3 (e.g. 1 for 2^-11, 0 for 2^-12, -1 for 2^-13). Other input scales
 *                         need TFLite's general multiplier, which this API does not take.
 * @param[in]  type        ARM_SIGMOID or ARM_TANH
 * @return ARM_CMSIS_NN_SUCCESS
 */
arm_cmsis_nn_status arm_nn_activation_s16(const int16_t *input,
                                          int16_t *output,
                                          const int32_t size,
                                          const int32_t left_shift,
                                          const arm_nn_activation_type type);

/* ============================================================================================
 * Transpose convolution (TFLite TRANSPOSE_CONV, int8)
 * ========================================================================================== */

/**
 * @brief s8 transpose convolution wrapper; byoc forwards every configuration to
 *        arm_transpose_conv_s8.
 *
 * @param[in, out] ctx                   scratch of arm_transpose_conv_s8_get_buffer_size() bytes
 *                                       (Arm's library requires it; byoc's kernel does not use it)
 * @param[in, out] reverse_conv_ctx      scratch of arm_transpose_conv_s8_get_reverse_conv_buffer_size()
 *                                       bytes (Arm's flipped filter; unused by byoc)
 * @param[in]      transpose_conv_params input offset [-127, 128], output offset [-128, 127], stride,
 *                                       padding (TFLite padding_values: total / 2, cropped before),
 *                                       padding_offsets (total % 2; implied by the output size),
 *                                       dilation (1), activation range
 * @param[in]      quant_params          per-output-channel multiplier and shift
 * @param[in]      input_dims            [N, H, W, C_IN]
 * @param[in]      input_data            int8 input, NHWC
 * @param[in]      filter_dims           [C_OUT, KH, KW, C_IN]
 * @param[in]      filter_data           int8 filter, OHWI
 * @param[in]      bias_dims             [C_OUT] (unused)
 * @param[in]      bias_data             int32 bias or NULL
 * @param[in]      output_dims           [N, OH, OW, C_OUT]
 * @param[out]     output_data           int8 output, NHWC
 * @return ARM_CMSIS_NN_SUCCESS, or ARM_CMSIS_NN_ARG_ERROR for a stride < 1, a negative padding or
 *         filter C != input C
 */
arm_cmsis_nn_status arm_transpose_conv_wrapper_s8(const cmsis_nn_context *ctx,
                                                  const cmsis_nn_context *reverse_conv_ctx,
                                                  const cmsis_nn_transpose_conv_params *transpose_conv_params,
                                                  const cmsis_nn_per_channel_quant_params *quant_params,
                                                  const cmsis_nn_dims *input_dims,
                                                  const int8_t *input_data,
                                                  const cmsis_nn_dims *filter_dims,
                                                  const int8_t *filter_data,
                                                  const cmsis_nn_dims *bias_dims,
                                                  const int32_t *bias_data,
                                                  const cmsis_nn_dims *output_dims,
                                                  int8_t *output_data);

/**
 * @brief s8 transpose convolution: out[oy][ox][co] collects every (input pixel, tap) with
 *        iy * stride.h + fy - padding.h == oy and ix * stride.w + fx - padding.w == ox.
 *        Arguments as arm_transpose_conv_wrapper_s8 (output_ctx: Arm's scratch, unused). byoc's
 *        kernel needs no scratch.
 */
arm_cmsis_nn_status arm_transpose_conv_s8(const cmsis_nn_context *ctx,
                                          const cmsis_nn_context *output_ctx,
                                          const cmsis_nn_transpose_conv_params *transpose_conv_params,
                                          const cmsis_nn_per_channel_quant_params *quant_params,
                                          const cmsis_nn_dims *input_dims,
                                          const int8_t *input_data,
                                          const cmsis_nn_dims *filter_dims,
                                          const int8_t *filter_data,
                                          const cmsis_nn_dims *bias_dims,
                                          const int32_t *bias_data,
                                          const cmsis_nn_dims *output_dims,
                                          int8_t *output_data);

/**
 * @brief Bytes of ctx for the transpose convolution (Arm v7's size of this build's path):
 *        both strides <= 2 and C_IN > 16: arm_convolve_s8_get_buffer_size of the input upsampled
 *        by the strides; otherwise 4 * max(KH, stride.h) * ((W_IN - 1) * stride.w +
 *        max(KW, stride.h)) * C_OUT.
 */
int32_t arm_transpose_conv_s8_get_buffer_size(const cmsis_nn_transpose_conv_params *transposed_conv_params,
                                              const cmsis_nn_dims *input_dims,
                                              const cmsis_nn_dims *filter_dims,
                                              const cmsis_nn_dims *out_dims);

/**
 * @brief Bytes of reverse_conv_ctx: C_IN * KW * KH * C_OUT when both strides <= 2 and C_IN > 16,
 *        else 0. (The _mve / _dsp size variants are not provided: v7.0.0 declares them without
 *        defining them, and Arm's main changed the _mve signature and dropped _dsp.)
 */
int32_t arm_transpose_conv_s8_get_reverse_conv_buffer_size(const cmsis_nn_transpose_conv_params *transposed_conv_params,
                                                           const cmsis_nn_dims *input_dims,
                                                           const cmsis_nn_dims *filter_dims);

/* ============================================================================================
 * SVDF (TFLite SVDF, int8 input and output; TFLM's integer SVDF)
 * ========================================================================================== */

/**
 * @brief SVDF with an int8 state and int8 time weights; one invoke (one time step).
 *
 * @param[in]     ctx                   Helium path: arm_svdf_s8_get_buffer_size() bytes holding
 *                                      the kernel sums arm_vector_sum_s8 gives for the feature
 *                                      weights with lhs_offset -input_offset (Arm's contract;
 *                                      byoc's implementation does not read them). Other paths:
 *                                      unused (size 0, may be NULL).
 * @param[in]     input_ctx             scratch of input_dims->n * weights_feature_dims->n int32
 *                                      (the per-filter time sums)
 * @param[in]     output_ctx            scratch of input_dims->n * units int32 (per-unit sums)
 * @param[in]     svdf_params           rank (filters per unit), input_offset = input zero point
 *                                      [-128, 127], output_offset = output zero point [-128, 127],
 *                                      input_activation: clamp of the new state values (TFLM's
 *                                      reference kernel: the state type's range),
 *                                      output_activation: clamp of the output
 * @param[in]     input_quant_params    input * feature weights -> state requantization
 * @param[in]     output_quant_params   state * time weights -> output requantization
 * @param[in]     input_dims            n = batches, h = input size
 * @param[in]     input_data            int8 input [batches, input size]
 * @param[in]     state_dims            unused ([batches, filters * memory])
 * @param[in,out] state_data            int8 state [batches, filters, memory], zero point 0;
 *                                      updated in place: shifted left by one element, the
 *                                      newest column (memory - 1) of each filter refilled
 * @param[in]     weights_feature_dims  n = filters, h = input size
 * @param[in]     weights_feature_data  int8 [filters, input size] (zero point 0)
 * @param[in]     weights_time_dims     n = filters, h = memory
 * @param[in]     weights_time_data     int8 [filters, memory] (zero point 0)
 * @param[in]     bias_dims             unused (n = units)
 * @param[in]     bias_data             int32 [units] or NULL
 * @param[in]     output_dims           unused ([batches, units])
 * @param[out]    output_data           int8 [batches, units]
 * @return ARM_CMSIS_NN_SUCCESS, or ARM_CMSIS_NN_ARG_ERROR when a scratch buffer is NULL or the
 *         rank does not divide the filters
 */
arm_cmsis_nn_status arm_svdf_s8(const cmsis_nn_context *ctx,
                                const cmsis_nn_context *input_ctx,
                                const cmsis_nn_context *output_ctx,
                                const cmsis_nn_svdf_params *svdf_params,
                                const cmsis_nn_per_tensor_quant_params *input_quant_params,
                                const cmsis_nn_per_tensor_quant_params *output_quant_params,
                                const cmsis_nn_dims *input_dims,
                                const int8_t *input_data,
                                const cmsis_nn_dims *state_dims,
                                int8_t *state_data,
                                const cmsis_nn_dims *weights_feature_dims,
                                const int8_t *weights_feature_data,
                                const cmsis_nn_dims *weights_time_dims,
                                const int8_t *weights_time_data,
                                const cmsis_nn_dims *bias_dims,
                                const int32_t *bias_data,
                                const cmsis_nn_dims *output_dims,
                                int8_t *output_data);

/**
 * @brief SVDF with an int16 state and int16 time weights; as arm_svdf_s8 without ctx.
 *        state_data int16 [batches, filters, memory] (zero point 0), weights_time_data int16.
 */
arm_cmsis_nn_status arm_svdf_state_s16_s8(const cmsis_nn_context *input_ctx,
                                          const cmsis_nn_context *output_ctx,
                                          const cmsis_nn_svdf_params *svdf_params,
                                          const cmsis_nn_per_tensor_quant_params *input_quant_params,
                                          const cmsis_nn_per_tensor_quant_params *output_quant_params,
                                          const cmsis_nn_dims *input_dims,
                                          const int8_t *input_data,
                                          const cmsis_nn_dims *state_dims,
                                          int16_t *state_data,
                                          const cmsis_nn_dims *weights_feature_dims,
                                          const int8_t *weights_feature_data,
                                          const cmsis_nn_dims *weights_time_dims,
                                          const int16_t *weights_time_data,
                                          const cmsis_nn_dims *bias_dims,
                                          const int32_t *bias_data,
                                          const cmsis_nn_dims *output_dims,
                                          int8_t *output_data);

/** @brief Bytes of arm_svdf_s8's ctx: weights_feature_dims->n * 4 on the Helium path, else 0. */
int32_t arm_svdf_s8_get_buffer_size(const cmsis_nn_dims *weights_feature_dims);
/** @brief arm_svdf_s8_get_buffer_size() of the DSP path (0), for host-side planning. */
int32_t arm_svdf_s8_get_buffer_size_dsp(const cmsis_nn_dims *weights_feature_dims);
/** @brief arm_svdf_s8_get_buffer_size() of the Helium path (filters * 4), for host-side planning. */
int32_t arm_svdf_s8_get_buffer_size_mve(const cmsis_nn_dims *weights_feature_dims);

#ifdef __cplusplus
}
#endif

#endif /* ARM_NNFUNCTIONS_H */
