/*
 * ethosu_pmu.c - the PMU part of Arm's driver API (pmu_ethosu.h) on byoc's driver.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Note the NPU's soft reset (first power request of every job) clears the PMU: enable and
 * reset the counters in ethosu_inference_begin and read them in ethosu_inference_end.
 */
#include "pmu_ethosu.h"
#include "ethosu_regs.h"

void ETHOSU_PMU_Enable(struct ethosu_driver *drv)
{
    (void)ethosu_request_power(drv);
    edrv_write(drv, NPU_PMCR, NPU_PMCR_CNT_EN);
}

void ETHOSU_PMU_Disable(struct ethosu_driver *drv)
{
    edrv_write(drv, NPU_PMCR, 0u);
    ethosu_release_power(drv);
}

void ETHOSU_PMU_CNTR_Enable(struct ethosu_driver *drv, uint32_t mask)
{
    edrv_write(drv, NPU_PMCNTENSET, mask);
}

void ETHOSU_PMU_CNTR_Disable(struct ethosu_driver *drv, uint32_t mask)
{
    edrv_write(drv, NPU_PMCNTENCLR, mask);
}

uint32_t ETHOSU_PMU_CNTR_Status(struct ethosu_driver *drv)
{
    return edrv_read(drv, NPU_PMCNTENSET);
}

void ETHOSU_PMU_CYCCNT_Reset(struct ethosu_driver *drv)
{
    edrv_write(drv, NPU_PMCR, edrv_read(drv, NPU_PMCR) | NPU_PMCR_CYCLE_CNT_RST);
}

void ETHOSU_PMU_EVCNTR_ALL_Reset(struct ethosu_driver *drv)
{
    edrv_write(drv, NPU_PMCR, edrv_read(drv, NPU_PMCR) | NPU_PMCR_EVENT_CNT_RST);
}

uint64_t ETHOSU_PMU_Get_CCNTR(struct ethosu_driver *drv)
{
    uint32_t hi = edrv_read(drv, NPU_PMCCNTR_HI);
    uint32_t lo = edrv_read(drv, NPU_PMCCNTR_LO);
    const uint32_t hi2 = edrv_read(drv, NPU_PMCCNTR_HI);
    if (hi2 != hi) /* the low word wrapped between the reads */
    {
        hi = hi2;
        lo = edrv_read(drv, NPU_PMCCNTR_LO);
    }
    return ((uint64_t)hi << 32) | lo;
}

void ETHOSU_PMU_Set_CCNTR(struct ethosu_driver *drv, uint64_t val)
{
    const uint32_t active = ETHOSU_PMU_CNTR_Status(drv) & ETHOSU_PMU_CCNT_Msk;
    if (active)
    {
        ETHOSU_PMU_CNTR_Disable(drv, ETHOSU_PMU_CCNT_Msk);
    }
    edrv_write(drv, NPU_PMCCNTR_LO, (uint32_t)val);
    edrv_write(drv, NPU_PMCCNTR_HI, (uint32_t)(val >> 32) & 0xFFFFu);
    if (active)
    {
        ETHOSU_PMU_CNTR_Enable(drv, ETHOSU_PMU_CCNT_Msk);
    }
}

uint32_t ETHOSU_PMU_Get_EVCNTR(struct ethosu_driver *drv, uint32_t num)
{
    return num < ETHOSU_PMU_NCOUNTERS ? edrv_read(drv, NPU_PMEVCNTR0 + 4u * num) : 0u;
}

uint32_t ETHOSU_PMU_Get_QREAD(struct ethosu_driver *drv)
{
    return edrv_read(drv, NPU_QREAD);
}

uint32_t ETHOSU_PMU_Get_STATUS(struct ethosu_driver *drv)
{
    return edrv_read(drv, NPU_STATUS);
}
