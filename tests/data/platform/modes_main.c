/*
 * modes_main.c - misbehaving firmwares for the runner's error paths, chosen with
 * -DTEST_MODE=<n>: 1 undefined instruction, 2 store to an unmapped address,
 * 3 stack overflow (recursion past MSPLIM), 4 endless busy loop.
 */
#include <stdint.h>

#include "byoc_platform.h"

#ifndef TEST_MODE
#error "define TEST_MODE"
#endif

#if TEST_MODE == 3
/* Recursion the compiler cannot flatten: each frame keeps a live buffer. The depth limit
 * is far beyond what the stack holds. */
static uint32_t __attribute__((noinline)) recurse(uint32_t depth) {
  volatile uint8_t frame[256];
  frame[depth & 0xFFu] = (uint8_t)depth;
  if (depth > 1000000u) {
    return frame[1];
  }
  return recurse(depth + 1u) + frame[0];
}
#endif

int main(void) {
  byoc_print("TEST_MODE start\n");
#if TEST_MODE == 1
  __asm volatile("udf #0");
#elif TEST_MODE == 2
  *(volatile uint32_t*)0xF0000000u = 1u;
#elif TEST_MODE == 3
  return (int)recurse(0u);
#elif TEST_MODE == 4
  for (;;) {
    __asm volatile("nop");
  }
#endif
  byoc_print("TEST_MODE survived\n");
  return 0;
}
