/*
 * ethosu_driver.c - byoc's register-level Ethos-U55 driver (Arm's driver API, see
 * include/ethosu_driver.h): reset and identification, the COP1 payload, job start, interrupt,
 * completion and error handling.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Sequence of one job (the order Arm's driver documents for the NPU):
 *   request power: the first request soft-resets the NPU (RESET with the wanted privilege and
 *   security level, STATUS.reset_status polled to 0, PROT checked, QCONFIG/REGIONCFG/AXI limits
 *   written), then clock/power gating is disabled through CMD;
 *   payload: "COP1", then driver actions: OPTIMIZER_CONFIG (its config and id words checked
 *   against CONFIG and ID), COMMAND_STREAM (start), NOP;
 *   start: QBASE, QSIZE (bytes), BASEP0..n-1, then CMD.transition_to_running_state;
 *   interrupt: CMD.clear_irq, STATUS kept for the waiter; done when cmd_end_reached and no
 *   fault bit (bus_status, cmd_parse_error, wd_fault, ecc_fault);
 *   an error resets the NPU and fails the job with -1.
 * This file: hooks, registers, reset/power/info, init and the driver list; ethosu_job.c: the
 * payload, jobs and the interrupt; ethosu_pmu.c: the PMU.
 */
#include <string.h>

#include "ethosu_driver.h"
#include "ethosu_regs.h"

#define EDRV_WEAK __attribute__((weak))

/* ------------------------------------------------------------------ weak hooks */
EDRV_WEAK void ethosu_flush_dcache(uint32_t *p, size_t bytes)
{
    (void)p;
    (void)bytes;
}

EDRV_WEAK void ethosu_invalidate_dcache(uint32_t *p, size_t bytes)
{
    (void)p;
    (void)bytes;
}

static uint8_t edrv_dummy_mutex;

EDRV_WEAK void *ethosu_mutex_create(void)
{
    return &edrv_dummy_mutex;
}

EDRV_WEAK void ethosu_mutex_destroy(void *mutex)
{
    (void)mutex;
}

EDRV_WEAK int ethosu_mutex_lock(void *mutex)
{
    (void)mutex;
    return 0;
}

EDRV_WEAK int ethosu_mutex_unlock(void *mutex)
{
    (void)mutex;
    return 0;
}

/* Semaphores: the driver itself waits by polling the NPU (see ethosu_job.c), so the bare-metal
 * defaults are dummies; an RTOS port may override them for its own use. */
EDRV_WEAK void *ethosu_semaphore_create(void)
{
    return &edrv_dummy_mutex;
}

EDRV_WEAK void ethosu_semaphore_destroy(void *sem)
{
    (void)sem;
}

EDRV_WEAK int ethosu_semaphore_take(void *sem, uint64_t timeout)
{
    (void)sem;
    (void)timeout;
    return 0;
}

EDRV_WEAK int ethosu_semaphore_give(void *sem)
{
    (void)sem;
    return 0;
}

EDRV_WEAK void ethosu_inference_begin(struct ethosu_driver *drv, void *user_arg)
{
    (void)drv;
    (void)user_arg;
}

EDRV_WEAK void ethosu_inference_end(struct ethosu_driver *drv, void *user_arg)
{
    (void)drv;
    (void)user_arg;
}

EDRV_WEAK uint64_t ethosu_address_remap(uint64_t address, int index)
{
    (void)index;
    return address;
}

/* ------------------------------------------------------------------ registers */
static void edrv_set_clock_and_power(struct ethosu_driver *drv, int gating_allowed)
{
    edrv_write(drv, NPU_CMD, gating_allowed ? (NPU_CMD_CLOCK_Q_ENABLE | NPU_CMD_POWER_Q_ENABLE) : 0u);
}

/* ------------------------------------------------------------------ driver list */
static struct ethosu_driver *edrv_drivers;
static void *edrv_list_mutex;

static void edrv_list_lock(void)
{
    if (edrv_list_mutex == NULL)
    {
        edrv_list_mutex = ethosu_mutex_create();
    }
    if (edrv_list_mutex != NULL)
    {
        (void)ethosu_mutex_lock(edrv_list_mutex);
    }
}

static void edrv_list_unlock(void)
{
    if (edrv_list_mutex != NULL)
    {
        (void)ethosu_mutex_unlock(edrv_list_mutex);
    }
}

/* ------------------------------------------------------------------ reset, power, info */
int ethosu_soft_reset(struct ethosu_driver *drv)
{
    if (drv == NULL || drv->reg == NULL)
    {
        return -1;
    }
    const uint32_t level = (drv->privileged ? NPU_RESET_PENDING_CPL_PRIVILEGED : 0u) |
                           (drv->secure ? 0u : NPU_RESET_PENDING_CSL_NONSECURE);
    edrv_write(drv, NPU_RESET, level);
    uint32_t tries = 0;
    while ((edrv_read(drv, NPU_STATUS) & NPU_STATUS_RESET_STATUS) != 0u)
    {
        if (++tries > 100000u)
        {
            return -1;
        }
    }
    if ((edrv_read(drv, NPU_PROT) & 3u) != level)
    {
        return -1; /* the NPU did not take the privilege/security level */
    }
    edrv_write(drv, NPU_QCONFIG, 0u);
    edrv_write(drv, NPU_REGIONCFG, 0u);
    for (uint32_t i = 0; i < 4u; i++)
    {
        edrv_write(drv, NPU_AXI_LIMIT0 + 4u * i, NPU_AXI_LIMIT_DEFAULT);
    }
    edrv_set_clock_and_power(drv, drv->power_request_counter == 0u);
    return 0;
}

