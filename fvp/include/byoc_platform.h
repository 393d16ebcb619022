/*
 * byoc_platform.h - services the Corstone-300 platform layer gives a firmware harness.
 *
 * A harness (generated per model, or hand-written for tests) includes this header and:
 *   1. calls byoc_platform_init() first (also done by the reset handler; repeated calls are no-ops),
 *   2. places the model arena with BYOC_ARENA_ATTR,
 *   3. brackets the model run with byoc_counter_start()/byoc_counter_stop(),
 *   4. prints one result line with byoc_result_*(),
 *   5. returns from main (or calls byoc_exit) with 0 on pass, non-zero on fail.
 *
 * Console text goes to the CMSDK UART0 (printf and byoc_print both work); the exit code is
 * delivered through Arm semihosting, and is also printed as "BYOC_EXIT code=<n>" just before.
 *
 * Machine-readable lines (one per line, key=value pairs separated by single spaces):
 *   BYOC_PLATFORM name=corstone300 cpu=<cpu> counter=<icount|dwt_cycles|none> ...
 *   BYOC_RESULT status=<pass|fail> mismatches=<n> instructions=<n> arena_bytes=<n> [k=v ...]
 *   BYOC_MISMATCH output=<name> index=<i> got=<v> expected=<v>
 *   BYOC_PROFILE op=<idx> name=<name> instructions=<n> calls=<n>
 *   BYOC_FAULT type=<HardFault|MemManage|BusFault|UsageFault|...> pc=0x... cfsr=0x... ...
 *   BYOC_EXIT code=<n>
 */
#ifndef BYOC_PLATFORM_H
#define BYOC_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Section attribute for the model workspace (arena); the linker script places
 * ".bss.byoc_arena*" in the region chosen by BYOC_ARENA_REGION.  Usage:
 *   static uint8_t arena[MODEL_WORKSPACE_SIZE] BYOC_ARENA_ATTR;                          */
#define BYOC_ARENA_ATTR __attribute__((section(".bss.byoc_arena"), aligned(16)))

/* Section attribute for large read-only test data (inputs / expected outputs): same
 * placement as the model constants (BYOC_CONSTANTS_REGION). */
#define BYOC_DATA_ATTR __attribute__((section(".rodata.byoc_constants.data"), aligned(16)))

/* Initialise console and instruction counter; prints the BYOC_PLATFORM line once. */
void byoc_platform_init(void);

/* --- console ------------------------------------------------------------------------- */
void byoc_print(const char* s);          /* writes s as is (no newline added) */
void byoc_print_u64(uint64_t value);     /* decimal */
void byoc_print_i32(int32_t value);      /* decimal, with '-' if negative */
void byoc_print_hex32(uint32_t value);   /* "0x" + 8 hex digits */

/* --- instruction counter ------------------------------------------------------------- */
/* Instructions executed between the two calls, with the measured cost of an empty
 * start/stop pair already subtracted (an empty region reads 0 or a few instructions).
 * On QEMU this derives from -icount (exact); on FVP/hardware it counts DWT cycles.
 * Regions do not nest: start resets the reference point. */
void byoc_counter_start(void);
uint64_t byoc_counter_stop(void);
/* Raw running count in instructions (no overhead correction); 0 if no counter. */
uint64_t byoc_counter_now(void);
/* Counter kind printed in BYOC_PLATFORM: "icount", "dwt_cycles" or "none". */
const char* byoc_counter_kind(void);

/* --- per-operator profiling (called by model code built with -DBYOC_PROFILE) --------- */
void byoc_profile_enter(uint32_t op_index, const char* op_name);
void byoc_profile_exit(uint32_t op_index);
/* Prints one BYOC_PROFILE line per operator seen, in order of first call. */
void byoc_profile_report(void);
/* Forgets all recorded operators (e.g. after a warm-up run). */
void byoc_profile_reset(void);

/* --- results ------------------------------------------------------------------------- */
/* Counts elements with |got - expected| > tolerance and prints a BYOC_MISMATCH line for
 * each of the first few (BYOC_MAX_MISMATCH_LINES, default 8) of them. */
uint32_t byoc_compare_i8(const char* output_name, const int8_t* got, const int8_t* expected,
                         uint32_t count, uint32_t tolerance);

/* Prints "BYOC_RESULT status=.. mismatches=.. instructions=.. arena_bytes=..\n". */
void byoc_print_result(int passed, uint32_t mismatches, uint64_t instructions,
                       uint32_t arena_bytes);

/* Extensible form: begin, any number of fields, end. */
void byoc_result_begin(int passed);                     /* "BYOC_RESULT status=pass" */
void byoc_result_u64(const char* key, uint64_t value);  /* " key=value" */
void byoc_result_str(const char* key, const char* value);
void byoc_result_end(void);                             /* "\n" */

/* --- Ethos-U55 NPU (Corstone-300) ------------------------------------------------------ */
/* The SSE-300's Ethos-U55: external interrupt 56 (exception number 72, vector table entry
 * 16 + 56; Arm's Corstone-300 device header calls it ETHOS_U55_IRQn) and its register block,
 * Secure alias 0x58102000 (the firmware runs in Secure state, like the UART it prints on),
 * non-secure alias 0x48102000. Pass BYOC_NPU_BASE_ADDRESS to ethosu_init(). */
#define BYOC_NPU_IRQ 56u
#define BYOC_NPU_BASE_ADDRESS 0x58102000u
#define BYOC_NPU_BASE_ADDRESS_NS 0x48102000u

struct ethosu_driver;
/* Hands the NPU interrupt to `drv` (after ethosu_init): clears a stale pending state, sets
 * priority 0, enables interrupt BYOC_NPU_IRQ in the NVIC and unmasks interrupts (PRIMASK).
 * From then on the vector calls the driver's ethosu_irq_handler(drv) (a weak reference: Arm's
 * ethos-u-core-driver defines it; byoc's functional model, synchronous, needs no interrupt).
 * NULL detaches and disables the interrupt. */
void byoc_npu_attach(struct ethosu_driver* drv);
struct ethosu_driver* byoc_npu_attached(void);
/* The interrupt's vector (startup.c). Without an attached driver it masks the interrupt. */
void byoc_npu_irq_isr(void);
/* Times the NPU interrupt vector ran since reset. */
uint32_t byoc_npu_irq_count(void);

/* --- data cache ------------------------------------------------------------------------ */
/* Clean (write back) / invalidate the data cache over [p, p + bytes), the whole cache for
 * p == NULL; no-ops when the core has no D-cache or it is disabled (CCR.DC = 0, the state
 * this platform boots in). Invalidation writes back lines only partly inside the range.
 * They back the Ethos-U driver's ethosu_flush_dcache / ethosu_invalidate_dcache hooks (weak
 * in fvp/src/npu.c, so an application's own hooks take precedence). */
void byoc_dcache_clean(const void* p, size_t bytes);
void byoc_dcache_invalidate(void* p, size_t bytes);

/* --- exit ---------------------------------------------------------------------------- */
/* Prints "BYOC_EXIT code=<code>" and stops the simulator with that exit status
 * (semihosting SYS_EXIT_EXTENDED; UART end-of-transmission as FVP fallback). */
void byoc_exit(int code) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* BYOC_PLATFORM_H */
