/*
 * npu.c - the Corstone-300's Ethos-U55 interrupt and the data-cache hooks of the Ethos-U driver.
 *
 * Interrupt: the NPU raises external interrupt BYOC_NPU_IRQ (56, exception number 72). Its
 * vector (startup.c) is byoc_npu_irq_isr(), which calls the driver's
 *     void ethosu_irq_handler(struct ethosu_driver *drv)
 * with the driver the harness attached by byoc_npu_attach(). ethosu_irq_handler is a WEAK
 * reference here: Arm's ethos-u-core-driver defines it (and waits in WFE for it after starting
 * a command stream), byoc's functional Ethos-U55 model runs synchronously and does not, and a
 * firmware without any driver links too. The platform never defines ethosu_irq_handler itself:
 * a second (weak) definition placed before the driver's archive would silently replace Arm's.
 *
 * Caches: ethosu_flush_dcache / ethosu_invalidate_dcache (weak no-ops in both drivers) are
 * replaced by clean / invalidate of the data cache by address (or all of it for a NULL
 * pointer) when the core has a D-cache and it is enabled (CCR.DC); otherwise they return.
 */
#include <stddef.h>

#include "byoc_platform.h"
#include "platform_internal.h"

#define NVIC_ISER0 0xE000E100u
#define NVIC_ICER0 0xE000E180u
#define NVIC_ICPR0 0xE000E280u
#define NVIC_IPR0 0xE000E400u

/* Cache maintenance (Armv7-M / Armv8-M Mainline, system control space). */
#define SCB_CCR_DC (1u << 16)
#define SCB_CCSIDR 0xE000ED80u
#define SCB_CSSELR 0xE000ED84u
#define SCB_DCIMVAC 0xE000EF5Cu  /* invalidate by address to PoC */
#define SCB_DCCMVAC 0xE000EF68u  /* clean by address to PoC */
#define SCB_DCCSW 0xE000EF6Cu    /* clean by set/way */
#define SCB_DCCIMVAC 0xE000EF70u /* clean and invalidate by address */
#define SCB_DCCISW 0xE000EF74u   /* clean and invalidate by set/way */

extern void ethosu_irq_handler(struct ethosu_driver* drv) __attribute__((weak));

static struct ethosu_driver* volatile g_npu_driver;
static volatile uint32_t g_npu_irq_count;

void byoc_npu_attach(struct ethosu_driver* drv) {
  uint32_t word = BYOC_NPU_IRQ / 32u;
  uint32_t bit = 1u << (BYOC_NPU_IRQ % 32u);
  g_npu_driver = drv;
  if (drv == NULL) {
    BYOC_REG32(NVIC_ICER0 + 4u * word) = bit;
    __asm volatile("dsb\n isb" ::: "memory");
    return;
  }
  /* Priority 0 (the highest): one byte per interrupt, written as a word (v6-M allows no
   * byte access to the IPR registers). */
  uint32_t ipr = NVIC_IPR0 + 4u * (BYOC_NPU_IRQ / 4u);
  BYOC_REG32(ipr) &= ~(0xFFu << (8u * (BYOC_NPU_IRQ % 4u)));
  BYOC_REG32(NVIC_ICPR0 + 4u * word) = bit; /* a stale pending state is not this job's */
  BYOC_REG32(NVIC_ISER0 + 4u * word) = bit;
  __asm volatile("dsb\n isb\n cpsie i" ::: "memory");
}

struct ethosu_driver* byoc_npu_attached(void) { return g_npu_driver; }

uint32_t byoc_npu_irq_count(void) { return g_npu_irq_count; }

void byoc_npu_irq_isr(void) {
  g_npu_irq_count++;
  struct ethosu_driver* drv = g_npu_driver;
  if (drv == NULL) {
    /* Nobody to hand it to: mask it, or a level interrupt would fire forever. */
    BYOC_REG32(NVIC_ICER0 + 4u * (BYOC_NPU_IRQ / 32u)) = 1u << (BYOC_NPU_IRQ % 32u);
    return;
  }
  if (ethosu_irq_handler) {
    ethosu_irq_handler(drv);
  }
}

