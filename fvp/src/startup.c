/*
 * startup.c - vector table and reset handler for the Corstone-300 (and build-only cores).
 *
 * Reset: enable the FPU/MVE coprocessors, arm the stack limit, point VTOR at our table,
 * copy .data from its load image, zero .bss and the arena, bring up the console/counter,
 * run C/C++ constructors, call main and exit with its return value.
 * The linker script (corstone300.ld.in) defines every __symbol used here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "byoc_platform.h"
#include "platform_internal.h"

extern uint32_t __stack_top;
extern uint32_t __stack_limit;
extern uint32_t __data_load;
extern uint32_t __data_start;
extern uint32_t __data_end;
extern uint32_t __bss_start;
extern uint32_t __bss_end;
extern uint32_t __byoc_arena_start;
extern uint32_t __byoc_arena_end;
extern const uint32_t __vectors_start;

extern int main(void);
extern void __libc_init_array(void);

void Reset_Handler(void) __attribute__((noreturn));
void NMI_Handler(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void SecureFault_Handler(void);
void Default_Handler(void);

/* External interrupts: only the Ethos-U55's (BYOC_NPU_IRQ, enabled by byoc_npu_attach) has a
 * handler; every other vector points at one that reports an unexpected exception instead of
 * jumping to address 0. */
#ifndef BYOC_NUM_IRQS
#define BYOC_NUM_IRQS 96
#endif

typedef void (*vector_fn)(void);
typedef union {
  vector_fn handler;
  const void* stack;
} vector_entry;

__attribute__((section(".vectors"), used)) const vector_entry byoc_vectors[16 + BYOC_NUM_IRQS] = {
    [0] = {.stack = &__stack_top},
    [1] = {.handler = Reset_Handler},
    [2] = {.handler = NMI_Handler},
    [3] = {.handler = HardFault_Handler},
    [4] = {.handler = MemManage_Handler},
    [5] = {.handler = BusFault_Handler},
    [6] = {.handler = UsageFault_Handler},
    [7] = {.handler = SecureFault_Handler},
    [11] = {.handler = Default_Handler}, /* SVCall */
    [12] = {.handler = Default_Handler}, /* DebugMonitor */
    [14] = {.handler = Default_Handler}, /* PendSV */
    [15] = {.handler = Default_Handler}, /* SysTick */
    [16 ... 16 + BYOC_NPU_IRQ - 1] = {.handler = Default_Handler},
    [16 + BYOC_NPU_IRQ] = {.handler = byoc_npu_irq_isr}, /* Ethos-U55 (fvp/src/npu.c) */
    [16 + BYOC_NPU_IRQ + 1 ... 16 + BYOC_NUM_IRQS - 1] = {.handler = Default_Handler},
};

/* -nostartfiles drops crti/crtn, whose _init/_fini __libc_init_array still calls. */
void _init(void) {}
void _fini(void) {}
void* __dso_handle = 0;

static void enable_coprocessors(void) {
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  /* CP10 and CP11 full access (bits 20-23); MVE shares the FPU enables. Must precede any
   * FP/MVE instruction, hence the barriers. */
  BYOC_REG32(SCB_CPACR) |= 0xFu << 20;
  __asm volatile("dsb\n isb" ::: "memory");
#endif
}

static void enable_fault_handlers(void) {
#ifdef BYOC_ARCH_HAS_FAULT_STATUS
  /* Without these, MemManage/Bus/UsageFault escalate to HardFault and lose their type. */
  uint32_t enables = (1u << 16) | (1u << 17) | (1u << 18);
#ifdef BYOC_ARCH_V8M_MAIN
  enables |= 1u << 19; /* SecureFault */
#endif
  BYOC_REG32(SCB_SHCSR) |= enables;
  BYOC_REG32(SCB_CCR) |= 1u << 4; /* DIV_0_TRP: integer divide by zero faults */
  BYOC_REG32(0xE000ED08u) = (uint32_t)(uintptr_t)&__vectors_start; /* VTOR */
  __asm volatile("dsb\n isb" ::: "memory");
#endif
}

void Reset_Handler(void) {
#ifdef BYOC_ARCH_V8M_MAIN
  /* Stack overflow then raises a UsageFault (STKOF) instead of corrupting memory. */
  __asm volatile("msr msplim, %0" ::"r"(&__stack_limit));
#endif
  enable_coprocessors();
  enable_fault_handlers();

  memcpy(&__data_start, &__data_load,
         (size_t)((uintptr_t)&__data_end - (uintptr_t)&__data_start));
  memset(&__bss_start, 0, (size_t)((uintptr_t)&__bss_end - (uintptr_t)&__bss_start));
  memset(&__byoc_arena_start, 0,
         (size_t)((uintptr_t)&__byoc_arena_end - (uintptr_t)&__byoc_arena_start));

  byoc_platform_init(); /* console first, so constructors may print */
  __libc_init_array();
  exit(main());
}
