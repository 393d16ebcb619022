/*
 * ethosu_driver.h - Arm Ethos-U core driver API, implemented by byoc's register-level driver
 * for the Ethos-U55 (kernels_c/ethosu_driver): it programs the NPU's registers (QBASE/QSIZE,
 * BASEP, CMD) and waits for its interrupt, like Arm's ethos-u-core-driver, and runs on a real
 * NPU, on the FVP and on byoc's emulated Corstone-300 (fvp/qemu). Written from the driver's
 * public API and the NPU's published register map; no code of Arm's driver is used.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Same header name, functions, macro and weak hooks as Arm's driver (API 0.16), so code
 * written against it links unchanged against either. The interrupt: the application calls
 * ethosu_irq_handler(drv) from the NPU's interrupt vector (Corstone-300: IRQ 56). Without a
 * wired interrupt the driver still completes: while waiting it also polls STATUS.irq_raised.
 */
#ifndef ETHOSU_DRIVER_H
#define ETHOSU_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ETHOSU_DRIVER_VERSION_MAJOR 0
#define ETHOSU_DRIVER_VERSION_MINOR 16
#define ETHOSU_DRIVER_VERSION_PATCH 0

#define ETHOSU_SEMAPHORE_WAIT_FOREVER (UINT64_MAX)
#ifndef ETHOSU_SEMAPHORE_WAIT_INFERENCE
#define ETHOSU_SEMAPHORE_WAIT_INFERENCE ETHOSU_SEMAPHORE_WAIT_FOREVER
#endif

/* Number of NPU regions (base pointers) a command stream can address. */
#define ETHOSU_BASEP_INDEXES 8

enum ethosu_job_state
{
    ETHOSU_JOB_IDLE = 0,
    ETHOSU_JOB_RUNNING,
    ETHOSU_JOB_DONE
};

enum ethosu_job_result
{
    ETHOSU_JOB_RESULT_OK = 0,
    ETHOSU_JOB_RESULT_TIMEOUT,
    ETHOSU_JOB_RESULT_ERROR
};

/* One NPU. The application allocates it and passes it to ethosu_init; fields are private. */
struct ethosu_driver
{
    volatile uint32_t *reg;  /* the NPU's register block */
    uint32_t secure;
    uint32_t privileged;
    struct ethosu_driver *next;
    void *semaphore;
    uint64_t fast_memory;
    size_t fast_memory_size;
    uint32_t power_request_counter;
    bool reserved;
    bool initialized;
    volatile enum ethosu_job_state job_state;
    volatile enum ethosu_job_result job_result;
    volatile uint32_t irq_status; /* STATUS as the interrupt handler found it */
    const uint64_t *job_base_addr;
    const size_t *job_base_addr_size;
    int job_num_base_addr;
    void *job_user_arg;
    uint8_t basep_flush_mask;
    uint8_t basep_invalidate_mask;
};

struct ethosu_driver_version
{
    uint8_t major;
    uint8_t minor;
    uint8_t patch;
};

struct ethosu_id
{
    uint32_t version_status;
    uint32_t version_minor;
    uint32_t version_major;
    uint32_t product_major;
    uint32_t arch_patch_rev;
    uint32_t arch_minor_rev;
    uint32_t arch_major_rev;
};

struct ethosu_config
{
    uint32_t macs_per_cc;
    uint32_t cmd_stream_version;
    uint32_t custom_dma;
};

struct ethosu_hw_info
{
    struct ethosu_id version;
    struct ethosu_config cfg;
};

/* The NPU's interrupt: call from its vector. */
void ethosu_irq_handler(struct ethosu_driver *drv);

/* ---- Weak hooks (defaults here; the application may override them) ---- */
void ethosu_flush_dcache(uint32_t *p, size_t bytes);
void ethosu_invalidate_dcache(uint32_t *p, size_t bytes);
void *ethosu_mutex_create(void);
void ethosu_mutex_destroy(void *mutex);
int ethosu_mutex_lock(void *mutex);
int ethosu_mutex_unlock(void *mutex);
void *ethosu_semaphore_create(void);
void ethosu_semaphore_destroy(void *sem);
int ethosu_semaphore_take(void *sem, uint64_t timeout);
int ethosu_semaphore_give(void *sem);
void ethosu_inference_begin(struct ethosu_driver *drv, void *user_arg);
void ethosu_inference_end(struct ethosu_driver *drv, void *user_arg);
uint64_t ethosu_address_remap(uint64_t address, int index);

/* Which base pointers get ethosu_flush_dcache before / ethosu_invalidate_dcache after a job. */
void ethosu_set_basep_cache_mask(struct ethosu_driver *drv, uint8_t flush_mask, uint8_t invalidate_mask);

/* ---- Driver API ---- */
int ethosu_init(struct ethosu_driver *drv,
                void *const base_address,
                const void *fast_memory,
                const size_t fast_memory_size,
                uint32_t secure_enable,
                uint32_t privilege_enable);
void ethosu_deinit(struct ethosu_driver *drv);
int ethosu_soft_reset(struct ethosu_driver *drv);
int ethosu_request_power(struct ethosu_driver *drv);
void ethosu_release_power(struct ethosu_driver *drv);
void ethosu_get_driver_version(struct ethosu_driver_version *ver);
void ethosu_get_hw_info(struct ethosu_driver *drv, struct ethosu_hw_info *hw);

/* Run a Vela payload ("COP1" + command stream) with NPU region i at base_addr[i]; blocks
 * until the NPU is done. 0 on success, -1 on any error (bad payload, configuration mismatch,
 * NPU fault: the NPU is then reset). */
int ethosu_invoke_v3(struct ethosu_driver *drv,
                     const void *custom_data_ptr,
                     const int custom_data_size,
                     uint64_t *const base_addr,
                     const size_t *base_addr_size,
                     const int num_base_addr,
                     void *user_arg);
#define ethosu_invoke(drv, custom_data_ptr, custom_data_size, base_addr, base_addr_size, num_base_addr)                \
    ethosu_invoke_v3(drv, custom_data_ptr, custom_data_size, base_addr, base_addr_size, num_base_addr, 0)
/* Start a job; ethosu_wait(drv, true) blocks until it is done (0 ok, -1 error), with
 * block = false it returns 1 while the NPU still runs. */
int ethosu_invoke_async(struct ethosu_driver *drv,
                        const void *custom_data_ptr,
                        const int custom_data_size,
                        uint64_t *const base_addr,
                        const size_t *base_addr_size,
                        const int num_base_addr,
                        void *user_arg);
int ethosu_wait(struct ethosu_driver *drv, bool block);

struct ethosu_driver *ethosu_reserve_driver(void);
void ethosu_release_driver(struct ethosu_driver *drv);

#ifdef __cplusplus
}
#endif

#endif /* ETHOSU_DRIVER_H */
