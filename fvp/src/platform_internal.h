/*
 * platform_internal.h - register addresses and helpers shared by the platform sources
 * (not for harnesses). Addresses are the SSE-300 / MPS3 AN547 Secure aliases, which QEMU's
 * mps3-an547 and the Corstone-300 FVP both provide; the firmware runs in Secure state.
 */
#ifndef BYOC_PLATFORM_INTERNAL_H
#define BYOC_PLATFORM_INTERNAL_H

#include <stdint.h>

#define BYOC_REG32(addr) (*(volatile uint32_t*)(uintptr_t)(addr))

/* CMSDK APB UART0 (Secure alias of 0x49303000). */
#define UART0_BASE 0x59303000u
#define UART_DATA (UART0_BASE + 0x00u)
#define UART_STATE (UART0_BASE + 0x04u) /* bit 0: TX buffer full */
#define UART_CTRL (UART0_BASE + 0x08u)  /* bit 0: TX enable */
#define UART_BAUDDIV (UART0_BASE + 0x10u)

/* SSE-300 system counter: control frame (CNTCR bit 0 enables) and read frame (CNTCV). */
#define SYSCNT_CNTCR 0x58100000u
#define SYSCNT_CNTCV_LO 0x58101000u
#define SYSCNT_CNTCV_HI 0x58101004u
/* The counter ticks at 32 MHz: 31.25 ns = 125/4 ns per tick. */
#define SYSCNT_NS_PER_TICK_NUM 125u
#define SYSCNT_NS_PER_TICK_DEN 4u

/* System control block (architectural). */
#define SCB_CPACR 0xE000ED88u
#define SCB_SHCSR 0xE000ED24u
#define SCB_CCR 0xE000ED14u
#define SCB_CFSR 0xE000ED28u
#define SCB_HFSR 0xE000ED2Cu
#define SCB_MMFAR 0xE000ED34u
#define SCB_BFAR 0xE000ED38u
#define SCB_SFSR 0xE000EDE4u
#define SCB_SFAR 0xE000EDE8u
#define DCB_DEMCR 0xE000EDFCu
#define DWT_CTRL 0xE0001000u
#define DWT_CYCCNT 0xE0001004u

/* Architecture profile of the compiled-for core. */
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define BYOC_ARCH_V8M_MAIN 1
#endif
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(BYOC_ARCH_V8M_MAIN)
#define BYOC_ARCH_HAS_FAULT_STATUS 1 /* CFSR, SHCSR fault enables, DWT */
#endif

/* Compile-time identity printed in the BYOC_PLATFORM line. */
#ifndef BYOC_CPU_NAME
#define BYOC_CPU_NAME "unknown"
#endif
#ifndef BYOC_ICOUNT_SHIFT
#define BYOC_ICOUNT_SHIFT 7
#endif

void byoc_console_init(void);
void byoc_console_putc(char c);
void byoc_counter_init(void);
void byoc_profile_calibrate(void);
uint64_t byoc_profile_overhead(void);
uint64_t byoc_counter_overhead(void);
uint64_t byoc_counter_measure_known_loop(uint32_t iterations);
uint64_t byoc_counter_raw(void);
uint64_t byoc_counter_raw_to_instructions(uint64_t raw_delta);

#endif /* BYOC_PLATFORM_INTERNAL_H */
