/*
 * npu_irq_main.c - the Corstone-300 platform's Ethos-U55 interrupt wiring, checked by raising
 * the interrupt in software. This firmware links no NPU driver: it defines the driver's
 * ethosu_irq_handler itself (as Arm's ethos-u-core-driver does), records what the vector
 * passes it, and pends interrupt BYOC_NPU_IRQ through the NVIC's set-pending register (ISPR)
 * and, on cores that have it, the software trigger register (STIR).
 *
 * Prints "NPU_IRQ via=<ispr|stir|detached> count=<n> handler_calls=<n> driver_ok=<0|1>
 * exception=<n>" per step; exit code 0 when every step saw what it should.
 */
#include <stdint.h>

#include "byoc_platform.h"

#define NVIC_ISPR0 0xE000E200u
#define NVIC_ISER0 0xE000E100u
#define NVIC_STIR 0xE000EF00u
#define REG32(a) (*(volatile uint32_t*)(uintptr_t)(a))

struct ethosu_driver {
  uint32_t tag;
};

static struct ethosu_driver g_fake_driver = {0x4E505521u};
static volatile uint32_t g_handler_calls;
static volatile struct ethosu_driver* g_handler_driver;
static volatile uint32_t g_handler_exception;

void ethosu_irq_handler(struct ethosu_driver* drv) {
  uint32_t ipsr;
  __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  g_handler_exception = ipsr & 0x1FFu;
  g_handler_driver = drv;
  g_handler_calls++;
}

static void pend_with_ispr(void) {
  REG32(NVIC_ISPR0 + 4u * (BYOC_NPU_IRQ / 32u)) = 1u << (BYOC_NPU_IRQ % 32u);
}

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) || \
    defined(__ARM_ARCH_8_1M_MAIN__)
#define HAS_STIR 1
static void pend_with_stir(void) { REG32(NVIC_STIR) = BYOC_NPU_IRQ; }
#endif

/* Pends the interrupt, lets it be taken, reports; returns 1 when the handler ran once more
 * with the attached driver in exception 16 + BYOC_NPU_IRQ (or, detached, not at all). */
static int step(const char* via, void (*pend)(void), int expect_handler) {
  uint32_t calls_before = g_handler_calls;
  uint32_t count_before = byoc_npu_irq_count();
  g_handler_driver = 0;
  g_handler_exception = 0;
  pend();
  __asm volatile("dsb\n isb" ::: "memory");
  for (volatile int spin = 0; spin < 100; ++spin) {
  }
  uint32_t calls = g_handler_calls - calls_before;
  uint32_t count = byoc_npu_irq_count() - count_before;
  int driver_ok = g_handler_driver == &g_fake_driver;
  byoc_print("NPU_IRQ via=");
  byoc_print(via);
  byoc_print(" count=");
  byoc_print_u64(count);
  byoc_print(" handler_calls=");
  byoc_print_u64(calls);
  byoc_print(" driver_ok=");
  byoc_print_u64((uint64_t)driver_ok);
  byoc_print(" exception=");
  byoc_print_u64(g_handler_exception);
  byoc_print("\n");
  if (!expect_handler) {
    return count == 1u && calls == 0u;
  }
  return count == 1u && calls == 1u && driver_ok && g_handler_exception == 16u + BYOC_NPU_IRQ;
}

int main(void) {
  int ok = 1;
  byoc_npu_attach(&g_fake_driver);
  ok &= byoc_npu_attached() == &g_fake_driver;
  ok &= step("ispr", pend_with_ispr, 1);
#ifdef HAS_STIR
  ok &= step("stir", pend_with_stir, 1);
#endif
  /* Detached: enabled by hand, the vector runs, masks the interrupt, calls no handler. */
  byoc_npu_attach(0);
  REG32(NVIC_ISER0 + 4u * (BYOC_NPU_IRQ / 32u)) = 1u << (BYOC_NPU_IRQ % 32u);
  ok &= step("detached", pend_with_ispr, 0);
  ok &= (REG32(NVIC_ISER0 + 4u * (BYOC_NPU_IRQ / 32u)) & (1u << (BYOC_NPU_IRQ % 32u))) == 0u;
  /* Cache hooks with the D-cache off (boot state): no-ops that must not fault. */
  byoc_dcache_clean(&g_fake_driver, sizeof g_fake_driver);
  byoc_dcache_invalidate(&g_fake_driver, sizeof g_fake_driver);
  byoc_dcache_clean(0, 0);
  byoc_print(ok ? "NPU_IRQ result=pass\n" : "NPU_IRQ result=fail\n");
  return ok ? 0 : 1;
}
