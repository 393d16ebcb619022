/*
 * platform.c - platform bring-up (byoc_platform_init), simulator exit (byoc_exit) and the
 * .byoc_info note that tells the runner how this ELF expects to be run.
 */
#include "byoc_platform.h"
#include "platform_internal.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* Non-loaded section (type INFO in the linker script) read by byoc.platform.corstone300:
 * newline-separated key=value text. The runner passes -icount shift=<icount_shift>. */
__attribute__((section(".byoc_info"), used)) const char byoc_info[] =
    "byoc_platform=corstone300\n"
    "cpu=" BYOC_CPU_NAME "\n"
    "icount_shift=" STRINGIFY(BYOC_ICOUNT_SHIFT) "\n";

/* Arm semihosting operations and reasons (semihosting spec v2). */
#define SEMIHOSTING_SYS_EXIT 0x18u
#define SEMIHOSTING_SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR_UNKNOWN 0x20023u

static int g_initialised;
static volatile int g_exiting;

int byoc_platform_exiting(void) { return g_exiting; }

static uint32_t semihosting_call(uint32_t operation, const void* argument) {
  register uint32_t r0 __asm("r0") = operation;
  register const void* r1 __asm("r1") = argument;
  __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void byoc_exit(int code) {
  if (!g_exiting) {
    g_exiting = 1;
    byoc_print("BYOC_EXIT code=");
    byoc_print_i32(code);
    byoc_print("\n");
    /* Extended exit carries the status code (QEMU honours it). */
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    semihosting_call(SEMIHOSTING_SYS_EXIT_EXTENDED, block);
    /* Host without the extension: plain exit can only say success or failure. */
    uintptr_t reason = code == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUNTIME_ERROR_UNKNOWN;
    semihosting_call(SEMIHOSTING_SYS_EXIT, (const void*)reason);
  }
  /* Still running: no semihosting host. The FVP stops on UART end-of-transmission
   * (mps3_board.uart0.shutdown_on_eot=1); the runner reads the code from BYOC_EXIT. */
  byoc_console_putc('\x04');
  for (;;) {
    __asm volatile("wfi");
  }
}

void byoc_platform_init(void) {
  if (g_initialised) {
    return;
  }
  g_initialised = 1;
  byoc_console_init();
  byoc_counter_init();
  byoc_profile_calibrate();

  /* Self-check of the counter scale: the known loop runs 2 instructions per iteration, so
   * the difference between 2000 and 1000 iterations must read 2000 under icount. */
  uint64_t loop_delta =
      byoc_counter_measure_known_loop(2000u) - byoc_counter_measure_known_loop(1000u);

  byoc_print("BYOC_PLATFORM name=corstone300 cpu=" BYOC_CPU_NAME " counter=");
  byoc_print(byoc_counter_kind());
  byoc_print(" icount_shift=" STRINGIFY(BYOC_ICOUNT_SHIFT) " overhead=");
  byoc_print_u64(byoc_counter_overhead());
  byoc_print(" profile_overhead=");
  byoc_print_u64(byoc_profile_overhead());
  byoc_print(" loop_check=");
  byoc_print_u64(loop_delta);
  byoc_print("/2000\n");
}
