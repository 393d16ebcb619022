/*
 * byoc_nn_mat_mult_s8.c - int8 rows x transposed int8 weights with requantization: the core of
 * 1x1 convolution, im2col convolution and fully connected layers.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * lhs: `lhs_rows` rows of `k` int8 values, row r at lhs + r * lhs_stride.
 * rhs: weights [n_out][k], row o contiguous.
 * dst: dst[r * dst_stride + o], int8.
 *   acc = (kernel_sum ? kernel_sum[o] + sum_j (w + rhs_offset) * x
 *                     : bias[o] + sum_j (w + rhs_offset) * (x + lhs_offset))
 *   dst = clamp(requantize(acc, mult[o or 0], shift[o or 0]) + dst_offset, act_min, act_max)
 * Scratch memory: none. The Helium path reads lhs/rhs with tail predication (never past k).
 */
#include "Internal/byoc_nn_support.h"


static arm_cmsis_nn_status mat_mult_ref(const int8_t *lhs,
                                        int32_t lhs_rows,
                                        int32_t lhs_stride,
                                        const int8_t *rhs,
                                        int32_t n_out,
                                        int32_t k,
                                        const int32_t *bias,
                                        const int32_t *kernel_sum,
                                        const int32_t *mult,
                                        const int32_t *shift,
                                        int32_t per_channel,
                                        int32_t lhs_offset,
                                        int32_t rhs_offset,
                                        int32_t dst_offset,
                                        int32_t act_min,
                                        int32_t act_max,
                                        int8_t *dst,
                                        int32_t dst_stride)
{
    /* Portable C: two rows x two output channels per step. With kernel sums the lhs offset is
     * already accounted for. */
    const int32_t x_off = kernel_sum != NULL ? 0 : lhs_offset;
    for (int32_t r = 0; r < lhs_rows; r += 2)
    {
        const int two_rows = r + 1 < lhs_rows;
        const int8_t *row0 = lhs + r * lhs_stride;
        const int8_t *row1 = two_rows ? row0 + lhs_stride : row0;
        int8_t *out0 = dst + r * dst_stride;
        int8_t *out1 = out0 + dst_stride;
        for (int32_t o = 0; o < n_out; o += 2)
        {
            const int two_ch = o + 1 < n_out;
            const int32_t o1 = two_ch ? o + 1 : o;
            const int8_t *w0 = rhs + o * k;
            const int8_t *w1 = rhs + o1 * k;
            int32_t b0, b1;
            if (kernel_sum != NULL)
            {
                b0 = kernel_sum[o];
                b1 = kernel_sum[o1];
            }
            else
            {
                b0 = bias != NULL ? bias[o] : 0;
                b1 = bias != NULL ? bias[o1] : 0;
            }
            int32_t acc00 = b0, acc10 = b0, acc01 = b1, acc11 = b1; /* acc<row><channel> */
            if (rhs_offset == 0)
            {
                const int8_t *pa = row0, *pb = row1, *pw0 = w0, *pw1 = w1;
                for (int32_t j = k; j > 0; j--)
                {
                    const int32_t x = *pa++ + x_off;
                    const int32_t y = *pb++ + x_off;
                    const int32_t wa = *pw0++;
                    const int32_t wb = *pw1++;
                    acc00 += x * wa;
                    acc10 += y * wa;
                    acc01 += x * wb;
                    acc11 += y * wb;
                }
            }
            else
            {
                for (int32_t j = 0; j < k; j++)
                {
                    const int32_t x = row0[j] + x_off;
                    const int32_t y = row1[j] + x_off;
                    const int32_t wa = w0[j] + rhs_offset;
                    const int32_t wb = w1[j] + rhs_offset;
                    acc00 += x * wa;
                    acc10 += y * wa;
                    acc01 += x * wb;
                    acc11 += y * wb;
                }
            }
            const int32_t q0 = per_channel ? o : 0;
            const int32_t q1 = per_channel ? o1 : 0;
            out0[o] = byoc_nn_clamp_s8(byoc_nn_requantize(acc00, mult[q0], shift[q0]) + dst_offset, act_min, act_max);
            if (two_ch)
            {
                out0[o1] =
                    byoc_nn_clamp_s8(byoc_nn_requantize(acc01, mult[q1], shift[q1]) + dst_offset, act_min, act_max);
            }
            if (two_rows)
            {
                out1[o] =
                    byoc_nn_clamp_s8(byoc_nn_requantize(acc10, mult[q0], shift[q0]) + dst_offset, act_min, act_max);
                if (two_ch)
                {
                    out1[o1] = byoc_nn_clamp_s8(byoc_nn_requantize(acc11, mult[q1], shift[q1]) + dst_offset, act_min,
                                               act_max);
                }
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}

#if defined(ARM_MATH_MVEI)

/* Clamp, add the output offset and store helpers shared by both Helium kernels. */
ARM_NN_INLINE int32x4_t finish_mve(int32x4_t acc, const int32_t dst_offset, const int32_t act_min, const int32_t act_max)
{
    acc = vaddq_n_s32(acc, dst_offset);
    acc = vmaxq_s32(acc, vdupq_n_s32(act_min));
    return vminq_s32(acc, vdupq_n_s32(act_max));
}

/* Requantize, offset, clamp and store four outputs of one row (lanes = output channels). */
ARM_NN_INLINE void store_row_mve(int32x4_t acc,
                                 const int32x4_t vm,
                                 const int32x4_t vs,
                                 const int32_t dst_offset,
                                 const int32_t act_min,
                                 const int32_t act_max,
                                 int8_t *dst,
                                 const mve_pred16_t p)
{
    acc = byoc_nn_requantize_mve_32x4(acc, vm, vs);
    acc = finish_mve(acc, dst_offset, act_min, act_max);
    vstrbq_p_s32(dst, acc, p);
}

/*
 * dot4_block: for n_ch consecutive weight rows of k bytes (w, w + k, ...), four dot products with
 * the rows r0..r3 and the weight-row sum, stored as out[c * 5 + {0, 1, 2, 3, 4}]. One
 * tail-predicated loop per channel: one weight load, four row loads, four VMLADAVA and one VADDVA
 * per 16 bytes (11 instructions per 64 multiply-accumulates); about 12 instructions of set-up per
 * channel. Plain assembly (AAPCS): r0 = w, r1 = rows[4], r2 = k (>= 1), r3 = n_ch (>= 1),
 * [sp] = out.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter" /* a naked function reads its arguments in assembly */
__attribute__((naked, noinline)) static void dot4_block(const int8_t *w,
                                                        const int8_t *const *rows,
                                                        int32_t k,
                                                        int32_t n_ch,
                                                        int32_t *out)
{
    __asm volatile("push    {r4-r11, lr}                 \n"
                   "ldr     r12, [sp, #36]               \n" /* out */
                   "mov     r11, r3                      \n" /* channels left */
                   "mov     r9, r0                       \n" /* weights */
                   "ldm     r1, {r0, r3, r4, r5}         \n" /* the four row pointers */
                   "sub     sp, sp, #24                  \n"
                   "strd    r0, r3, [sp]                 \n"
                   "strd    r4, r5, [sp, #8]             \n"
                   "add     r0, r2, #15                  \n"
                   "bic     r0, r0, #15                  \n"
                   "sub     r0, r2, r0                   \n" /* k - roundup16(k): weight pointer fix-up */
                   "str     r0, [sp, #16]                \n"
                   "1:                                   \n"
                   "ldrd    r1, r3, [sp]                 \n"
                   "ldrd    r5, r7, [sp, #8]             \n"
                   "movs    r0, #0                       \n"
                   "movs    r4, #0                       \n"
                   "movs    r6, #0                       \n"
                   "mov     r8, #0                       \n"
                   "mov     r10, #0                      \n"
                   "dlstp.8 lr, r2                       \n"
                   "2:                                   \n"
                   "vldrb.8     q0, [r9], #16            \n"
                   "vaddva.s8   r10, q0                  \n"
                   "vldrb.8     q1, [r1], #16            \n"
                   "vmlava.s8   r0, q1, q0               \n"
                   "vldrb.8     q2, [r3], #16            \n"
                   "vmlava.s8   r4, q2, q0               \n"
                   "vldrb.8     q3, [r5], #16            \n"
                   "vmlava.s8   r6, q3, q0               \n"
                   "vldrb.8     q1, [r7], #16            \n"
                   "vmlava.s8   r8, q1, q0               \n"
                   "letp    lr, 2b                       \n"
                   "stmia   r12!, {r0, r4, r6, r8, r10}  \n"
                   "ldr     r0, [sp, #16]                \n"
                   "add     r9, r9, r0                   \n"
                   "subs    r11, r11, #1                 \n"
                   "bne     1b                           \n"
                   "add     sp, sp, #24                  \n"
                   "pop     {r4-r11, pc}                 \n");
}
#pragma GCC diagnostic pop

/*
 * Four rows x four output channels per block (dot4_block), then the 4x4 results are requantized a
 * row at a time with per-lane (per-channel) multipliers: the gather loads transpose the
 * [channel][row] results. Rows may repeat; only the first nrows are stored.
 */
void byoc_nn_mat_mult_4rows_s8_mve(const int8_t *const rows[4],
                                  const int32_t nrows,
                                  const int8_t *rhs,
                                  const int32_t n_out,
                                  const int32_t k,
                                  const int32_t *bias,
                                  const int32_t *mult,
                                  const int32_t *shift,
                                  const int32_t per_channel,
                                  const int32_t lhs_offset,
                                  const int32_t dst_offset,
                                  const int32_t act_min,
                                  const int32_t act_max,
                                  int8_t *dst,
                                  const int32_t dst_stride)
{
    int32_t res[4 * 5]; /* [channel][row 0..3, weight sum] */
    const uint32x4_t by_channel = vidupq_n_u32(0, 1) * 5u;
    int32x4_t vm = vdupq_n_s32(mult[0]);
    int32x4_t vs = vdupq_n_s32(shift[0]);

    for (int32_t o = 0; o < n_out; o += 4)
    {
        const int32_t n = MIN(4, n_out - o);
        const mve_pred16_t p = vctp32q((uint32_t)n);
        dot4_block(rhs + o * k, rows, k, n, res);
        int32x4_t base = vmulq_n_s32(vldrwq_gather_shifted_offset_z_s32(res + 4, by_channel, p), lhs_offset);
        if (bias != NULL)
        {
            base = vaddq_s32(base, vldrwq_z_s32(bias + o, p));
        }
        if (per_channel)
        {
            vm = vldrwq_z_s32(mult + o, p);
            vs = vldrwq_z_s32(shift + o, p);
        }
        int8_t *d = dst + o;
        for (int32_t r = 0; r < nrows; r++)
        {
            const int32x4_t acc = vldrwq_gather_shifted_offset_z_s32(res + r, by_channel, p);
            store_row_mve(vaddq_s32(acc, base), vm, vs, dst_offset, act_min, act_max, d, p);
            d += dst_stride;
        }
    }
}

/*
 * dot6_block: six rows against n_ch consecutive weight rows, without weight sums (the caller has
 * kernel sums): out[c * 6 + r] = sum_j w_c[j] * row_r[j]. Per 16 bytes of k: seven loads, six
 * VMLADAVA (14 instructions per 96 multiply-accumulates). r0 = w, r1 = rows[6], r2 = k (>= 1),
 * r3 = n_ch (>= 1), [sp] = out.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter" /* a naked function reads its arguments in assembly */
__attribute__((naked, noinline)) static void dot6_block(const int8_t *w,
                                                        const int8_t *const *rows,
                                                        int32_t k,
                                                        int32_t n_ch,
                                                        int32_t *out)
{
    __asm volatile("push    {r4-r11, lr}                         \n"
                   "sub     sp, sp, #40                          \n"
                   "ldm     r1, {r4-r9}                          \n"
                   "stm     sp, {r4-r9}                          \n" /* [sp, #0..20]: row pointers */
                   "str     r2, [sp, #24]                        \n" /* k */
                   "add     r4, r2, #15                          \n"
                   "bic     r4, r4, #15                          \n"
                   "sub     r4, r2, r4                           \n"
                   "str     r4, [sp, #28]                        \n" /* weight pointer fix-up */
                   "ldr     r4, [sp, #76]                        \n"
                   "str     r4, [sp, #32]                        \n" /* out */
                   "str     r3, [sp, #36]                        \n" /* channels left */
                   "mov     r12, r0                              \n"
                   "1:                                           \n"
                   "ldm     sp, {r1, r3, r5, r7, r9, r11}        \n"
                   "ldr     r0, [sp, #24]                        \n"
                   "dlstp.8 lr, r0                               \n"
                   "movs    r0, #0                               \n"
                   "movs    r2, #0                               \n"
                   "movs    r4, #0                               \n"
                   "movs    r6, #0                               \n"
                   "mov     r8, #0                               \n"
                   "mov     r10, #0                              \n"
                   "2:                                           \n"
                   "vldrb.8     q0, [r12], #16                   \n"
                   "vldrb.8     q1, [r1], #16                    \n"
                   "vmlava.s8   r0, q1, q0                       \n"
                   "vldrb.8     q2, [r3], #16                    \n"
                   "vmlava.s8   r2, q2, q0                       \n"
                   "vldrb.8     q3, [r5], #16                    \n"
                   "vmlava.s8   r4, q3, q0                       \n"
                   "vldrb.8     q1, [r7], #16                    \n"
                   "vmlava.s8   r6, q1, q0                       \n"
                   "vldrb.8     q2, [r9], #16                    \n"
                   "vmlava.s8   r8, q2, q0                       \n"
                   "vldrb.8     q3, [r11], #16                   \n"
                   "vmlava.s8   r10, q3, q0                      \n"
                   "letp    lr, 2b                               \n"
                   "ldr     r1, [sp, #32]                        \n"
                   "stmia   r1!, {r0, r2, r4, r6, r8, r10}       \n"
                   "str     r1, [sp, #32]                        \n"
                   "ldr     r1, [sp, #28]                        \n"
                   "add     r12, r12, r1                         \n"
                   "ldr     r1, [sp, #36]                        \n"
                   "subs    r1, r1, #1                           \n"
                   "str     r1, [sp, #36]                        \n"
                   "bne     1b                                   \n"
                   "add     sp, sp, #40                          \n"
                   "pop     {r4-r11, pc}                         \n");
}
#pragma GCC diagnostic pop

#define KSUM_CHUNK 64

/*
 * Many rows (1x1 convolution): kernel sums for up to 64 output channels at a time on the stack,
 * then six rows x four channels per block (dot6_block); remaining rows by the four-row kernel.
 */
static void mat_mult_6rows_mve(const int8_t *lhs,
                               const int32_t lhs_rows,
                               const int32_t lhs_stride,
                               const int8_t *rhs,
                               const int32_t n_out,
                               const int32_t k,
                               const int32_t *bias,
                               const int32_t *mult,
                               const int32_t *shift,
                               const int32_t per_channel,
                               const int32_t lhs_offset,
                               const int32_t dst_offset,
                               const int32_t act_min,
                               const int32_t act_max,
                               int8_t *dst,
                               const int32_t dst_stride)
{
    int32_t ksum[KSUM_CHUNK];
    int32_t res[4 * 6]; /* [channel][row] */
    const uint32x4_t by_channel = vidupq_n_u32(0, 1) * 6u;
    int32x4_t vm = vdupq_n_s32(mult[0]);
    int32x4_t vs = vdupq_n_s32(shift[0]);
    const int32_t full_rows = lhs_rows - lhs_rows % 6;

    for (int32_t o0 = 0; o0 < n_out; o0 += KSUM_CHUNK)
    {
        const int32_t n_ch = MIN(KSUM_CHUNK, n_out - o0);
        for (int32_t c = 0; c < n_ch; c++)
        {
            ksum[c] = (bias != NULL ? bias[o0 + c] : 0) + lhs_offset * byoc_nn_sum_s8_mve(rhs + (o0 + c) * k, k);
        }
        for (int32_t r = 0; r < full_rows; r += 6)
        {
            const int8_t *rows[6];
            for (int32_t i = 0; i < 6; i++)
            {
                rows[i] = lhs + (r + i) * lhs_stride;
            }
            for (int32_t c = 0; c < n_ch; c += 4)
            {
                const int32_t o = o0 + c;
                const int32_t n = MIN(4, n_ch - c);
                const mve_pred16_t p = vctp32q((uint32_t)n);
                dot6_block(rhs + o * k, rows, k, n, res);
                const int32x4_t base = vldrwq_z_s32(ksum + c, p);
                if (per_channel)
                {
                    vm = vldrwq_z_s32(mult + o, p);
                    vs = vldrwq_z_s32(shift + o, p);
                }
                int8_t *d = dst + r * dst_stride + o;
                for (int32_t i = 0; i < 6; i++)
                {
                    const int32x4_t acc = vldrwq_gather_shifted_offset_z_s32(res + i, by_channel, p);
                    store_row_mve(vaddq_s32(acc, base), vm, vs, dst_offset, act_min, act_max, d, p);
                    d += dst_stride;
                }
            }
        }
        /* Remaining rows (fewer than six), four at a time. */
        for (int32_t r = full_rows; r < lhs_rows; r += 4)
        {
            const int32_t n = MIN(4, lhs_rows - r);
            const int8_t *rows[4];
            for (int32_t i = 0; i < 4; i++)
            {
                rows[i] = lhs + (r + (i < n ? i : 0)) * lhs_stride;
            }
            byoc_nn_mat_mult_4rows_s8_mve(rows, n, rhs + o0 * k, n_ch, k, bias != NULL ? bias + o0 : NULL,
                                         per_channel ? mult + o0 : mult, per_channel ? shift + o0 : shift,
                                         per_channel, lhs_offset, dst_offset, act_min, act_max,
                                         dst + r * dst_stride + o0, dst_stride);
        }
    }
}

/*
 * One row x four output channels per step (fully connected): one tail-predicated loop with one
 * row load, four weight loads and four VMLADAVA (10 instructions per 64 MACs). The kernel sums
 * (bias + lhs_offset * weight row sums) come from kernel_sum, or are computed per group.
 */
static void mat_mult_row_mve(const int8_t *row,
                             const int8_t *rhs,
                             const int32_t n_out,
                             const int32_t k,
                             const int32_t *bias,
                             const int32_t *kernel_sum,
                             const int32_t *mult,
                             const int32_t *shift,
                             const int32_t per_channel,
                             const int32_t lhs_offset,
                             const int32_t dst_offset,
                             const int32_t act_min,
                             const int32_t act_max,
                             int8_t *dst)
{
    int32_t dot[4];
    int32x4_t vm = vdupq_n_s32(mult[0]);
    int32x4_t vs = vdupq_n_s32(shift[0]);

    for (int32_t o = 0; o < n_out; o += 4)
    {
        const int32_t n = MIN(4, n_out - o);
        const mve_pred16_t p = vctp32q((uint32_t)n);
        const int8_t *w0 = rhs + o * k;
        const int8_t *w1 = n > 1 ? w0 + k : w0;
        const int8_t *w2 = n > 2 ? w0 + 2 * k : w0;
        const int8_t *w3 = n > 3 ? w0 + 3 * k : w0;
        int32x4_t base;
        if (kernel_sum != NULL)
        {
            base = vldrwq_z_s32(kernel_sum + o, p);
        }
        else
        {
            const int32_t sums[4] = {byoc_nn_sum_s8_mve(w0, k), byoc_nn_sum_s8_mve(w1, k), byoc_nn_sum_s8_mve(w2, k),
                                     byoc_nn_sum_s8_mve(w3, k)};
            base = vmulq_n_s32(vld1q_s32(sums), lhs_offset);
            if (bias != NULL)
            {
                base = vaddq_s32(base, vldrwq_z_s32(bias + o, p));
            }
        }
        byoc_nn_dot1x4_s8_mve(row, w0, w1, w2, w3, k, dot);
        if (per_channel)
        {
            vm = vldrwq_z_s32(mult + o, p);
            vs = vldrwq_z_s32(shift + o, p);
        }
        store_row_mve(vaddq_s32(vld1q_s32(dot), base), vm, vs, dst_offset, act_min, act_max, dst + o, p);
    }
}

arm_cmsis_nn_status byoc_nn_mat_mult_s8(const int8_t *lhs,
                                       int32_t lhs_rows,
                                       int32_t lhs_stride,
                                       const int8_t *rhs,
                                       int32_t n_out,
                                       int32_t k,
                                       const int32_t *bias,
                                       const int32_t *kernel_sum,
                                       const int32_t *mult,
                                       const int32_t *shift,
                                       int32_t per_channel,
                                       int32_t lhs_offset,
                                       int32_t rhs_offset,
                                       int32_t dst_offset,
                                       int32_t act_min,
                                       int32_t act_max,
                                       int8_t *dst,
                                       int32_t dst_stride)
{
    if (rhs_offset != 0)
    {
        return mat_mult_ref(lhs, lhs_rows, lhs_stride, rhs, n_out, k, bias, kernel_sum, mult, shift, per_channel,
                            lhs_offset, rhs_offset, dst_offset, act_min, act_max, dst, dst_stride);
    }
    int32_t r = 0;
    if (kernel_sum == NULL && lhs_rows >= 6)
    {
        mat_mult_6rows_mve(lhs, lhs_rows, lhs_stride, rhs, n_out, k, bias, mult, shift, per_channel, lhs_offset,
                           dst_offset, act_min, act_max, dst, dst_stride);
        return ARM_CMSIS_NN_SUCCESS;
    }
    if (kernel_sum == NULL)
    {
        for (; r + 4 <= lhs_rows; r += 4)
        {
            const int8_t *rows[4] = {lhs + r * lhs_stride, lhs + (r + 1) * lhs_stride, lhs + (r + 2) * lhs_stride,
                                     lhs + (r + 3) * lhs_stride};
            byoc_nn_mat_mult_4rows_s8_mve(rows, 4, rhs, n_out, k, bias, mult, shift, per_channel, lhs_offset,
                                         dst_offset, act_min, act_max, dst + r * dst_stride, dst_stride);
        }
    }
    for (; r < lhs_rows; r++)
    {
        mat_mult_row_mve(lhs + r * lhs_stride, rhs, n_out, k, bias, kernel_sum, mult, shift, per_channel, lhs_offset,
                         dst_offset, act_min, act_max, dst + r * dst_stride);
    }
    return ARM_CMSIS_NN_SUCCESS;
}

#elif defined(ARM_MATH_DSP)

/* Requantize, offset, clamp one accumulator. */
ARM_NN_INLINE int8_t finish_dsp(const int32_t acc,
                                const int32_t mult,
                                const int32_t shift,
                                const int32_t dst_offset,
                                const int32_t act_min,
                                const int32_t act_max)
{
    return byoc_nn_clamp_s8(byoc_nn_requantize_dsp(acc, mult, shift) + dst_offset, act_min, act_max);
}

/*
 * The assembly blocks below are plain AAPCS functions (Thumb-2, DSP extension). Each group of
 * four values: weights are loaded a word at a time and widened with SXTB16 / SXTB16 ROR #8 into
 * (w0, w2) and (w1, w3); the other operand is in the same lane order; SMLAD adds both lane
 * products to an accumulator.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter" /* naked functions read their arguments in assembly */

/* r0 = cols, r1 = w, r2 = w_stride, r3 = groups, [sp] = acc. 17 instructions per 16 MACs. */
__attribute__((naked, noinline)) void
byoc_nn_dsp_dot2x2_c16(const int16_t *cols, const int8_t *w, int32_t w_stride, int32_t groups, int32_t *acc)
{
    __asm volatile("push    {r4-r11, lr}                 \n"
                   "ldr     r12, [sp, #36]               \n"
                   "ldm     r12, {r4-r7}                 \n" /* acc: c0.w0, c0.w1, c1.w0, c1.w1 */
                   "1:                                   \n"
                   "ldm     r0!, {r8-r11}                \n" /* c0 (x0,x2), c0 (x1,x3), c1 .., c1 .. */
                   "ldr     r12, [r1, r2]                \n" /* second weight row */
                   "sxtb16  lr, r12                      \n"
                   "sxtb16  r12, r12, ror #8             \n"
                   "smlad   r5, r8, lr, r5               \n"
                   "smlad   r7, r10, lr, r7              \n"
                   "smlad   r5, r9, r12, r5              \n"
                   "smlad   r7, r11, r12, r7             \n"
                   "ldr     r12, [r1], #4                \n" /* first weight row */
                   "sxtb16  lr, r12                      \n"
                   "sxtb16  r12, r12, ror #8             \n"
                   "smlad   r4, r8, lr, r4               \n"
                   "smlad   r6, r10, lr, r6              \n"
                   "smlad   r4, r9, r12, r4              \n"
                   "smlad   r6, r11, r12, r6             \n"
                   "subs    r3, r3, #1                   \n"
                   "bne     1b                           \n"
                   "ldr     r12, [sp, #36]               \n"
                   "stm     r12, {r4-r7}                 \n"
                   "pop     {r4-r11, pc}                 \n");
}

/* r0 = x, r1 = w, r2 = s, r3 = groups, [sp] = w2, [sp, #4] = off2, [sp, #8] = acc.
 * 25 instructions per 16 MACs. */
__attribute__((naked, noinline)) void byoc_nn_dsp_dot1x4_s8(
    const int8_t *x, const int8_t *w, int32_t s, int32_t groups, const int8_t *w2, int32_t off2, int32_t *acc)
{
    __asm volatile("push    {r4-r11, lr}                 \n"
                   "ldrd    r4, r5, [sp, #36]            \n" /* w2, off2 */
                   "ldr     r12, [sp, #44]               \n"
                   "ldm     r12, {r6-r9}                 \n"
                   "1:                                   \n"
                   "ldr     r10, [r0], #4                \n"
                   "sxtab16 r11, r5, r10                 \n" /* (x0, x2) + offset */
                   "sxtab16 r10, r5, r10, ror #8         \n" /* (x1, x3) + offset */
                   "ldr     r12, [r1, r2]                \n"
                   "sxtb16  lr, r12                      \n"
                   "sxtb16  r12, r12, ror #8             \n"
                   "smlad   r7, r11, lr, r7              \n"
                   "smlad   r7, r10, r12, r7             \n"
                   "ldr     r12, [r1], #4                \n"
                   "sxtb16  lr, r12                      \n"
                   "sxtb16  r12, r12, ror #8             \n"
                   "smlad   r6, r11, lr, r6              \n"
                   "smlad   r6, r10, r12, r6             \n"
                   "ldr     r12, [r4, r2]                \n"
                   "sxtb16  lr, r12                      \n"
                   "sxtb16  r12, r12, ror #8             \n"
                   "smlad   r9, r11, lr, r9              \n"
                   "smlad   r9, r10, r12, r9             \n"
                   "ldr     r12, [r4], #4                \n"
                   "sxtb16  lr, r12                      \n"
                   "sxtb16  r12, r12, ror #8             \n"
                   "smlad   r8, r11, lr, r8              \n"
                   "smlad   r8, r10, r12, r8             \n"
                   "subs    r3, r3, #1                   \n"
                   "bne     1b                           \n"
                   "ldr     r12, [sp, #44]               \n"
                   "stm     r12, {r6-r9}                 \n"
                   "pop     {r4-r11, pc}                 \n");
}

/* r0 = x, r1 = w, r2 = s, r3 = groups, [sp] = acc. 22 instructions per 16 MACs. */
__attribute__((naked, noinline)) void
byoc_nn_dsp_dot2x2_s8(const int8_t *x, const int8_t *w, int32_t s, int32_t groups, int32_t *acc)
{
    __asm volatile("push    {r4-r11, lr}                 \n"
                   "ldr     r12, [sp, #36]               \n"
                   "ldm     r12, {r4-r7}                 \n" /* x.w, x.w1, y.w, y.w1 */
                   "1:                                   \n"
                   "ldr     r9, [r0, r2]                 \n" /* second row */
                   "ldr     r8, [r0], #4                 \n" /* first row */
                   "sxtb16  r10, r8                      \n"
                   "sxtb16  r8, r8, ror #8               \n"
                   "sxtb16  r11, r9                      \n"
                   "sxtb16  r9, r9, ror #8               \n"
                   "ldr     r12, [r1, r2]                \n"
                   "sxtb16  lr, r12                      \n"
                   "sxtb16  r12, r12, ror #8             \n"
                   "smlad   r5, r10, lr, r5              \n"
                   "smlad   r7, r11, lr, r7              \n"
                   "smlad   r5, r8, r12, r5              \n"
                   "smlad   r7, r9, r12, r7              \n"
                   "ldr     r12, [r1], #4                \n"
                   "sxtb16  lr, r12                      \n"
                   "sxtb16  r12, r12, ror #8             \n"
                   "smlad   r4, r10, lr, r4              \n"
                   "smlad   r6, r11, lr, r6              \n"
                   "smlad   r4, r8, r12, r4              \n"
                   "smlad   r6, r9, r12, r6              \n"
                   "subs    r3, r3, #1                   \n"
                   "bne     1b                           \n"
                   "ldr     r12, [sp, #36]               \n"
                   "stm     r12, {r4-r7}                 \n"
                   "pop     {r4-r11, pc}                 \n");
}
#pragma GCC diagnostic pop

/* Sum of n int8 values. */
static int32_t sum_s8_dsp(const int8_t *p, const int32_t n)
{
    uint32_t u = 0;
    int32_t j = 0;
    for (; j + 4 <= n; j += 4)
    {
        /* x ^ 0x80 = x + 128 as an unsigned byte; USADA8 with 0 adds the four bytes. */
        u = __usada8((uint32_t)byoc_nn_read_s8x4(p + j) ^ 0x80808080u, 0u, u);
    }
    int32_t s = (int32_t)u - 128 * j;
    for (; j < n; j++)
    {
        s += p[j];
    }
    return s;
}

/*
 * Rows with the same stride as the weight rows (1x1 convolution, batched fully connected), at
 * least two rows: per output channel pair the kernel sums bias + lhs_offset * sum(w) once, then
 * two rows x two channels per block (byoc_nn_dsp_dot2x2_s8) over all row pairs. `rows` and
 * `n_ch` are even; an odd last channel or row is left to the caller.
 */
static void mat_mult_2x2_dsp(const int8_t *lhs,
                             const int32_t rows,
                             const int8_t *rhs,
                             const int32_t n_ch,
                             const int32_t k,
                             const int32_t *bias,
                             const int32_t *kernel_sum,
                             const int32_t *mult,
                             const int32_t *shift,
                             const int32_t per_channel,
                             const int32_t x_off,
                             const int32_t dst_offset,
                             const int32_t act_min,
                             const int32_t act_max,
                             int8_t *dst,
                             const int32_t dst_stride)
{
    const int32_t groups = k >> 2;
    const int32_t k4 = groups << 2;
    for (int32_t o = 0; o < n_ch; o += 2)
    {
        const int8_t *w0 = rhs + o * k;
        const int8_t *w1 = w0 + k;
        int32_t b0, b1;
        if (kernel_sum != NULL)
        {
            b0 = kernel_sum[o];
            b1 = kernel_sum[o + 1];
        }
        else
        {
            b0 = (bias != NULL ? bias[o] : 0) + x_off * sum_s8_dsp(w0, k);
            b1 = (bias != NULL ? bias[o + 1] : 0) + x_off * sum_s8_dsp(w1, k);
        }
        const int32_t m0 = mult[per_channel ? o : 0], s0 = shift[per_channel ? o : 0];
        const int32_t m1 = mult[per_channel ? o + 1 : 0], s1 = shift[per_channel ? o + 1 : 0];
        for (int32_t r = 0; r < rows; r += 2)
        {
            const int8_t *x = lhs + r * k;
            int32_t acc[4] = {b0, b1, b0, b1};
            byoc_nn_dsp_dot2x2_s8(x, w0, k, groups, acc);
            for (int32_t j = k4; j < k; j++)
            {
                acc[0] += x[j] * w0[j];
                acc[1] += x[j] * w1[j];
                acc[2] += x[k + j] * w0[j];
                acc[3] += x[k + j] * w1[j];
            }
            int8_t *d = dst + r * dst_stride + o;
            d[0] = finish_dsp(acc[0], m0, s0, dst_offset, act_min, act_max);
            d[1] = finish_dsp(acc[1], m1, s1, dst_offset, act_min, act_max);
            d[dst_stride] = finish_dsp(acc[2], m0, s0, dst_offset, act_min, act_max);
            d[dst_stride + 1] = finish_dsp(acc[3], m1, s1, dst_offset, act_min, act_max);
        }
    }
}

/*
 * One row x four output channels per block (byoc_nn_dsp_dot1x4_s8, the input offset added while
 * widening), for channels [o_begin, n_out). Fewer than four channels at the end repeat weight
 * rows and store only the distinct results.
 */
static void mat_mult_row_dsp(const int8_t *x,
                             const int8_t *rhs,
                             const int32_t o_begin,
                             const int32_t n_out,
                             const int32_t k,
                             const int32_t *bias,
                             const int32_t *kernel_sum,
                             const int32_t *mult,
                             const int32_t *shift,
                             const int32_t per_channel,
                             const int32_t x_off,
                             const int32_t dst_offset,
                             const int32_t act_min,
                             const int32_t act_max,
                             int8_t *dst)
{
    /* Channel of each lane by the number of channels in the block (index n - 1). */
    static const uint8_t lane_ch[4][4] = {{0, 0, 0, 0}, {0, 1, 0, 1}, {0, 1, 1, 2}, {0, 1, 2, 3}};
    static const uint8_t lane_of[4][4] = {{0, 0, 0, 0}, {0, 1, 0, 0}, {0, 1, 3, 0}, {0, 1, 2, 3}};
    const int32_t groups = k >> 2;
    const int32_t k4 = groups << 2;
    const int32_t off2 = byoc_nn_dup16(x_off);
    for (int32_t o = o_begin; o < n_out; o += 4)
    {
        const int32_t n = MIN(4, n_out - o);
        const int8_t *w = rhs + o * k;
        const int32_t s = n > 1 ? k : 0;
        const int8_t *w2 = n == 4 ? w + 2 * k : (n == 3 ? w + k : w);
        int32_t acc[4];
        for (int32_t i = 0; i < 4; i++)
        {
            const int32_t c = o + lane_ch[n - 1][i];
            acc[i] = kernel_sum != NULL ? kernel_sum[c] : (bias != NULL ? bias[c] : 0);
        }
        if (groups > 0)
        {
            byoc_nn_dsp_dot1x4_s8(x, w, s, groups, w2, off2, acc);
        }
        for (int32_t i = 0; i < 4; i++)
        {
            const int8_t *wi = w + lane_ch[n - 1][i] * k;
            for (int32_t j = k4; j < k; j++)
            {
                acc[i] += (x[j] + x_off) * wi[j];
            }
        }
        for (int32_t c = 0; c < n; c++)
        {
            const int32_t q = per_channel ? o + c : 0;
            dst[o + c] = finish_dsp(acc[lane_of[n - 1][c]], mult[q], shift[q], dst_offset, act_min, act_max);
        }
    }
}

/*
 * DSP: rows with the weight-row stride (1x1 convolution, batched fully connected) two rows x two
 * channels at a time with kernel sums; otherwise (and for an odd row or channel) a row at a time,
 * four channels per block.
 */
arm_cmsis_nn_status byoc_nn_mat_mult_s8(const int8_t *lhs,
                                       int32_t lhs_rows,
                                       int32_t lhs_stride,
                                       const int8_t *rhs,
                                       int32_t n_out,
                                       int32_t k,
                                       const int32_t *bias,
                                       const int32_t *kernel_sum,
                                       const int32_t *mult,
                                       const int32_t *shift,
                                       int32_t per_channel,
                                       int32_t lhs_offset,
                                       int32_t rhs_offset,
                                       int32_t dst_offset,
                                       int32_t act_min,
                                       int32_t act_max,
                                       int8_t *dst,
                                       int32_t dst_stride)
{
    if (rhs_offset != 0)
    {
        return mat_mult_ref(lhs, lhs_rows, lhs_stride, rhs, n_out, k, bias, kernel_sum, mult, shift, per_channel,
                            lhs_offset, rhs_offset, dst_offset, act_min, act_max, dst, dst_stride);
    }
    const int32_t x_off = kernel_sum != NULL ? 0 : lhs_offset;
    int32_t r = 0;
    int32_t pair_ch = 0;
    if (lhs_stride == k && lhs_rows >= 2 && k >= 4 && n_out >= 2)
    {
        pair_ch = n_out & ~1;
        r = lhs_rows & ~1;
        mat_mult_2x2_dsp(lhs, r, rhs, pair_ch, k, bias, kernel_sum, mult, shift, per_channel, x_off, dst_offset,
                         act_min, act_max, dst, dst_stride);
        if (pair_ch < n_out)
        {
            /* Odd last channel of the paired rows. */
            for (int32_t i = 0; i < r; i++)
            {
                mat_mult_row_dsp(lhs + i * lhs_stride, rhs, pair_ch, n_out, k, bias, kernel_sum, mult, shift,
                                 per_channel, x_off, dst_offset, act_min, act_max, dst + i * dst_stride);
            }
        }
    }
    for (; r < lhs_rows; r++)
    {
        mat_mult_row_dsp(lhs + r * lhs_stride, rhs, 0, n_out, k, bias, kernel_sum, mult, shift, per_channel, x_off,
                         dst_offset, act_min, act_max, dst + r * dst_stride);
    }
    return ARM_CMSIS_NN_SUCCESS;
}

#else

/*
 * Portable C (Cortex-M0+/M3, any host). The input offset is folded into a per-channel base
 * (bias + lhs_offset * sum_j w[o][j], computed once per block of up to PC_CHUNK channels, on the
 * stack) when several rows share the weights, so the inner loops are one int8 load per operand
 * and one multiply-accumulate per MAC, two rows x two channels per step, unrolled four times.
 * A single row (fully connected) adds the offset to the input value once per step instead and
 * runs one row x four channels. Every access is a byte access (no alignment requirement).
 */
#define PC_CHUNK 64

static inline int8_t pc_out(const int32_t acc, const int32_t m, const int32_t s, const int32_t dst_offset,
                            const int32_t act_min, const int32_t act_max)
{
    return byoc_nn_out_q(acc, byoc_nn_quant_of(m, s), dst_offset, act_min, act_max);
}

#if defined(__thumb__) && defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 1
/*
 * Armv6-M (Cortex-M0/M0+): the dot-product loops in Thumb-1 assembly. GCC's code for the C loops
 * below runs out of the eight low registers (every load, multiply and flag-setting add needs
 * them) and spills; here the accumulators live in r8-r11 (ADD takes high registers), the
 * operands are read with LDRSB [base, index] from pointers past the end of each operand with one
 * negative index counting up to zero (one ADDS + BNE per step), and each MULS is 32 x 32 -> 32.
 * Byte loads only (no alignment requirement).
 */
    #define PC_T1 1

    #pragma GCC diagnostic push
    #pragma GCC diagnostic ignored "-Wunused-parameter" /* naked functions read their arguments in assembly */

/* acc[0..3] += {a.w, a.v, b.w, b.v} over k >= 1 values. r0 = a, r1 = b, r2 = w, r3 = v,
 * [sp] = k, [sp, #4] = acc. 15 instructions per step of 4 MACs. */
__attribute__((naked, noinline)) static void
pc_t1_dot_2x2(const int8_t *a, const int8_t *b, const int8_t *w, const int8_t *v, int32_t k, int32_t *acc)
{
    __asm volatile(".syntax unified                      \n" /* GCC wraps Thumb-1 asm in divided syntax */
                   "push    {r4, r5, r6, r7, lr}         \n"
                   "mov     r4, r8                       \n"
                   "mov     r5, r9                       \n"
                   "mov     r6, r10                      \n"
                   "mov     r7, r11                      \n"
                   "push    {r4, r5, r6, r7}             \n"
                   "ldr     r4, [sp, #36]                \n" /* k */
                   "ldr     r5, [sp, #40]                \n" /* acc */
                   "ldr     r6, [r5, #0]                 \n"
                   "mov     r8, r6                       \n" /* a.w */
                   "ldr     r6, [r5, #4]                 \n"
                   "mov     r9, r6                       \n" /* a.v */
                   "ldr     r6, [r5, #8]                 \n"
                   "mov     r10, r6                      \n" /* b.w */
                   "ldr     r6, [r5, #12]                \n"
                   "mov     r11, r6                      \n" /* b.v */
                   "adds    r0, r0, r4                   \n"
                   "adds    r1, r1, r4                   \n"
                   "adds    r2, r2, r4                   \n"
                   "adds    r3, r3, r4                   \n"
                   "rsbs    r4, r4, #0                   \n" /* index -k .. -1 */
                   "1:                                   \n"
                   "ldrsb   r5, [r0, r4]                 \n" /* x */
                   "ldrsb   r6, [r2, r4]                 \n" /* w */
                   "movs    r7, r6                       \n"
                   "muls    r7, r5                       \n"
                   "add     r8, r7                       \n"
                   "ldrsb   r7, [r3, r4]                 \n" /* v */
                   "muls    r5, r7                       \n"
                   "add     r9, r5                       \n"
                   "ldrsb   r5, [r1, r4]                 \n" /* y */
                   "muls    r6, r5                       \n"
                   "add     r10, r6                      \n"
                   "muls    r7, r5                       \n"
                   "add     r11, r7                      \n"
                   "adds    r4, r4, #1                   \n"
                   "bne     1b                           \n"
                   "ldr     r5, [sp, #40]                \n"
                   "mov     r6, r8                       \n"
                   "str     r6, [r5, #0]                 \n"
                   "mov     r6, r9                       \n"
                   "str     r6, [r5, #4]                 \n"
                   "mov     r6, r10                      \n"
                   "str     r6, [r5, #8]                 \n"
                   "mov     r6, r11                      \n"
                   "str     r6, [r5, #12]                \n"
                   "pop     {r4, r5, r6, r7}             \n"
                   "mov     r8, r4                       \n"
                   "mov     r9, r5                       \n"
                   "mov     r10, r6                      \n"
                   "mov     r11, r7                      \n"
                   "pop     {r4, r5, r6, r7, pc}         \n");
}

/* acc[c] += sum_j (x[j] + off) * w[c * k + j] for c < 4, k >= 1. r0 = x, r1 = w, r2 = k,
 * r3 = off, [sp] = acc. 16 instructions per step of 4 MACs. */
__attribute__((naked, noinline)) static void
pc_t1_dot_1x4(const int8_t *x, const int8_t *w, int32_t k, int32_t off, int32_t *acc)
{
    __asm volatile(".syntax unified                      \n" /* GCC wraps Thumb-1 asm in divided syntax */
                   "push    {r4, r5, r6, r7, lr}         \n"
                   "mov     r4, r8                       \n"
                   "mov     r5, r9                       \n"
                   "mov     r6, r10                      \n"
                   "mov     r7, r11                      \n"
                   "push    {r4, r5, r6, r7}             \n"
                   "mov     r12, r3                      \n" /* off */
                   "ldr     r5, [sp, #36]                \n" /* acc */
                   "ldr     r6, [r5, #0]                 \n"
                   "mov     r8, r6                       \n"
                   "ldr     r6, [r5, #4]                 \n"
                   "mov     r9, r6                       \n"
                   "ldr     r6, [r5, #8]                 \n"
                   "mov     r10, r6                      \n"
                   "ldr     r6, [r5, #12]                \n"
                   "mov     r11, r6                      \n"
                   "adds    r0, r0, r2                   \n" /* x + k */
                   "adds    r1, r1, r2                   \n" /* end of row 0 */
                   "adds    r3, r1, r2                   \n" /* end of row 1 */
                   "adds    r4, r3, r2                   \n" /* end of row 2 */
                   "adds    r5, r4, r2                   \n" /* end of row 3 */
                   "rsbs    r2, r2, #0                   \n" /* index -k .. -1 */
                   "1:                                   \n"
                   "ldrsb   r6, [r0, r2]                 \n"
                   "add     r6, r12                      \n" /* x + off */
                   "ldrsb   r7, [r1, r2]                 \n"
                   "muls    r7, r6                       \n"
                   "add     r8, r7                       \n"
                   "ldrsb   r7, [r3, r2]                 \n"
                   "muls    r7, r6                       \n"
                   "add     r9, r7                       \n"
                   "ldrsb   r7, [r4, r2]                 \n"
                   "muls    r7, r6                       \n"
                   "add     r10, r7                      \n"
                   "ldrsb   r7, [r5, r2]                 \n"
                   "muls    r7, r6                       \n"
                   "add     r11, r7                      \n"
                   "adds    r2, r2, #1                   \n"
                   "bne     1b                           \n"
                   "ldr     r5, [sp, #36]                \n"
                   "mov     r6, r8                       \n"
                   "str     r6, [r5, #0]                 \n"
                   "mov     r6, r9                       \n"
                   "str     r6, [r5, #4]                 \n"
                   "mov     r6, r10                      \n"
                   "str     r6, [r5, #8]                 \n"
                   "mov     r6, r11                      \n"
                   "str     r6, [r5, #12]                \n"
                   "pop     {r4, r5, r6, r7}             \n"
                   "mov     r8, r4                       \n"
                   "mov     r9, r5                       \n"
                   "mov     r10, r6                      \n"
                   "mov     r11, r7                      \n"
                   "pop     {r4, r5, r6, r7, pc}         \n");
}
    #pragma GCC diagnostic pop
#endif

/* acc[0..3] += {a.w, a.v, b.w, b.v} over k values. */
static inline void pc_dot_2x2(const int8_t *a, const int8_t *b, const int8_t *w, const int8_t *v, int32_t k,
                              int32_t *acc)
{
#if defined(PC_T1)
    if (k > 0)
    {
        pc_t1_dot_2x2(a, b, w, v, k, acc);
    }
#else
    int32_t aw = acc[0], av = acc[1], bw = acc[2], bv = acc[3];
    for (; k >= 4; k -= 4)
    {
        int32_t x, y, p, q;
        x = a[0]; y = b[0]; p = w[0]; q = v[0];
        aw += x * p; av += x * q; bw += y * p; bv += y * q;
        x = a[1]; y = b[1]; p = w[1]; q = v[1];
        aw += x * p; av += x * q; bw += y * p; bv += y * q;
        x = a[2]; y = b[2]; p = w[2]; q = v[2];
        aw += x * p; av += x * q; bw += y * p; bv += y * q;
        x = a[3]; y = b[3]; p = w[3]; q = v[3];
        aw += x * p; av += x * q; bw += y * p; bv += y * q;
        a += 4; b += 4; w += 4; v += 4;
    }
    for (; k > 0; k--)
    {
        const int32_t x = *a++, y = *b++, p = *w++, q = *v++;
        aw += x * p; av += x * q; bw += y * p; bv += y * q;
    }
    acc[0] = aw; acc[1] = av; acc[2] = bw; acc[3] = bv;
#endif
}

/* acc[c] += sum_j x[j] * w[c * k + j] for c < 4; x already holds the offset input values. */
static inline void pc_dot_1x4(const int16_t *x, const int8_t *w, const int32_t k, int32_t *acc)
{
    const int8_t *w1 = w + k, *w2 = w1 + k, *w3 = w2 + k;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t j = k;
    for (; j >= 4; j -= 4)
    {
        int32_t v = x[0];
        a0 += v * w[0]; a1 += v * w1[0]; a2 += v * w2[0]; a3 += v * w3[0];
        v = x[1];
        a0 += v * w[1]; a1 += v * w1[1]; a2 += v * w2[1]; a3 += v * w3[1];
        v = x[2];
        a0 += v * w[2]; a1 += v * w1[2]; a2 += v * w2[2]; a3 += v * w3[2];
        v = x[3];
        a0 += v * w[3]; a1 += v * w1[3]; a2 += v * w2[3]; a3 += v * w3[3];
        x += 4; w += 4; w1 += 4; w2 += 4; w3 += 4;
    }
    for (; j > 0; j--)
    {
        const int32_t v = *x++;
        a0 += v * *w++; a1 += v * *w1++; a2 += v * *w2++; a3 += v * *w3++;
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

static inline int32_t pc_dot_1x1(const int8_t *x, const int8_t *w, int32_t k, const int32_t off, int32_t acc)
{
    for (; k > 0; k--)
    {
        acc += (*x++ + off) * *w++;
    }
    return acc;
}

/* Input values of a single row with the offset added, on the stack: one load per step of the
 * one-row kernel instead of a load and an add per channel block. Longer rows use the per-value
 * add. */
#define PC_ROW_MAX 512

/* One row against n_out channels (no per-channel sums): base[o] if given, else bias[o] and the
 * input offset `off` added to every input value. */
static void pc_row(const int8_t *x, const int8_t *rhs, const int32_t n_out, const int32_t k, const int32_t *base,
                   const int32_t *bias, const int32_t off, const int32_t *mult, const int32_t *shift,
                   const int32_t per_channel, const int32_t dst_offset, const int32_t act_min, const int32_t act_max,
                   int8_t *dst)
{
    int32_t o = 0;
#if defined(PC_T1)
    for (; k > 0 && o + 4 <= n_out; o += 4)
    {
        int32_t acc[4];
        for (int32_t c = 0; c < 4; c++)
        {
            acc[c] = base != NULL ? base[o + c] : (bias != NULL ? bias[o + c] : 0);
        }
        pc_t1_dot_1x4(x, rhs + o * k, k, off, acc);
        for (int32_t c = 0; c < 4; c++)
        {
            const int32_t q = per_channel ? o + c : 0;
            dst[o + c] = pc_out(acc[c], mult[q], shift[q], dst_offset, act_min, act_max);
        }
    }
#else
    int16_t xo[PC_ROW_MAX];
    if (k <= PC_ROW_MAX)
    {
        for (int32_t j = 0; j < k; j++)
        {
            xo[j] = (int16_t)(x[j] + off);
        }
        for (; o + 4 <= n_out; o += 4)
        {
            int32_t acc[4];
            for (int32_t c = 0; c < 4; c++)
            {
                acc[c] = base != NULL ? base[o + c] : (bias != NULL ? bias[o + c] : 0);
            }
            pc_dot_1x4(xo, rhs + o * k, k, acc);
            for (int32_t c = 0; c < 4; c++)
            {
                const int32_t q = per_channel ? o + c : 0;
                dst[o + c] = pc_out(acc[c], mult[q], shift[q], dst_offset, act_min, act_max);
            }
        }
    }
#endif
    for (; o < n_out; o++)
    {
        const int32_t b = base != NULL ? base[o] : (bias != NULL ? bias[o] : 0);
        const int32_t q = per_channel ? o : 0;
        dst[o] = pc_out(pc_dot_1x1(x, rhs + o * k, k, off, b), mult[q], shift[q], dst_offset, act_min, act_max);
    }
}

void byoc_nn_kernel_sums_s8(const int8_t *rhs, const int32_t n_out, const int32_t k, const int32_t *bias,
                            const int32_t lhs_offset, int32_t *sums)
{
    for (int32_t o = 0; o < n_out; o++)
    {
        const int8_t *w = rhs + o * k;
        int32_t s = 0;
        for (int32_t j = 0; j < k; j++)
        {
            s += w[j];
        }
        sums[o] = (bias != NULL ? bias[o] : 0) + lhs_offset * s;
    }
}

#if !defined(__arm__) || (defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 2)
/*
 * Two MACs per multiply (cores with a 32 x 32 -> 64-bit multiply-accumulate, SMLAL: Armv7-M,
 * Armv8-M Mainline; hosts). The weights of a channel pair at step j are packed into one word,
 * p[j] = w0[j] + w1[j] * 2^PC_LANE, so x * p[j] accumulated in 64 bits is L + H * 2^PC_LANE with
 * L = sum x * w0 and H = sum x * w1. Every PC_BLOCK steps |L| <= PC_BLOCK * 2^14 < 2^(PC_LANE - 1),
 * so L is the sign-extended low PC_LANE bits and H the rest: both exact.
 */
    #define PC_PACK 1
    #define PC_LANE 21
    #define PC_BLOCK 32
    #define PC_PACK_MAX 256

static void pc_pack_pair(const int8_t *w0, const int8_t *w1, const int32_t k, int32_t *p)
{
    for (int32_t j = 0; j < k; j++)
    {
        p[j] = (int32_t)w0[j] + (int32_t)((uint32_t)(int32_t)w1[j] << PC_LANE);
    }
}

/* Splits a packed 64-bit sum into its two lanes and adds them to lo / hi. */
static inline void pc_unpack(const int64_t s, int32_t *lo, int32_t *hi)
{
    const int32_t l = (int32_t)((uint32_t)s << (32 - PC_LANE)) >> (32 - PC_LANE);
    *lo += l;
    *hi += (int32_t)((s - l) >> PC_LANE);
}

/* acc[0..3] += {a.w0, a.w1, b.w0, b.w1} over k steps, the weight pair packed in p. */
static inline void pc_dot_2x2_packed(const int8_t *a, const int8_t *b, const int32_t *p, int32_t k, int32_t *acc)
{
    while (k > 0)
    {
        int32_t n = MIN(k, PC_BLOCK);
        k -= n;
        int64_t sa = 0, sb = 0;
        for (; n >= 4; n -= 4)
        {
            int32_t v = p[0];
            sa += (int64_t)a[0] * v;
            sb += (int64_t)b[0] * v;
            v = p[1];
            sa += (int64_t)a[1] * v;
            sb += (int64_t)b[1] * v;
            v = p[2];
            sa += (int64_t)a[2] * v;
            sb += (int64_t)b[2] * v;
            v = p[3];
            sa += (int64_t)a[3] * v;
            sb += (int64_t)b[3] * v;
            a += 4;
            b += 4;
            p += 4;
        }
        for (; n > 0; n--)
        {
            const int32_t v = *p++;
            sa += (int64_t)*a++ * v;
            sb += (int64_t)*b++ * v;
        }
        pc_unpack(sa, &acc[0], &acc[1]);
        pc_unpack(sb, &acc[2], &acc[3]);
    }
}
#endif

/* Channels in pairs (outer, so their constants are derived once) x rows in pairs; base[] holds
 * the whole per-channel constant. */
static void pc_rows(const int8_t *lhs, const int32_t lhs_rows, const int32_t lhs_stride, const int8_t *rhs,
                    const int32_t n_out, const int32_t k, const int32_t *base, const int32_t *mult,
                    const int32_t *shift, const int32_t per_channel, const int32_t dst_offset, const int32_t act_min,
                    const int32_t act_max, int8_t *dst, const int32_t dst_stride)
{
    const int32_t pairs = lhs_rows & ~1;
    int32_t o = 0;
    for (; o + 2 <= n_out; o += 2)
    {
        const byoc_nn_quant q0 = per_channel ? byoc_nn_quant_of(mult[o], shift[o]) : byoc_nn_quant_of(mult[0], shift[0]);
        const byoc_nn_quant q1 = per_channel ? byoc_nn_quant_of(mult[o + 1], shift[o + 1]) : q0;
        const int32_t b0 = base[o], b1 = base[o + 1];
        const int8_t *w = rhs + o * k;
        const int8_t *a = lhs;
        int8_t *out = dst + o;
#if defined(PC_PACK)
        if (k <= PC_PACK_MAX && pairs >= 8) /* packing amortised over 4+ row pairs */
        {
            int32_t packed[PC_PACK_MAX];
            pc_pack_pair(w, w + k, k, packed);
            for (int32_t r = 0; r < pairs; r += 2)
            {
                int32_t acc[4] = {b0, b1, b0, b1};
                pc_dot_2x2_packed(a, a + lhs_stride, packed, k, acc);
                out[0] = byoc_nn_out_q(acc[0], q0, dst_offset, act_min, act_max);
                out[1] = byoc_nn_out_q(acc[1], q1, dst_offset, act_min, act_max);
                out[dst_stride] = byoc_nn_out_q(acc[2], q0, dst_offset, act_min, act_max);
                out[dst_stride + 1] = byoc_nn_out_q(acc[3], q1, dst_offset, act_min, act_max);
                a += 2 * lhs_stride;
                out += 2 * dst_stride;
            }
            continue;
        }
#endif
        for (int32_t r = 0; r < pairs; r += 2)
        {
            int32_t acc[4] = {b0, b1, b0, b1};
            pc_dot_2x2(a, a + lhs_stride, w, w + k, k, acc);
            out[0] = byoc_nn_out_q(acc[0], q0, dst_offset, act_min, act_max);
            out[1] = byoc_nn_out_q(acc[1], q1, dst_offset, act_min, act_max);
            out[dst_stride] = byoc_nn_out_q(acc[2], q0, dst_offset, act_min, act_max);
            out[dst_stride + 1] = byoc_nn_out_q(acc[3], q1, dst_offset, act_min, act_max);
            a += 2 * lhs_stride;
            out += 2 * dst_stride;
        }
    }
    if (o < n_out)
    {
        const int32_t q = per_channel ? o : 0;
        const byoc_nn_quant qo = byoc_nn_quant_of(mult[q], shift[q]);
        for (int32_t r = 0; r < pairs; r++)
        {
            dst[r * dst_stride + o] =
                byoc_nn_out_q(pc_dot_1x1(lhs + r * lhs_stride, rhs + o * k, k, 0, base[o]), qo, dst_offset, act_min, act_max);
        }
    }
    if (pairs < lhs_rows)
    {
        pc_row(lhs + pairs * lhs_stride, rhs, n_out, k, base, NULL, 0, mult, shift, per_channel, dst_offset, act_min,
               act_max, dst + pairs * dst_stride);
    }
}

arm_cmsis_nn_status byoc_nn_mat_mult_s8(const int8_t *lhs,
                                       int32_t lhs_rows,
                                       int32_t lhs_stride,
                                       const int8_t *rhs,
                                       int32_t n_out,
                                       int32_t k,
                                       const int32_t *bias,
                                       const int32_t *kernel_sum,
                                       const int32_t *mult,
                                       const int32_t *shift,
                                       int32_t per_channel,
                                       int32_t lhs_offset,
                                       int32_t rhs_offset,
                                       int32_t dst_offset,
                                       int32_t act_min,
                                       int32_t act_max,
                                       int8_t *dst,
                                       int32_t dst_stride)
{
    /* With kernel sums (the portable conv) the caller has checked the multipliers once. */
    if (rhs_offset != 0 || (kernel_sum == NULL && byoc_nn_has_min_mult(mult, per_channel ? n_out : 1)))
    {
        return mat_mult_ref(lhs, lhs_rows, lhs_stride, rhs, n_out, k, bias, kernel_sum, mult, shift, per_channel,
                            lhs_offset, rhs_offset, dst_offset, act_min, act_max, dst, dst_stride);
    }
    if (kernel_sum != NULL)
    {
        pc_rows(lhs, lhs_rows, lhs_stride, rhs, n_out, k, kernel_sum, mult, shift, per_channel, dst_offset, act_min,
                act_max, dst, dst_stride);
        return ARM_CMSIS_NN_SUCCESS;
    }
    if (lhs_rows < 3)
    {
        /* Too few rows to amortise the per-channel sums. */
        for (int32_t r = 0; r < lhs_rows; r++)
        {
            pc_row(lhs + r * lhs_stride, rhs, n_out, k, NULL, bias, lhs_offset, mult, shift, per_channel,
                   dst_offset, act_min, act_max, dst + r * dst_stride);
        }
        return ARM_CMSIS_NN_SUCCESS;
    }
    int32_t sums[PC_CHUNK];
    for (int32_t o = 0; o < n_out; o += PC_CHUNK)
    {
        const int32_t n = MIN(PC_CHUNK, n_out - o);
        byoc_nn_kernel_sums_s8(rhs + o * k, n, k, bias != NULL ? bias + o : NULL, lhs_offset, sums);
        pc_rows(lhs, lhs_rows, lhs_stride, rhs + o * k, n, k, sums, per_channel ? mult + o : mult,
                per_channel ? shift + o : shift, per_channel, dst_offset, act_min, act_max, dst + o, dst_stride);
    }
    return ARM_CMSIS_NN_SUCCESS;
}

#endif
