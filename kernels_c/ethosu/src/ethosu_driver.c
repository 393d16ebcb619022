/*
 * ethosu_driver.c - the Ethos-U driver API on top of the functional model: driver list,
 * reservation, weak hooks, invoke entry point and error reporting.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "em_internal.h"

#define EM_WEAK __attribute__((weak))

/* ------------------------------------------------------------------ weak hooks */
EM_WEAK void ethosu_flush_dcache(uint32_t *p, size_t bytes)
{
    (void)p;
    (void)bytes;
}

EM_WEAK void ethosu_invalidate_dcache(uint32_t *p, size_t bytes)
{
    (void)p;
    (void)bytes;
}

/* Any non-NULL handle: the model runs synchronously, there is nothing to lock or wait for. */
static uint8_t em_dummy_handle;

EM_WEAK void *ethosu_mutex_create(void)
{
    return &em_dummy_handle;
}

EM_WEAK void ethosu_mutex_destroy(void *mutex)
{
    (void)mutex;
}

EM_WEAK int ethosu_mutex_lock(void *mutex)
{
    (void)mutex;
    return 0;
}

EM_WEAK int ethosu_mutex_unlock(void *mutex)
{
    (void)mutex;
    return 0;
}

EM_WEAK void *ethosu_semaphore_create(void)
{
    return &em_dummy_handle;
}

EM_WEAK void ethosu_semaphore_destroy(void *sem)
{
    (void)sem;
}

EM_WEAK int ethosu_semaphore_take(void *sem, uint64_t timeout)
{
    (void)sem;
    (void)timeout;
    return 0;
}

EM_WEAK int ethosu_semaphore_give(void *sem)
{
    (void)sem;
    return 0;
}

EM_WEAK void ethosu_inference_begin(struct ethosu_driver *drv, void *user_arg)
{
    (void)drv;
    (void)user_arg;
}

EM_WEAK void ethosu_inference_end(struct ethosu_driver *drv, void *user_arg)
{
    (void)drv;
    (void)user_arg;
}

/* ------------------------------------------------------------------ driver list */
static struct ethosu_driver *em_drivers;
static void *em_list_mutex;

static void em_list_lock(void)
{
    if (em_list_mutex == NULL)
    {
        em_list_mutex = ethosu_mutex_create();
    }
    if (em_list_mutex != NULL)
    {
        (void)ethosu_mutex_lock(em_list_mutex);
    }
}

static void em_list_unlock(void)
{
    if (em_list_mutex != NULL)
    {
        (void)ethosu_mutex_unlock(em_list_mutex);
    }
}

int ethosu_init(struct ethosu_driver *drv,
                void *const base_address,
                const void *fast_memory,
                const size_t fast_memory_size,
                uint32_t secure_enable,
                uint32_t privilege_enable)
{
    if (drv == NULL)
    {
        return -1;
    }
    ethosu_deinit(drv); /* re-initialising must not link the driver twice */
    memset(drv, 0, sizeof(*drv));
    drv->base_address = base_address;
    drv->fast_memory = (uint64_t)(uintptr_t)fast_memory;
    drv->fast_memory_size = fast_memory_size;
    drv->secure_enable = secure_enable;
    drv->privilege_enable = privilege_enable;
    drv->initialized = true;
    em_list_lock();
    drv->next = em_drivers;
    em_drivers = drv;
    em_list_unlock();
    return 0;
}

void ethosu_deinit(struct ethosu_driver *drv)
{
    if (drv == NULL)
    {
        return;
    }
    em_list_lock();
    for (struct ethosu_driver **p = &em_drivers; *p != NULL; p = &(*p)->next)
    {
        if (*p == drv)
        {
            *p = drv->next;
            break;
        }
    }
    em_list_unlock();
    drv->next = NULL;
    drv->initialized = false;
    drv->reserved = false;
}

int ethosu_soft_reset(struct ethosu_driver *drv)
{
    return (drv != NULL && drv->initialized) ? 0 : -1;
}

int ethosu_request_power(struct ethosu_driver *drv)
{
    return (drv != NULL && drv->initialized) ? 0 : -1;
}

void ethosu_release_power(struct ethosu_driver *drv)
{
    (void)drv;
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
    if (hw == NULL)
    {
        return;
    }
    memset(hw, 0, sizeof(*hw));
    /* Ethos-U55, architecture 1.0.6 (the register interface Vela 5.2 targets). */
    hw->version.arch_major_rev = 1;
    hw->version.arch_minor_rev = 0;
    hw->version.arch_patch_rev = 6;
    uint32_t macs = (drv != NULL && drv->model_macs != 0) ? drv->model_macs : 256;
    uint32_t log2 = 0;
    while ((1u << log2) < macs)
    {
        log2++;
    }
    hw->cfg.macs_per_cc = log2;
}

