/*
 * counter.c - instruction counting for regions of firmware.
 *
 * On QEMU (-icount shift=N) virtual time advances exactly 2^N ns per executed instruction,
 * and the SSE-300 system counter ticks at 32 MHz (31.25 ns) of that virtual time, so
 *     instructions = ticks * 31.25 / 2^N.
 * N must equal BYOC_ICOUNT_SHIFT, which the build records in the ELF (.byoc_info) for the
 * runner. With N >= 6 one instruction is >= 2.048 ticks, so the floor error of the two
 * counter reads (< 1 tick each way) stays below half an instruction and rounding the tick
 * difference gives the exact instruction count.
 *
 * On the FVP or hardware the DWT cycle counter is used when it runs (cycles, not
 * instructions: reported as counter=dwt_cycles).
 *
 * The cost of an empty start/stop pair is measured at init and subtracted.
 */
#include "byoc_platform.h"
#include "platform_internal.h"

enum counter_kind { COUNTER_NONE, COUNTER_ICOUNT, COUNTER_DWT };

static enum counter_kind g_kind = COUNTER_NONE;
static uint64_t g_overhead;      /* instructions of an empty start/stop region */
static uint64_t g_region_start;  /* raw value at the end of byoc_counter_start() */

static uint64_t read_system_counter(void) {
  uint32_t hi, lo, hi2;
  /* Re-read until the high word is stable so a carry between the two reads is not missed. */
  do {
    hi = BYOC_REG32(SYSCNT_CNTCV_HI);
    lo = BYOC_REG32(SYSCNT_CNTCV_LO);
    hi2 = BYOC_REG32(SYSCNT_CNTCV_HI);
  } while (hi != hi2);
  return ((uint64_t)hi << 32) | lo;
}

#ifdef BYOC_ARCH_HAS_FAULT_STATUS
static uint32_t g_dwt_last; /* for extending the 32-bit DWT counter to 64 bits */
static uint32_t g_dwt_high;

static uint64_t read_dwt(void) {
  uint32_t now = BYOC_REG32(DWT_CYCCNT);
  if (now < g_dwt_last) {
    ++g_dwt_high;
  }
  g_dwt_last = now;
  return ((uint64_t)g_dwt_high << 32) | now;
}

/* Enables the DWT cycle counter; true if it is implemented and advances. */
static int dwt_start(void) {
  BYOC_REG32(DCB_DEMCR) |= 1u << 24; /* TRCENA */
  if (BYOC_REG32(DWT_CTRL) & (1u << 25)) {
    return 0; /* NOCYCCNT: no cycle counter */
  }
  BYOC_REG32(DWT_CYCCNT) = 0u;
  BYOC_REG32(DWT_CTRL) |= 1u; /* CYCCNTENA */
  uint32_t before = BYOC_REG32(DWT_CYCCNT);
  __asm volatile("nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop");
  return BYOC_REG32(DWT_CYCCNT) != before;
}
#endif

/* Raw counter value: system counter ticks (icount) or DWT cycles. */
static __attribute__((noinline)) uint64_t read_raw(void) {
  switch (g_kind) {
    case COUNTER_ICOUNT:
      return read_system_counter();
#ifdef BYOC_ARCH_HAS_FAULT_STATUS
    case COUNTER_DWT:
      return read_dwt();
#endif
    default:
      return 0u;
  }
}

/* Converts a raw difference to instructions (rounded to nearest). */
static uint64_t raw_to_instructions(uint64_t raw) {
  if (g_kind != COUNTER_ICOUNT) {
    return raw;
  }
  const unsigned shift = (unsigned)BYOC_ICOUNT_SHIFT + 2u; /* /4 from 31.25 = 125/4 */
  return (raw * SYSCNT_NS_PER_TICK_NUM + (1ull << (shift - 1u))) >> shift;
}

/* Executes exactly 2 * iterations instructions in the loop body (subs + bne). */
static void __attribute__((noinline)) known_loop(uint32_t iterations) {
  __asm volatile(
      ".syntax unified\n" /* GCC wraps Thumb-1 inline asm in divided syntax */
      "1: subs %0, %0, #1\n"
      "   bne 1b\n"
      : "+l"(iterations)
      :
      : "cc");
}

void byoc_counter_init(void) {
  g_kind = COUNTER_NONE;
#ifdef BYOC_ARCH_HAS_FAULT_STATUS
  if (dwt_start()) {
    g_kind = COUNTER_DWT;
  }
#endif
  if (g_kind == COUNTER_NONE) {
    BYOC_REG32(SYSCNT_CNTCR) |= 1u; /* EN */
    uint64_t before = read_system_counter();
    known_loop(64u);
    if (read_system_counter() != before) {
      g_kind = COUNTER_ICOUNT;
    }
  }
  /* Empty-region overhead: the minimum over a few tries (all equal under icount). */
  g_overhead = 0u;
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 4; ++i) {
    byoc_counter_start();
    uint64_t n = byoc_counter_stop();
    if (n < best) {
      best = n;
    }
  }
  g_overhead = best;
}

uint64_t byoc_counter_overhead(void) { return g_overhead; }

const char* byoc_counter_kind(void) {
  switch (g_kind) {
    case COUNTER_ICOUNT:
      return "icount";
    case COUNTER_DWT:
      return "dwt_cycles";
    default:
      return "none";
  }
}

/* noipa: the calibration call in byoc_counter_init must cost exactly what a harness call
 * costs, so these are never inlined or specialised within this file. */
__attribute__((noipa)) void byoc_counter_start(void) { g_region_start = read_raw(); }

__attribute__((noipa)) uint64_t byoc_counter_stop(void) {
  uint64_t raw = read_raw() - g_region_start;
  uint64_t n = raw_to_instructions(raw);
  return n > g_overhead ? n - g_overhead : 0u;
}

uint64_t byoc_counter_now(void) { return raw_to_instructions(read_raw()); }

/* Used by the platform self-check: instructions measured for the 2*iterations loop. */
uint64_t byoc_counter_measure_known_loop(uint32_t iterations) {
  byoc_counter_start();
  known_loop(iterations);
  return byoc_counter_stop();
}

/* Profile support: raw reads and conversion, shared so profile.c uses the same maths. */
uint64_t byoc_counter_raw(void) { return read_raw(); }
uint64_t byoc_counter_raw_to_instructions(uint64_t raw_delta) {
  return raw_to_instructions(raw_delta);
}
