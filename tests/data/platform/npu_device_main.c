/*
 * npu_device_main.c - Corstone-300 firmware that exercises the emulated Ethos-U55 device
 * through its registers and through the Ethos-U driver API (byoc's register-level driver, or
 * Arm's), with hand-written command streams:
 *   a DMA job (region 0 -> region 1) that must copy the bytes, interrupt once and count
 *   NPU cycles in the PMU; malformed streams (unknown opcode, no STOP, a region that is not
 *   RAM, an operation beyond the watchdog's work limit) that must fail with a driver error
 *   code and leave the NPU usable; raw register sequences for STATUS, the interrupt line,
 *   soft reset and PROT.
 * Prints one line per check:  NPU_DEV check=<name> ok=<0|1> [details]  and finally
 * NPU_DEV result=<pass|fail>; exit code 0 when every check passed.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <string.h>

#include "byoc_platform.h"
#include "ethosu_driver.h"
#include "pmu_ethosu.h"

#define REG(off) (*(volatile uint32_t *)(BYOC_NPU_BASE_ADDRESS + (off)))
#define R_ID 0x000u
#define R_STATUS 0x004u
#define R_CMD 0x008u
#define R_RESET 0x00Cu
#define R_QBASE 0x010u
#define R_QSIZE 0x020u
#define R_PROT 0x024u
#define R_CONFIG 0x028u
#define R_BASEP0 0x080u
#define R_PMCR 0x180u
#define R_PMCNTENSET 0x184u
#define R_PMCCNTR_LO 0x1A0u
#define ST_IRQ (1u << 1)
#define ST_BUS (1u << 2)
#define ST_PARSE (1u << 4)
#define ST_END (1u << 5)

#define CMD0(op, param) ((uint32_t)(op) | ((uint32_t)(param) << 16))
#define CMD1(op) ((uint32_t)(op) | 0x4000u)
#define OP_STOP 0x000u
#define OP_CONV 0x002u
#define OP_DMA_START 0x010u
#define OP_DMA_WAIT 0x011u
#define R0_IFM_DEPTH_M1 0x104u
#define R0_OFM_WIDTH_M1 0x111u
#define R0_OFM_HEIGHT_M1 0x112u
#define R0_OFM_DEPTH_M1 0x113u
#define R0_DMA0_SRC_REGION 0x130u
#define R0_DMA0_DST_REGION 0x131u
#define R1_DMA0_SRC 0x030u
#define R1_DMA0_DST 0x031u
#define R1_DMA0_LEN 0x032u

#define COPY_BYTES 256u

static struct ethosu_driver g_npu;
static uint32_t g_payload[64] __attribute__((aligned(16)));
static uint8_t g_src[COPY_BYTES] __attribute__((aligned(16)));
static uint8_t g_dst[COPY_BYTES] BYOC_ARENA_ATTR;
static uint64_t g_cycles;
static uint32_t g_failed;

void ethosu_inference_begin(struct ethosu_driver *drv, void *user_arg)
{
    (void)user_arg;
    ETHOSU_PMU_Enable(drv);
    ETHOSU_PMU_CYCCNT_Reset(drv);
    ETHOSU_PMU_CNTR_Enable(drv, ETHOSU_PMU_CCNT_Msk);
}

void ethosu_inference_end(struct ethosu_driver *drv, void *user_arg)
{
    (void)user_arg;
    g_cycles = ETHOSU_PMU_Get_CCNTR(drv);
    ETHOSU_PMU_Disable(drv);
}

static void check(const char *name, int ok, const char *key, uint64_t value)
{
    byoc_print("NPU_DEV check=");
    byoc_print(name);
    byoc_print(ok ? " ok=1" : " ok=0");
    if (key != NULL)
    {
        byoc_print(" ");
        byoc_print(key);
        byoc_print("=");
        byoc_print_u64(value);
    }
    byoc_print("\n");
    g_failed += ok ? 0u : 1u;
}

/* COP1 payload around cmds: config/id as the NPU reports them, NOPs to align the stream. */
static int payload(const uint32_t *cmds, uint32_t n)
{
    g_payload[0] = 0x31504F43u;
    g_payload[1] = 0x01u;
    g_payload[2] = REG(R_CONFIG);
    g_payload[3] = REG(R_ID);
    g_payload[4] = g_payload[5] = g_payload[6] = 0x05u;
    g_payload[7] = 0x02u | (n << 16);
    memcpy(&g_payload[8], cmds, n * 4u);
    return (int)((8u + n) * 4u);
}

