/*
 * pmu_ethosu.h - the Ethos-U PMU API of Arm's driver (the subset byoc uses), implemented by
 * byoc's register-level driver: the 48-bit cycle counter and the four event counters.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#ifndef PMU_ETHOSU_H
#define PMU_ETHOSU_H

#include <stdint.h>

#include "ethosu_driver.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ETHOSU_PMU_NCOUNTERS 4
#define ETHOSU_PMU_CNT1_Msk (1UL << 0)
#define ETHOSU_PMU_CNT2_Msk (1UL << 1)
#define ETHOSU_PMU_CNT3_Msk (1UL << 2)
#define ETHOSU_PMU_CNT4_Msk (1UL << 3)
#define ETHOSU_PMU_CCNT_Msk (1UL << 31)

/* Enable / disable the PMU (PMCR.cnt_en); enabling also requests NPU power like Arm's. */
void ETHOSU_PMU_Enable(struct ethosu_driver *drv);
void ETHOSU_PMU_Disable(struct ethosu_driver *drv);
/* Counters selected by mask (ETHOSU_PMU_CCNT_Msk, ETHOSU_PMU_CNTn_Msk). */
void ETHOSU_PMU_CNTR_Enable(struct ethosu_driver *drv, uint32_t mask);
void ETHOSU_PMU_CNTR_Disable(struct ethosu_driver *drv, uint32_t mask);
uint32_t ETHOSU_PMU_CNTR_Status(struct ethosu_driver *drv);
void ETHOSU_PMU_CYCCNT_Reset(struct ethosu_driver *drv);
void ETHOSU_PMU_EVCNTR_ALL_Reset(struct ethosu_driver *drv);
/* The 48-bit cycle counter. */
uint64_t ETHOSU_PMU_Get_CCNTR(struct ethosu_driver *drv);
void ETHOSU_PMU_Set_CCNTR(struct ethosu_driver *drv, uint64_t val);
uint32_t ETHOSU_PMU_Get_EVCNTR(struct ethosu_driver *drv, uint32_t num);
uint32_t ETHOSU_PMU_Get_QREAD(struct ethosu_driver *drv);
uint32_t ETHOSU_PMU_Get_STATUS(struct ethosu_driver *drv);

#ifdef __cplusplus
}
#endif

#endif /* PMU_ETHOSU_H */
