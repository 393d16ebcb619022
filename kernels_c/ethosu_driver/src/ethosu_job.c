/*
 * ethosu_job.c - byoc's Ethos-U55 driver: the COP1 payload, starting a job, the interrupt and
 * completion (see ethosu_driver.c for the whole sequence).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Payload: 32-bit words, "COP1" first, then driver actions (bits 0-7 action, 8-15 extra,
 * 16-31 parameter): 0x01 OPTIMIZER_CONFIG + config word + id word, 0x02 COMMAND_STREAM with
 * (extra << 16 | parameter) command words following, 0x05 NOP. The command stream and every
 * base address must be 16-byte aligned.
 */
#include "ethosu_driver.h"
#include "ethosu_regs.h"

#define EDRV_FOURCC_COP1 0x31504F43u
#define EDRV_ACTION_OPTIMIZER_CONFIG 0x01u
#define EDRV_ACTION_COMMAND_STREAM 0x02u
#define EDRV_ACTION_NOP 0x05u

/* The payload's optimizer config/id against the NPU's CONFIG and ID: same product, MACs and
 * command stream version; same architecture major and at least the minor revision. */
static int edrv_check_config(struct ethosu_driver *drv, uint32_t cfg, uint32_t id)
{
    const uint32_t hw_cfg = edrv_read(drv, NPU_CONFIG);
    const uint32_t hw_id = edrv_read(drv, NPU_ID);
    const uint32_t same = 0xFu | (0xFu << 4) | (0xFu << NPU_CONFIG_PRODUCT_SHIFT);
    if ((cfg & same) != (hw_cfg & same))
    {
        return -1;
    }
    if (((cfg >> 27) & 1u) != 0u && ((hw_cfg >> 27) & 1u) == 0u)
    {
        return -1; /* custom DMA requested, not present */
    }
    if ((id >> 28) != (hw_id >> 28) || ((id >> 20) & 0xFFu) > ((hw_id >> 20) & 0xFFu))
    {
        return -1;
    }
    return 0;
}

static void edrv_start(struct ethosu_driver *drv, const uint32_t *cmds, uint32_t words)
{
    const uint64_t qbase = ethosu_address_remap((uint64_t)(uintptr_t)cmds, -1);
    edrv_write(drv, NPU_QBASE, (uint32_t)qbase);
    edrv_write(drv, NPU_QBASE_HI, (uint32_t)(qbase >> 32));
    edrv_write(drv, NPU_QSIZE, words * 4u);
    for (int i = 0; i < drv->job_num_base_addr; i++)
    {
        const uint64_t addr = ethosu_address_remap(drv->job_base_addr[i], i);
        edrv_write(drv, NPU_BASEP0 + 8u * (uint32_t)i, (uint32_t)addr);
        edrv_write(drv, NPU_BASEP0 + 8u * (uint32_t)i + 4u, (uint32_t)(addr >> 32));
    }
    drv->job_state = ETHOSU_JOB_RUNNING;
    edrv_write(drv, NPU_CMD, NPU_CMD_TRANSITION_TO_RUNNING);
}

static void edrv_cache_hook(struct ethosu_driver *drv, uint8_t mask, int flush)
{
    for (int i = 0; i < drv->job_num_base_addr; i++)
    {
        if ((mask & (1u << i)) == 0u || drv->job_base_addr_size[i] == 0u)
        {
            continue;
        }
        uint32_t *p = (uint32_t *)(uintptr_t)drv->job_base_addr[i];
        if (flush)
        {
            ethosu_flush_dcache(p, drv->job_base_addr_size[i]);
        }
        else
        {
            ethosu_invalidate_dcache(p, drv->job_base_addr_size[i]);
        }
    }
}

/* Walk the payload; start the command stream it holds. 0, or -1 for a bad payload. */
static int edrv_run_payload(struct ethosu_driver *drv, const uint32_t *words, uint32_t n)
{
    int started = 0;
    if (n == 0u || words[0] != EDRV_FOURCC_COP1)
    {
        return -1;
    }
    for (uint32_t i = 1u; i < n;)
    {
        const uint32_t action = words[i] & 0xFFu;
        const uint32_t length = (((words[i] >> 8) & 0xFFu) << 16) | (words[i] >> 16);
        i++;
        if (action == EDRV_ACTION_OPTIMIZER_CONFIG)
        {
            if (n - i < 2u || edrv_check_config(drv, words[i], words[i + 1u]) != 0)
            {
                return -1;
            }
            i += 2u;
        }
        else if (action == EDRV_ACTION_COMMAND_STREAM)
        {
            if (started || length > n - i || ((uintptr_t)&words[i] & 15u) != 0u)
            {
                return -1; /* one stream per payload, inside it, 16-byte aligned */
            }
            if (ethosu_request_power(drv) != 0)
            {
                return -1;
            }
            edrv_cache_hook(drv, drv->basep_flush_mask, 1);
            ethosu_inference_begin(drv, drv->job_user_arg);
            edrv_start(drv, &words[i], length);
            started = 1;
            i += length;
        }
        else if (action == EDRV_ACTION_NOP)
        {
            continue;
        }
        else
        {
            return -1;
        }
    }
    return started ? 0 : -1;
}

