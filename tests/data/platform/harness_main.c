/*
 * harness_main.c - reference firmware harness for the fake model: runs it once under the
 * instruction counter, compares with the expected output and prints BYOC_RESULT. Also
 * measures an empty region and a known loop so the tests can check the counter.
 * -DWRONG_EXPECTATION corrupts one expected value; -DTEST_ARENA_SIZE=<n> resizes the arena;
 * -DTEST_BIG_CONSTANTS=<n> adds an n-byte constant table (placement tests).
 */
#include <stdio.h>

#include "byoc_platform.h"
#include "fake_model.h"

#ifndef TEST_ARENA_SIZE
#define TEST_ARENA_SIZE FAKE_MODEL_WORKSPACE_SIZE
#endif

static uint8_t arena[TEST_ARENA_SIZE] BYOC_ARENA_ATTR;

static const int8_t input[FAKE_MODEL_INPUT_SIZE] BYOC_DATA_ATTR = {
    -128, -100, -1, 0, 1, 2, 3, 50, 100, 125, 126, 127, -5, 7, -77, 33};
static const int8_t expected[FAKE_MODEL_OUTPUT_SIZE] BYOC_DATA_ATTR = {
#ifdef WRONG_EXPECTATION
    -127, -99, 0, 1, 2, 3, 4, 51, 101, 126, 127, 127, -4, 8, -76, 35,
#else
    -127, -99, 0, 1, 2, 3, 4, 51, 101, 126, 127, 127, -4, 8, -76, 34,
#endif
};
static int8_t output[FAKE_MODEL_OUTPUT_SIZE];

#ifdef TEST_BIG_CONSTANTS
static const int8_t big_constants[TEST_BIG_CONSTANTS] BYOC_DATA_ATTR = {42};
#endif

/* 1000 iterations of a 4-instruction body: 4000 instructions plus the call itself. */
static void __attribute__((noinline)) known_loop_4000(void) {
  uint32_t n = 1000u, acc = 0u;
  __asm volatile(
      ".syntax unified\n"
      "1: adds %1, %1, #3\n"
      "   eors %1, %1, %0\n"
      "   subs %0, %0, #1\n"
      "   bne 1b\n"
      : "+l"(n), "+l"(acc)
      :
      : "cc");
}

int main(void) {
  byoc_platform_init(); /* already done by the reset handler; must be harmless */

  byoc_counter_start();
  uint64_t empty = byoc_counter_stop();
  byoc_counter_start();
  known_loop_4000();
  uint64_t loop = byoc_counter_stop();
  printf("TEST_COUNTER empty=%lu loop4000=%lu\n", (unsigned long)empty, (unsigned long)loop);

  struct fake_model_inputs inputs = {.input = input};
  struct fake_model_outputs outputs = {.output = output};
  byoc_counter_start();
  int32_t rc = fake_model_run(&inputs, &outputs, arena);
  uint64_t instructions = byoc_counter_stop();

  uint32_t mismatches = byoc_compare_i8("output", output, expected, FAKE_MODEL_OUTPUT_SIZE, 0u);
  int passed = rc == 0 && mismatches == 0u;
#ifdef TEST_BIG_CONSTANTS
  /* Read through a volatile pointer so the table is kept and really loaded. */
  const volatile int8_t* big = big_constants;
  passed = passed && big[0] == 42 && big[TEST_BIG_CONSTANTS - 1] == 0;
#endif
#ifdef BYOC_PROFILE
  byoc_profile_report();
#endif
  byoc_result_begin(passed);
  byoc_result_u64("mismatches", mismatches);
  byoc_result_u64("instructions", instructions);
  byoc_result_u64("arena_bytes", sizeof(arena));
  byoc_result_u64("run_status", (uint64_t)(uint32_t)rc);
  byoc_result_end();
  return passed ? 0 : 1;
}
