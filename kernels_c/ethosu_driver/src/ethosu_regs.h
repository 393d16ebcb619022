/*
 * ethosu_regs.h - the Ethos-U55 registers byoc's driver uses (offsets in bytes from the NPU's
 * base address, and field bits), from the NPU's published register map.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#ifndef BYOC_ETHOSU_REGS_H
#define BYOC_ETHOSU_REGS_H

#include <stdint.h>

#include "ethosu_driver.h"

#define NPU_ID 0x000u
#define NPU_STATUS 0x004u
#define NPU_CMD 0x008u
#define NPU_RESET 0x00Cu
#define NPU_QBASE 0x010u
#define NPU_QBASE_HI 0x014u
#define NPU_QREAD 0x018u
#define NPU_QCONFIG 0x01Cu
#define NPU_QSIZE 0x020u
#define NPU_PROT 0x024u
#define NPU_CONFIG 0x028u
#define NPU_REGIONCFG 0x03Cu
#define NPU_AXI_LIMIT0 0x040u
#define NPU_BASEP0 0x080u /* BASEPn: 0x080 + 8n (low word), + 4 (high word) */
#define NPU_PMCR 0x180u
#define NPU_PMCNTENSET 0x184u
#define NPU_PMCNTENCLR 0x188u
#define NPU_PMCCNTR_LO 0x1A0u
#define NPU_PMCCNTR_HI 0x1A4u
#define NPU_PMEVCNTR0 0x300u

#define NPU_STATUS_STATE_RUNNING (1u << 0)
#define NPU_STATUS_IRQ_RAISED (1u << 1)
#define NPU_STATUS_BUS_STATUS (1u << 2)
#define NPU_STATUS_RESET_STATUS (1u << 3)
#define NPU_STATUS_CMD_PARSE_ERROR (1u << 4)
#define NPU_STATUS_CMD_END_REACHED (1u << 5)
#define NPU_STATUS_WD_FAULT (1u << 7)
#define NPU_STATUS_ECC_FAULT (1u << 8)
#define NPU_STATUS_FAULTS (NPU_STATUS_BUS_STATUS | NPU_STATUS_CMD_PARSE_ERROR | NPU_STATUS_WD_FAULT | NPU_STATUS_ECC_FAULT)

#define NPU_CMD_TRANSITION_TO_RUNNING (1u << 0)
#define NPU_CMD_CLEAR_IRQ (1u << 1)
#define NPU_CMD_CLOCK_Q_ENABLE (1u << 2)
#define NPU_CMD_POWER_Q_ENABLE (1u << 3)
#define NPU_CMD_GATING_MASK (NPU_CMD_CLOCK_Q_ENABLE | NPU_CMD_POWER_Q_ENABLE)

#define NPU_RESET_PENDING_CPL_PRIVILEGED (1u << 0)
#define NPU_RESET_PENDING_CSL_NONSECURE (1u << 1)

#define NPU_CONFIG_PRODUCT_SHIFT 28
#define NPU_PRODUCT_ETHOSU55 0u
/* AXI limits: 64-byte bursts, 32 outstanding reads, 16 outstanding writes, memory type 0. */
#define NPU_AXI_LIMIT_DEFAULT ((31u << 16) | (15u << 24))

#define NPU_PMCR_CNT_EN (1u << 0)
#define NPU_PMCR_EVENT_CNT_RST (1u << 1)
#define NPU_PMCR_CYCLE_CNT_RST (1u << 2)

static inline uint32_t edrv_read(const struct ethosu_driver *drv, uint32_t offset)
{
    return drv->reg[offset / 4u];
}

static inline void edrv_write(struct ethosu_driver *drv, uint32_t offset, uint32_t value)
{
    drv->reg[offset / 4u] = value;
}

#endif /* BYOC_ETHOSU_REGS_H */