int ethosu_invoke_async(struct ethosu_driver *drv,
                        const void *custom_data_ptr,
                        const int custom_data_size,
                        uint64_t *const base_addr,
                        const size_t *base_addr_size,
                        const int num_base_addr,
                        void *user_arg)
{
    if (drv == NULL || !drv->initialized || drv->job_state != ETHOSU_JOB_IDLE || custom_data_ptr == NULL ||
        custom_data_size <= 0 || (custom_data_size & 3) != 0 || ((uintptr_t)custom_data_ptr & 3u) != 0u ||
        num_base_addr < 0 || num_base_addr > ETHOSU_BASEP_INDEXES ||
        (num_base_addr > 0 && (base_addr == NULL || base_addr_size == NULL)))
    {
        return -1;
    }
    for (int i = 0; i < num_base_addr; i++)
    {
        if ((base_addr[i] & 15u) != 0u)
        {
            return -1;
        }
    }
    if (drv->fast_memory != 0u && num_base_addr > 2)
    {
        if (base_addr_size[2] > drv->fast_memory_size)
        {
            return -1;
        }
        base_addr[2] = drv->fast_memory;
    }
    drv->job_base_addr = base_addr;
    drv->job_base_addr_size = base_addr_size;
    drv->job_num_base_addr = num_base_addr;
    drv->job_user_arg = user_arg;
    drv->job_result = ETHOSU_JOB_RESULT_OK;
    drv->irq_status = 0u;
    if (edrv_run_payload(drv, (const uint32_t *)custom_data_ptr, (uint32_t)custom_data_size / 4u) != 0)
    {
        if (drv->job_state != ETHOSU_JOB_IDLE)
        {
            /* a bad action after the stream started: let it finish, then fail */
            (void)ethosu_wait(drv, true);
        }
        drv->job_state = ETHOSU_JOB_IDLE;
        return -1;
    }
    return 0;
}

void ethosu_irq_handler(struct ethosu_driver *drv)
{
    if (drv == NULL || drv->reg == NULL)
    {
        return;
    }
    const uint32_t status = edrv_read(drv, NPU_STATUS);
    edrv_write(drv, NPU_CMD, (edrv_read(drv, NPU_CMD) & NPU_CMD_GATING_MASK) | NPU_CMD_CLEAR_IRQ);
    if (drv->job_state != ETHOSU_JOB_RUNNING)
    {
        return; /* not ours (or already handled) */
    }
    drv->irq_status = status;
    if ((status & NPU_STATUS_FAULTS) != 0u || (status & NPU_STATUS_CMD_END_REACHED) == 0u)
    {
        drv->job_result = ETHOSU_JOB_RESULT_ERROR;
    }
    drv->job_state = ETHOSU_JOB_DONE;
    (void)ethosu_semaphore_give(drv->semaphore);
}

/* Done, or the interrupt is pending but not delivered (not wired, or masked): handle it here
 * with interrupts masked so the vector and this poll cannot both handle it. */
static int edrv_poll_done(struct ethosu_driver *drv)
{
#if defined(__ARM_ARCH) && !defined(__aarch64__)
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
#endif
    if (drv->job_state == ETHOSU_JOB_RUNNING && (edrv_read(drv, NPU_STATUS) & NPU_STATUS_IRQ_RAISED) != 0u)
    {
        ethosu_irq_handler(drv);
    }
#if defined(__ARM_ARCH) && !defined(__aarch64__)
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
#endif
    return drv->job_state == ETHOSU_JOB_DONE;
}

int ethosu_wait(struct ethosu_driver *drv, bool block)
{
    if (drv == NULL || drv->job_state == ETHOSU_JOB_IDLE)
    {
        return -1;
    }
    while (!edrv_poll_done(drv))
    {
        if (!block)
        {
            return 1;
        }
    }
    edrv_cache_hook(drv, drv->basep_invalidate_mask, 0);
    ethosu_inference_end(drv, drv->job_user_arg);
    ethosu_release_power(drv);
    const int failed = drv->job_result != ETHOSU_JOB_RESULT_OK;
    if (failed)
    {
        (void)ethosu_soft_reset(drv); /* a faulted NPU runs again only after a reset */
    }
    drv->job_state = ETHOSU_JOB_IDLE;
    return failed ? -1 : 0;
}

int ethosu_invoke_v3(struct ethosu_driver *drv,
                     const void *custom_data_ptr,
                     const int custom_data_size,
                     uint64_t *const base_addr,
                     const size_t *base_addr_size,
                     const int num_base_addr,
                     void *user_arg)
{
    if (ethosu_invoke_async(drv, custom_data_ptr, custom_data_size, base_addr, base_addr_size, num_base_addr,
                            user_arg) != 0)
    {
        return -1;
    }
    return ethosu_wait(drv, true);
}

