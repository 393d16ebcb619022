/*
 * faults.c - fault handlers: print one BYOC_FAULT line from the stacked frame and the fault
 * status registers, then exit with code 3.
 *
 * Each handler is a tiny Thumb-1 stub (valid on v6-M through v8.1-M) that picks the stack
 * the exception frame was pushed on (EXC_RETURN bit 2), switches to a private fault stack
 * (the main stack may be the thing that overflowed) and calls byoc_fault_report().
 */
#include "byoc_platform.h"
#include "platform_internal.h"

#define FAULT_EXIT_CODE 3

enum fault_type {
  FAULT_HARD = 1,
  FAULT_MEMMANAGE = 2,
  FAULT_BUS = 3,
  FAULT_USAGE = 4,
  FAULT_SECURE = 5,
  FAULT_NMI = 6,
  FAULT_UNEXPECTED = 7,
};

/* 8-byte aligned per AAPCS; only the report function and the console run on it. */
__attribute__((aligned(8))) uint8_t byoc_fault_stack[1024];
extern int byoc_platform_exiting(void);
void byoc_fault_report(const uint32_t* frame, uint32_t type, uint32_t exc_return)
    __attribute__((noreturn, used));

/* r2 = EXC_RETURN (saved before bl clobbers lr), r1 = type, r0 = frame. */
#ifdef BYOC_ARCH_V8M_MAIN
#define CLEAR_STACK_LIMIT "movs r3, #0\n msr msplim, r3\n"
#else
#define CLEAR_STACK_LIMIT ""
#endif

#define FAULT_STUB(name, type)                                           \
  __attribute__((naked)) void name(void) {                               \
    __asm volatile(".syntax unified\n"                                   \
                   "mov r2, lr\n"                                        \
                   "movs r1, #" #type "\n"                               \
                   "movs r0, #4\n"                                       \
                   "tst r0, r2\n"                                        \
                   "beq 1f\n"                                            \
                   "mrs r0, psp\n"                                       \
                   "b 2f\n"                                              \
                   "1: mrs r0, msp\n"                                    \
                   "2:\n" CLEAR_STACK_LIMIT                              \
                   "ldr r3, =byoc_fault_stack + 1024\n"                  \
                   "mov sp, r3\n"                                        \
                   "bl byoc_fault_report\n"                              \
                   ".ltorg\n");                                          \
  }

FAULT_STUB(HardFault_Handler, 1)
FAULT_STUB(MemManage_Handler, 2)
FAULT_STUB(BusFault_Handler, 3)
FAULT_STUB(UsageFault_Handler, 4)
FAULT_STUB(SecureFault_Handler, 5)
FAULT_STUB(NMI_Handler, 6)
FAULT_STUB(Default_Handler, 7)

static const char* type_name(uint32_t type) {
  switch (type) {
    case FAULT_HARD:
      return "HardFault";
    case FAULT_MEMMANAGE:
      return "MemManage";
    case FAULT_BUS:
      return "BusFault";
    case FAULT_USAGE:
      return "UsageFault";
    case FAULT_SECURE:
      return "SecureFault";
    case FAULT_NMI:
      return "NMI";
    default:
      return "UnexpectedException";
  }
}

#ifdef BYOC_ARCH_HAS_FAULT_STATUS
/* First matching CFSR bit gives a human-readable reason; order = most specific first. */
static const char* cfsr_reason(uint32_t cfsr) {
  static const struct {
    uint32_t bit;
    const char* reason;
  } table[] = {
      {20, "stack_overflow"},  {16, "undefined_instruction"}, {17, "invalid_state"},
      {18, "invalid_exc_return"}, {19, "coprocessor_disabled"}, {25, "divide_by_zero"},
      {24, "unaligned_access"}, {9, "data_bus_error"},          {10, "imprecise_bus_error"},
      {8, "instruction_bus_error"}, {12, "stacking_bus_error"}, {11, "unstacking_bus_error"},
      {1, "data_access_violation"}, {0, "instruction_access_violation"},
      {4, "stacking_mpu_error"},   {3, "unstacking_mpu_error"},
  };
  for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); ++i) {
    if (cfsr & (1u << table[i].bit)) {
      return table[i].reason;
    }
  }
  return "unknown";
}
#endif

static void print_field(const char* key, uint32_t value) {
  byoc_print(" ");
  byoc_print(key);
  byoc_print("=");
  byoc_print_hex32(value);
}

void byoc_fault_report(const uint32_t* frame, uint32_t type, uint32_t exc_return) {
  static int in_fault;
  if (byoc_platform_exiting() || in_fault) {
    /* A fault while exiting (e.g. semihosting unavailable) or while reporting: stop quietly
     * via UART end-of-transmission (FVP); QEMU users get a timeout or lockup. */
    byoc_console_putc('\x04');
    for (;;) {
    }
  }
  in_fault = 1;
  uint32_t ipsr;
  __asm volatile("mrs %0, ipsr" : "=r"(ipsr));

  byoc_print("BYOC_FAULT type=");
  byoc_print(type_name(type));
  /* Frame layout (AAPCS exception frame): r0 r1 r2 r3 r12 lr pc xpsr. */
  print_field("pc", frame[6]);
  print_field("lr", frame[5]);
  print_field("xpsr", frame[7]);
  print_field("sp", (uint32_t)(uintptr_t)frame);
  print_field("exc_return", exc_return);
  byoc_print(" exception=");
  byoc_print_u64(ipsr & 0x1FFu);
#ifdef BYOC_ARCH_HAS_FAULT_STATUS
  uint32_t cfsr = BYOC_REG32(SCB_CFSR);
  print_field("cfsr", cfsr);
  print_field("hfsr", BYOC_REG32(SCB_HFSR));
  if (cfsr & (1u << 7)) {
    print_field("mmfar", BYOC_REG32(SCB_MMFAR));
  }
  if (cfsr & (1u << 15)) {
    print_field("bfar", BYOC_REG32(SCB_BFAR));
  }
#ifdef BYOC_ARCH_V8M_MAIN
  if (type == FAULT_SECURE) {
    print_field("sfsr", BYOC_REG32(SCB_SFSR));
    print_field("sfar", BYOC_REG32(SCB_SFAR));
  }
#endif
  byoc_print(" reason=");
  byoc_print(cfsr_reason(cfsr));
#endif
  byoc_print("\n");
  byoc_exit(FAULT_EXIT_CODE);
}