/* The DMA copy of COPY_BYTES from region 0 to region 1 (stop: append STOP). */
static uint32_t dma_stream(uint32_t *c, int stop)
{
    uint32_t n = 0;
    c[n++] = CMD0(R0_DMA0_SRC_REGION, 0);
    c[n++] = CMD0(R0_DMA0_DST_REGION, 1);
    c[n++] = CMD1(R1_DMA0_SRC);
    c[n++] = 0;
    c[n++] = CMD1(R1_DMA0_DST);
    c[n++] = 0;
    c[n++] = CMD1(R1_DMA0_LEN);
    c[n++] = COPY_BYTES;
    c[n++] = CMD0(OP_DMA_START, 0);
    c[n++] = CMD0(OP_DMA_WAIT, 0);
    if (stop)
    {
        c[n++] = CMD0(OP_STOP, 0);
    }
    return n;
}

static int invoke(const uint32_t *cmds, uint32_t n, uint64_t dst_base)
{
    uint64_t base[2] = {(uint64_t)(uintptr_t)g_src, dst_base};
    size_t size[2] = {COPY_BYTES, COPY_BYTES};
    const int bytes = payload(cmds, n);
    return ethosu_invoke_v3(&g_npu, g_payload, bytes, base, size, 2, NULL);
}

static void driver_checks(void)
{
    uint32_t c[32];
    for (uint32_t i = 0; i < COPY_BYTES; i++)
    {
        g_src[i] = (uint8_t)(i * 7u + 3u);
    }
    memset(g_dst, 0, sizeof(g_dst));
    const uint32_t irqs = byoc_npu_irq_count();
    int rc = invoke(c, dma_stream(c, 1), (uint64_t)(uintptr_t)g_dst);
    check("dma_job", rc == 0 && memcmp(g_src, g_dst, COPY_BYTES) == 0, "rc", (uint64_t)(int64_t)rc);
    check("dma_job_one_interrupt", byoc_npu_irq_count() == irqs + 1u, "irqs", byoc_npu_irq_count() - irqs);
    check("dma_job_pmu_cycles", g_cycles > 0u, "cycles", g_cycles);
    const uint64_t first = g_cycles;
    rc = invoke(c, dma_stream(c, 1), (uint64_t)(uintptr_t)g_dst);
    check("pmu_repeatable", rc == 0 && g_cycles == first, "cycles", g_cycles);

    c[0] = CMD0(0x3FFu, 0);
    c[1] = CMD0(OP_STOP, 0);
    check("unknown_opcode_fails", invoke(c, 2, (uint64_t)(uintptr_t)g_dst) < 0, NULL, 0);
    check("no_stop_fails", invoke(c, dma_stream(c, 0), (uint64_t)(uintptr_t)g_dst) < 0, NULL, 0);
    /* region 1 in the peripheral space: not memory the NPU can read or write */
    check("region_not_ram_fails", invoke(c, dma_stream(c, 1), 0x40000000u) < 0, NULL, 0);
    uint32_t n = 0;
    c[n++] = CMD0(R0_OFM_HEIGHT_M1, 0xFFFFu);
    c[n++] = CMD0(R0_OFM_WIDTH_M1, 0xFFFFu);
    c[n++] = CMD0(R0_OFM_DEPTH_M1, 0xFFFFu);
    c[n++] = CMD0(R0_IFM_DEPTH_M1, 0);
    c[n++] = CMD0(OP_CONV, 0);
    c[n++] = CMD0(OP_STOP, 0);
    check("watchdog_fails", invoke(c, n, (uint64_t)(uintptr_t)g_dst) < 0, NULL, 0);
    memset(g_dst, 0, sizeof(g_dst));
    rc = invoke(c, dma_stream(c, 1), (uint64_t)(uintptr_t)g_dst);
    check("usable_after_errors", rc == 0 && memcmp(g_src, g_dst, COPY_BYTES) == 0, "rc", (uint64_t)(int64_t)rc);
}