#ifdef BYOC_ARCH_HAS_FAULT_STATUS
static int dcache_enabled(void) {
  return (BYOC_REG32(SCB_CCR) & SCB_CCR_DC) != 0u;
}

static uint32_t dcache_line_bytes(void) {
  BYOC_REG32(SCB_CSSELR) = 0u; /* level 1 data cache */
  __asm volatile("dsb" ::: "memory");
  return 4u << ((BYOC_REG32(SCB_CCSIDR) & 7u) + 2u);
}

/* Every set and way of the L1 data cache through `reg` (DCCSW or DCCISW). */
static void dcache_by_set_way(uint32_t reg) {
  BYOC_REG32(SCB_CSSELR) = 0u;
  __asm volatile("dsb" ::: "memory");
  uint32_t ccsidr = BYOC_REG32(SCB_CCSIDR);
  uint32_t line_log2 = (ccsidr & 7u) + 4u;
  uint32_t ways = ((ccsidr >> 3) & 0x3FFu) + 1u;
  uint32_t sets = ((ccsidr >> 13) & 0x7FFFu) + 1u;
  uint32_t way_shift = 32u;
  for (uint32_t w = ways - 1u; w != 0u; w >>= 1) {
    way_shift--;
  }
  for (uint32_t set = 0; set < sets; ++set) {
    for (uint32_t way = 0; way < ways; ++way) {
      uint32_t way_bits = way_shift < 32u ? way << way_shift : 0u;
      BYOC_REG32(reg) = way_bits | (set << line_log2);
    }
  }
  __asm volatile("dsb\n isb" ::: "memory");
}
#endif

void byoc_dcache_clean(const void* p, size_t bytes) {
#ifdef BYOC_ARCH_HAS_FAULT_STATUS
  if (!dcache_enabled()) {
    return;
  }
  if (p == NULL) {
    dcache_by_set_way(SCB_DCCSW);
    return;
  }
  uint32_t line = dcache_line_bytes();
  uintptr_t end = (uintptr_t)p + bytes;
  __asm volatile("dsb" ::: "memory");
  for (uintptr_t a = (uintptr_t)p & ~(uintptr_t)(line - 1u); a < end; a += line) {
    BYOC_REG32(SCB_DCCMVAC) = (uint32_t)a;
  }
  __asm volatile("dsb\n isb" ::: "memory");
#else
  (void)p;
  (void)bytes;
#endif
}

void byoc_dcache_invalidate(void* p, size_t bytes) {
#ifdef BYOC_ARCH_HAS_FAULT_STATUS
  if (!dcache_enabled()) {
    return;
  }
  if (p == NULL) {
    /* The whole cache: clean as well, discarding dirty lines would lose the CPU's data. */
    dcache_by_set_way(SCB_DCCISW);
    return;
  }
  uint32_t line = dcache_line_bytes();
  uintptr_t start = (uintptr_t)p;
  uintptr_t end = start + bytes;
  __asm volatile("dsb" ::: "memory");
  for (uintptr_t a = start & ~(uintptr_t)(line - 1u); a < end; a += line) {
    /* A line shared with data outside [p, p+bytes) is written back first, not discarded. */
    int partial = a < start || a + line > end;
    BYOC_REG32(partial ? SCB_DCCIMVAC : SCB_DCIMVAC) = (uint32_t)a;
  }
  __asm volatile("dsb\n isb" ::: "memory");
#else
  (void)p;
  (void)bytes;
#endif
}

/* The Ethos-U driver's cache hooks (same prototypes in Arm's driver and byoc's model). Weak
 * here too: the platform objects precede the driver's archive on the link line, so these
 * replace the drivers' weak no-ops, and an application's own (strong) hooks replace these. */
__attribute__((weak)) void ethosu_flush_dcache(uint32_t* p, size_t bytes) {
  byoc_dcache_clean(p, bytes);
}

__attribute__((weak)) void ethosu_invalidate_dcache(uint32_t* p, size_t bytes) {
  byoc_dcache_invalidate(p, bytes);
}
