/*
 * result.c - output comparison and the BYOC_RESULT line parsed by the Python runner.
 */
#include "byoc_platform.h"

#ifndef BYOC_MAX_MISMATCH_LINES
#define BYOC_MAX_MISMATCH_LINES 8u
#endif

uint32_t byoc_compare_i8(const char* output_name, const int8_t* got, const int8_t* expected,
                         uint32_t count, uint32_t tolerance) {
  uint32_t mismatches = 0u;
  for (uint32_t i = 0; i < count; ++i) {
    int32_t diff = (int32_t)got[i] - (int32_t)expected[i];
    uint32_t abs_diff = (uint32_t)(diff < 0 ? -diff : diff);
    if (abs_diff <= tolerance) {
      continue;
    }
    if (mismatches < BYOC_MAX_MISMATCH_LINES) {
      byoc_print("BYOC_MISMATCH output=");
      byoc_print(output_name);
      byoc_print(" index=");
      byoc_print_u64(i);
      byoc_print(" got=");
      byoc_print_i32(got[i]);
      byoc_print(" expected=");
      byoc_print_i32(expected[i]);
      byoc_print("\n");
    }
    ++mismatches;
  }
  return mismatches;
}

void byoc_result_begin(int passed) {
  byoc_print(passed ? "BYOC_RESULT status=pass" : "BYOC_RESULT status=fail");
}

void byoc_result_u64(const char* key, uint64_t value) {
  byoc_print(" ");
  byoc_print(key);
  byoc_print("=");
  byoc_print_u64(value);
}

void byoc_result_str(const char* key, const char* value) {
  byoc_print(" ");
  byoc_print(key);
  byoc_print("=");
  byoc_print(value);
}

void byoc_result_end(void) { byoc_print("\n"); }

void byoc_print_result(int passed, uint32_t mismatches, uint64_t instructions,
                       uint32_t arena_bytes) {
  byoc_result_begin(passed);
  byoc_result_u64("mismatches", mismatches);
  byoc_result_u64("instructions", instructions);
  byoc_result_u64("arena_bytes", arena_bytes);
  byoc_result_end();
}