/* Raw register sequences with the interrupt detached (masked): the line state is visible. */
static void register_checks(void)
{
    uint32_t c[32];
    byoc_npu_attach(NULL);
    REG(R_RESET) = 1u; /* privileged, secure */
    check("reset_status_clear", REG(R_STATUS) == 0u, "status", REG(R_STATUS));
    check("prot_after_reset", REG(R_PROT) == 1u, "prot", REG(R_PROT));
    const uint32_t n = dma_stream(c, 1);
    memcpy(g_payload, c, n * 4u);
    memset(g_dst, 0, sizeof(g_dst));
    REG(R_QBASE) = (uint32_t)(uintptr_t)g_payload;
    REG(R_QSIZE) = n * 4u;
    REG(R_BASEP0) = (uint32_t)(uintptr_t)g_src;
    REG(R_BASEP0 + 8u) = (uint32_t)(uintptr_t)g_dst;
    REG(R_PMCR) = 1u | 4u;
    REG(R_PMCNTENSET) = 1u << 31;
    REG(R_CMD) = 1u;
    uint32_t st = REG(R_STATUS);
    check("raw_done", (st & (ST_IRQ | ST_END)) == (ST_IRQ | ST_END) && memcmp(g_src, g_dst, COPY_BYTES) == 0,
          "status", st);
    check("raw_pmu_counts", REG(R_PMCCNTR_LO) > 0u, "cycles", REG(R_PMCCNTR_LO));
    REG(R_CMD) = 2u; /* clear_irq */
    check("irq_cleared", (REG(R_STATUS) & ST_IRQ) == 0u, "status", REG(R_STATUS));
    g_payload[0] = CMD0(0x3FFu, 0);
    REG(R_QBASE) = (uint32_t)(uintptr_t)g_payload;
    REG(R_QSIZE) = 4u;
    REG(R_CMD) = 1u;
    st = REG(R_STATUS);
    check("raw_parse_error", (st & (ST_IRQ | ST_PARSE)) == (ST_IRQ | ST_PARSE) && (st & ST_END) == 0u, "status", st);
    /* a faulted NPU does not run again before a reset */
    memcpy(g_payload, c, n * 4u);
    REG(R_QSIZE) = n * 4u;
    REG(R_CMD) = 3u;
    st = REG(R_STATUS);
    check("fault_sticky", (st & ST_PARSE) != 0u && (st & ST_END) == 0u, "status", st);
    REG(R_RESET) = 3u; /* privileged, non-secure */
    check("reset_clears_fault", REG(R_STATUS) == 0u && REG(R_PROT) == 3u && REG(R_PMCCNTR_LO) == 0u,
          "status", REG(R_STATUS));
    REG(R_RESET) = 1u;
}

int main(void)
{
    byoc_platform_init();
    if (ethosu_init(&g_npu, (void *)BYOC_NPU_BASE_ADDRESS, NULL, 0, 1, 1) != 0)
    {
        byoc_print("NPU_DEV init=failed\n");
        return 1;
    }
    struct ethosu_hw_info hw;
    ethosu_get_hw_info(&g_npu, &hw);
    byoc_print("NPU_DEV hw macs_log2=");
    byoc_print_u64(hw.cfg.macs_per_cc);
    byoc_print(" arch_major=");
    byoc_print_u64(hw.version.arch_major_rev);
    byoc_print("\n");
    byoc_npu_attach(&g_npu);
    driver_checks();
    /* the interrupt not delivered (detached): the driver completes by polling STATUS */
    byoc_npu_attach(NULL);
    uint32_t c[32];
    memset(g_dst, 0, sizeof(g_dst));
    const int rc = invoke(c, dma_stream(c, 1), (uint64_t)(uintptr_t)g_dst);
    check("completes_without_interrupt", rc == 0 && memcmp(g_src, g_dst, COPY_BYTES) == 0, "rc",
          (uint64_t)(int64_t)rc);
    register_checks();
    byoc_print(g_failed == 0u ? "NPU_DEV result=pass\n" : "NPU_DEV result=fail\n");
    return g_failed == 0u ? 0 : 1;
}