int ethosu_request_power(struct ethosu_driver *drv)
{
    if (drv == NULL || !drv->initialized)
    {
        return -1;
    }
    if (drv->power_request_counter++ == 0u)
    {
        if (ethosu_soft_reset(drv) != 0)
        {
            drv->power_request_counter--;
            return -1;
        }
    }
    return 0;
}

void ethosu_release_power(struct ethosu_driver *drv)
{
    if (drv == NULL || drv->power_request_counter == 0u)
    {
        return;
    }
    if (--drv->power_request_counter == 0u)
    {
        edrv_set_clock_and_power(drv, 1);
    }
}

void ethosu_get_driver_version(struct ethosu_driver_version *ver)
{
    if (ver != NULL)
    {
        ver->major = ETHOSU_DRIVER_VERSION_MAJOR;
        ver->minor = ETHOSU_DRIVER_VERSION_MINOR;
        ver->patch = ETHOSU_DRIVER_VERSION_PATCH;
    }
}

void ethosu_get_hw_info(struct ethosu_driver *drv, struct ethosu_hw_info *hw)
{
    if (drv == NULL || hw == NULL || drv->reg == NULL)
    {
        return;
    }
    const uint32_t id = edrv_read(drv, NPU_ID);
    const uint32_t cfg = edrv_read(drv, NPU_CONFIG);
    hw->version.version_status = id & 0xFu;
    hw->version.version_minor = (id >> 4) & 0xFu;
    hw->version.version_major = (id >> 8) & 0xFu;
    hw->version.product_major = (id >> 12) & 0xFu;
    hw->version.arch_patch_rev = (id >> 16) & 0xFu;
    hw->version.arch_minor_rev = (id >> 20) & 0xFFu;
    hw->version.arch_major_rev = (id >> 28) & 0xFu;
    hw->cfg.macs_per_cc = cfg & 0xFu;
    hw->cfg.cmd_stream_version = (cfg >> 4) & 0xFu;
    hw->cfg.custom_dma = (cfg >> 27) & 1u;
}

void ethosu_set_basep_cache_mask(struct ethosu_driver *drv, uint8_t flush_mask, uint8_t invalidate_mask)
{
    if (drv != NULL)
    {
        drv->basep_flush_mask = flush_mask;
        drv->basep_invalidate_mask = invalidate_mask;
    }
}

/* ------------------------------------------------------------------ init */
int ethosu_init(struct ethosu_driver *drv,
                void *const base_address,
                const void *fast_memory,
                const size_t fast_memory_size,
                uint32_t secure_enable,
                uint32_t privilege_enable)
{
    if (drv == NULL || base_address == NULL)
    {
        return -1;
    }
    ethosu_deinit(drv);
    memset(drv, 0, sizeof(*drv));
    drv->reg = (volatile uint32_t *)base_address;
    drv->secure = secure_enable;
    drv->privileged = privilege_enable;
    drv->fast_memory = (uint64_t)(uintptr_t)fast_memory;
    drv->fast_memory_size = fast_memory_size;
    drv->basep_flush_mask = 0xFFu;
    drv->basep_invalidate_mask = 0xFFu;
    if (((edrv_read(drv, NPU_CONFIG) >> NPU_CONFIG_PRODUCT_SHIFT) & 0xFu) != NPU_PRODUCT_ETHOSU55)
    {
        return -1; /* no Ethos-U55 at this address */
    }
    drv->semaphore = ethosu_semaphore_create();
    drv->initialized = true;
    if (ethosu_soft_reset(drv) != 0)
    {
        ethosu_deinit(drv);
        return -1;
    }
    edrv_list_lock();
    drv->next = edrv_drivers;
    edrv_drivers = drv;
    edrv_list_unlock();
    return 0;
}

void ethosu_deinit(struct ethosu_driver *drv)
{
    if (drv == NULL)
    {
        return;
    }
    edrv_list_lock();
    for (struct ethosu_driver **p = &edrv_drivers; *p != NULL; p = &(*p)->next)
    {
        if (*p == drv)
        {
            *p = drv->next;
            break;
        }
    }
    edrv_list_unlock();
    if (drv->semaphore != NULL)
    {
        ethosu_semaphore_destroy(drv->semaphore);
    }
    drv->semaphore = NULL;
    drv->next = NULL;
    drv->initialized = false;
    drv->reserved = false;
}

struct ethosu_driver *ethosu_reserve_driver(void)
{
    struct ethosu_driver *found = NULL;
    edrv_list_lock();
    for (struct ethosu_driver *d = edrv_drivers; d != NULL; d = d->next)
    {
        if (!d->reserved)
        {
            d->reserved = true;
            found = d;
            break;
        }
    }
    edrv_list_unlock();
    return found;
}

void ethosu_release_driver(struct ethosu_driver *drv)
{
    if (drv == NULL)
    {
        return;
    }
    edrv_list_lock();
    drv->reserved = false;
    edrv_list_unlock();
}