struct ethosu_driver *ethosu_reserve_driver(void)
{
    struct ethosu_driver *found = NULL;
    em_list_lock();
    for (struct ethosu_driver *d = em_drivers; d != NULL; d = d->next)
    {
        if (!d->reserved)
        {
            d->reserved = true;
            found = d;
            break;
        }
    }
    em_list_unlock();
    return found;
}

void ethosu_release_driver(struct ethosu_driver *drv)
{
    if (drv == NULL)
    {
        return;
    }
    em_list_lock();
    drv->reserved = false;
    em_list_unlock();
}

/* ------------------------------------------------------------------ errors */
int ethosu_model_set_macs(struct ethosu_driver *drv, uint32_t macs)
{
    if (drv == NULL || (macs != 0 && macs != 32 && macs != 64 && macs != 128 && macs != 256))
    {
        return -1;
    }
    drv->model_macs = macs;
    return 0;
}

/* ------------------------------------------------------------------ invoke */
int ethosu_invoke_v3(struct ethosu_driver *drv,
                     const void *custom_data_ptr,
                     const int custom_data_size,
                     uint64_t *const base_addr,
                     const size_t *base_addr_size,
                     const int num_base_addr,
                     void *user_arg)
{
    if (drv == NULL)
    {
        return ETHOSU_MODEL_E_ARGUMENT;
    }
    drv->model_error = 0;
    drv->model_error_msg = NULL;
    drv->model_error_pos = 0;
    drv->model_ops = 0;
    drv->model_cycles = 0;

    em_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.drv = drv;
    if (!drv->initialized)
    {
        return em_fail(&ctx, ETHOSU_MODEL_E_ARGUMENT, "driver not initialised (call ethosu_init)");
    }
    if (custom_data_ptr == NULL || custom_data_size < 0 || (custom_data_size & 3) != 0 ||
        ((uintptr_t)custom_data_ptr & 3) != 0)
    {
        return em_fail(&ctx, ETHOSU_MODEL_E_PAYLOAD, "payload pointer/size not word aligned");
    }
    if (num_base_addr < 0 || num_base_addr > ETHOSU_BASEP_INDEXES || (num_base_addr > 0 && base_addr == NULL))
    {
        return em_fail(&ctx, ETHOSU_MODEL_E_ARGUMENT, "bad base address array");
    }
    ctx.regions.count = num_base_addr;
    for (int i = 0; i < num_base_addr; i++)
    {
        ctx.regions.ptr[i] = (uint8_t *)(uintptr_t)base_addr[i];
        ctx.regions.size[i] = base_addr_size != NULL ? base_addr_size[i] : 0;
        if (base_addr[i] != (uint64_t)(uintptr_t)ctx.regions.ptr[i])
        {
            return em_fail(&ctx, ETHOSU_MODEL_E_ARGUMENT, "base address does not fit a pointer");
        }
    }

    ethosu_inference_begin(drv, user_arg);
    for (int i = 0; i < num_base_addr; i++)
    {
        if (ctx.regions.ptr[i] != NULL && ctx.regions.size[i] != 0)
        {
            ethosu_flush_dcache((uint32_t *)(void *)ctx.regions.ptr[i], ctx.regions.size[i]);
        }
    }
    int rc = em_run_payload(&ctx, (const uint32_t *)custom_data_ptr, (uint32_t)custom_data_size / 4u);
    for (int i = 0; i < num_base_addr; i++)
    {
        if (ctx.regions.ptr[i] != NULL && ctx.regions.size[i] != 0)
        {
            ethosu_invalidate_dcache((uint32_t *)(void *)ctx.regions.ptr[i], ctx.regions.size[i]);
        }
    }
    drv->model_ops = ctx.ops;
    drv->model_cycles = ctx.cycles; /* before the end hook, which may read it */
    ethosu_inference_end(drv, user_arg);
    if (rc < 0 && drv->model_error == 0)
    {
        drv->model_error = rc;
    }
    return rc < 0 ? rc : 0;
}

int ethosu_invoke_async(struct ethosu_driver *drv,
                        const void *custom_data_ptr,
                        const int custom_data_size,
                        uint64_t *const base_addr,
                        const size_t *base_addr_size,
                        const int num_base_addr,
                        void *user_arg)
{
    if (drv == NULL)
    {
        return ETHOSU_MODEL_E_ARGUMENT;
    }
    const int rc = ethosu_invoke_v3(drv, custom_data_ptr, custom_data_size, base_addr, base_addr_size, num_base_addr,
                                    user_arg);
    drv->model_async_rc = rc;
    drv->model_async_pending = true;
    return rc < 0 ? rc : 0;
}

int ethosu_wait(struct ethosu_driver *drv, bool block)
{
    (void)block; /* the inference already ran to completion in ethosu_invoke_async */
    if (drv == NULL || !drv->model_async_pending)
    {
        return -1;
    }
    drv->model_async_pending = false;
    return drv->model_async_rc;
}
