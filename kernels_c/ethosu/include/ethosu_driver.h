/*
 * ethosu_driver.h - Arm Ethos-U core driver API, implemented by byoc's functional model of
 * the Ethos-U55 (kernels_c/ethosu).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Same header name, functions, macro and weak hooks as Arm's ethos-u-core-driver, so code
 * written against this header (e.g. byoc's generated code calling ethosu_invoke_v3) links
 * unchanged against Arm's driver on hardware or the FVP, and against this model on an emulator
 * without an NPU (QEMU) or on the host. Written from the driver's public documentation; no code
 * of Arm's driver is used.
 *
 * The model executes the Vela command stream on the CPU, synchronously, inside
 * ethosu_invoke_v3. It allocates nothing on the heap: its working memory (emulated SHRAM: LUTs
 * and accumulators) lives in struct ethosu_driver, which the application owns.
 */
#ifndef ETHOSU_DRIVER_H
#define ETHOSU_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the driver API this header follows. */
#define ETHOSU_DRIVER_VERSION_MAJOR 0
#define ETHOSU_DRIVER_VERSION_MINOR 16
#define ETHOSU_DRIVER_VERSION_PATCH 0

/* Number of NPU regions (base pointers) a command stream can address. */
#define ETHOSU_BASEP_INDEXES 8

/* Model sizing (may be overridden at build time; both are entries, not bytes). */
#ifndef ETHOSU_MODEL_ACC_ENTRIES
#define ETHOSU_MODEL_ACC_ENTRIES 2048 /* int64 accumulators: 16 KiB */
#endif
#ifndef ETHOSU_MODEL_LUT_BYTES
#define ETHOSU_MODEL_LUT_BYTES 2048 /* the SHRAM LUT area of the Ethos-U55 */
#endif

/* Emulated NPU state: the parts of the NPU's internal memory (SHRAM) the model needs. */
struct ethosu_model_shram
{
    int64_t acc[ETHOSU_MODEL_ACC_ENTRIES];
    uint8_t lut[ETHOSU_MODEL_LUT_BYTES];
};

/*
 * One NPU. The application allocates it (static storage; about 18 KiB with the model's default
 * sizing) and passes it to ethosu_init. Its fields are private to the driver.
 */
struct ethosu_driver
{
    void *base_address;
    uint64_t fast_memory;
    size_t fast_memory_size;
    uint32_t secure_enable;
    uint32_t privilege_enable;
    struct ethosu_driver *next;
    void *mutex;
    bool reserved;
    bool initialized;
    /* model state */
    uint32_t model_macs;      /* 0: emulate the configuration the payload was compiled for */
    int32_t model_error;      /* last error (ETHOSU_MODEL_E_*), 0 after a successful invoke */
    uint32_t model_error_pos; /* byte offset in the payload of the failing command */
    const char *model_error_msg;
    uint64_t model_ops;       /* NPU operations executed by the last invoke */
    uint64_t model_cycles;    /* estimated NPU cycles of the last invoke */
    int32_t model_async_rc;   /* result of the last ethosu_invoke_async, for ethosu_wait */
    bool model_async_pending;
    struct ethosu_model_shram shram;
};

struct ethosu_driver_version
{
    uint8_t major;
    uint8_t minor;
    uint8_t patch;
};

struct ethosu_hw_info
{
    struct
    {
        uint32_t version_status;
        uint32_t version_minor;
        uint32_t version_major;
        uint32_t product_major;
        uint32_t arch_patch_rev;
        uint32_t arch_minor_rev;
        uint32_t arch_major_rev;
    } version;
    struct
    {
        uint32_t macs_per_cc;
        uint32_t cmd_stream_version;
        uint32_t custom_dma;
    } cfg;
};

/* ---- Weak hooks: no-ops here; the application may override them. ---- */

/* Cache maintenance around NPU accesses (no caches to maintain for the model). */
void ethosu_flush_dcache(uint32_t *p, size_t bytes);
void ethosu_invalidate_dcache(uint32_t *p, size_t bytes);

/* RTOS integration. The defaults return non-NULL dummy handles and succeed. */
void *ethosu_mutex_create(void);
void ethosu_mutex_destroy(void *mutex);
int ethosu_mutex_lock(void *mutex);
int ethosu_mutex_unlock(void *mutex);
void *ethosu_semaphore_create(void);
void ethosu_semaphore_destroy(void *sem);
int ethosu_semaphore_take(void *sem, uint64_t timeout);
int ethosu_semaphore_give(void *sem);

/* Called before and after every inference. */
void ethosu_inference_begin(struct ethosu_driver *drv, void *user_arg);
void ethosu_inference_end(struct ethosu_driver *drv, void *user_arg);

/* ---- Driver API ---- */

/*
 * Initialise a driver for the NPU at base_address (the model ignores the address) and add it
 * to the list ethosu_reserve_driver picks from. fast_memory is the optional dedicated SRAM
 * (Vela's scratch_fast region) of Dedicated_Sram configurations. Returns 0 on success.
 */
int ethosu_init(struct ethosu_driver *drv,
                void *const base_address,
                const void *fast_memory,
                const size_t fast_memory_size,
                uint32_t secure_enable,
                uint32_t privilege_enable);

/* Remove the driver from the list. */
void ethosu_deinit(struct ethosu_driver *drv);

/* Soft reset / power control: no-ops returning success for the model. */
int ethosu_soft_reset(struct ethosu_driver *drv);
int ethosu_request_power(struct ethosu_driver *drv);
void ethosu_release_power(struct ethosu_driver *drv);

void ethosu_get_driver_version(struct ethosu_driver_version *ver);
void ethosu_get_hw_info(struct ethosu_driver *drv, struct ethosu_hw_info *hw);

/*
 * Run a Vela payload ("COP1" driver actions + command stream) to completion.
 *
 * custom_data_ptr/custom_data_size: the payload (Vela's command stream tensor), 4-byte aligned.
 * base_addr[i]: address of NPU region i (Vela: 0 read-only blob, 1 scratch, 2 scratch_fast, then
 * the IFMs and OFMs), base_addr_size[i] its size in bytes (may be NULL: then no bounds are known
 * and every access is refused). Returns 0 on success, a negative value on any error.
 */
int ethosu_invoke_v3(struct ethosu_driver *drv,
                     const void *custom_data_ptr,
                     const int custom_data_size,
                     uint64_t *const base_addr,
                     const size_t *base_addr_size,
                     const int num_base_addr,
                     void *user_arg);

/*
 * Asynchronous variant: the model runs the inference to completion inside this call (returns 0,
 * or the negative error); ethosu_wait then returns that inference's result (0 or negative; -1
 * when no inference is pending).
 */
int ethosu_invoke_async(struct ethosu_driver *drv,
                        const void *custom_data_ptr,
                        const int custom_data_size,
                        uint64_t *const base_addr,
                        const size_t *base_addr_size,
                        const int num_base_addr,
                        void *user_arg);
int ethosu_wait(struct ethosu_driver *drv, bool block);

#define ethosu_invoke(drv, custom_data_ptr, custom_data_size, base_addr, base_addr_size, num_base_addr) \
    ethosu_invoke_v3(drv, custom_data_ptr, custom_data_size, base_addr, base_addr_size, num_base_addr, 0)

/* Reserve a free initialised driver (NULL if none is free) and release it again. */
struct ethosu_driver *ethosu_reserve_driver(void);
void ethosu_release_driver(struct ethosu_driver *drv);

#ifdef __cplusplus
}
#endif

#endif /* ETHOSU_DRIVER_H */
