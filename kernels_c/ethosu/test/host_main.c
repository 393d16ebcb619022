/*
 * host_main.c - host runner of byoc's Ethos-U55 model: one Vela payload, one inference.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Usage:
 *   ethosu_host_run PAYLOAD READ_ONLY SCRATCH_SIZE [options]
 *     --in OFFSET FILE            copy FILE into the scratch area at OFFSET (repeatable)
 *     --out OFFSET SIZE FILE      write SIZE bytes of the scratch area at OFFSET to FILE
 *     --fast SIZE                 separate scratch_fast area of SIZE bytes (default: = scratch)
 *     --regions N                 pass only the first N base addresses
 *     --size I BYTES              override base_addr_size[I]
 *     --macs N                    emulate a fixed NPU configuration (ethosu_model_set_macs)
 *     --repeat N                  invoke N times (timing)
 * The base addresses are laid out as TFLite Micro's ethos-u operator does: read-only blob,
 * scratch, scratch_fast, then one per --in and --out (inside the scratch area).
 * Prints "ETHOSU_OK ops=<n>" or "ETHOSU_ERROR rc=<rc> name=<..> offset=<byte> msg=<...>";
 * exit code 0 on success, 1 on a driver error, 2 on a usage or file error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethosu_driver.h"
#include "ethosu_model.h"

#define MAX_IO 8

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
    {
        perror(path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* 16-byte aligned, at least 16 bytes */
    uint8_t *buf = aligned_alloc(16, ((size_t)n + 16u) & ~(size_t)15u);
    if (buf == NULL || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n))
    {
        fprintf(stderr, "cannot read %s\n", path);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static struct ethosu_driver g_drv;

int main(int argc, char **argv)
{
    if (argc < 4)
    {
        fprintf(stderr, "usage: %s PAYLOAD READ_ONLY SCRATCH_SIZE [--in OFF FILE] [--out OFF SIZE FILE] ...\n",
                argv[0]);
        return 2;
    }
    size_t payload_size = 0, ro_size = 0;
    uint8_t *payload = read_file(argv[1], &payload_size);
    uint8_t *ro = read_file(argv[2], &ro_size);
    if (payload == NULL || ro == NULL)
    {
        return 2;
    }
    size_t scratch_size = (size_t)strtoull(argv[3], NULL, 0);
    size_t fast_size = 0;
    int separate_fast = 0;
    const char *in_file[MAX_IO], *out_file[MAX_IO];
    size_t in_off[MAX_IO], out_off[MAX_IO], out_size[MAX_IO];
    int n_in = 0, n_out = 0, regions = -1, macs = 0, repeat = 1;
    int size_override_index[ETHOSU_BASEP_INDEXES];
    size_t size_override[ETHOSU_BASEP_INDEXES];
    int n_override = 0;
    for (int i = 4; i < argc; i++)
    {
        if (strcmp(argv[i], "--in") == 0 && i + 2 < argc && n_in < MAX_IO)
        {
            in_off[n_in] = (size_t)strtoull(argv[i + 1], NULL, 0);
            in_file[n_in++] = argv[i + 2];
            i += 2;
        }
        else if (strcmp(argv[i], "--out") == 0 && i + 3 < argc && n_out < MAX_IO)
        {
            out_off[n_out] = (size_t)strtoull(argv[i + 1], NULL, 0);
            out_size[n_out] = (size_t)strtoull(argv[i + 2], NULL, 0);
            out_file[n_out++] = argv[i + 3];
            i += 3;
        }
        else if (strcmp(argv[i], "--fast") == 0 && i + 1 < argc)
        {
            fast_size = (size_t)strtoull(argv[++i], NULL, 0);
            separate_fast = 1;
        }
        else if (strcmp(argv[i], "--regions") == 0 && i + 1 < argc)
        {
            regions = atoi(argv[++i]);
        }
        else if (strcmp(argv[i], "--size") == 0 && i + 2 < argc && n_override < ETHOSU_BASEP_INDEXES)
        {
            size_override_index[n_override] = atoi(argv[i + 1]);
            size_override[n_override++] = (size_t)strtoull(argv[i + 2], NULL, 0);
            i += 2;
        }
        else if (strcmp(argv[i], "--macs") == 0 && i + 1 < argc)
        {
            macs = atoi(argv[++i]);
        }
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
        {
            repeat = atoi(argv[++i]);
        }
        else
        {
            fprintf(stderr, "bad argument %s\n", argv[i]);
            return 2;
        }
    }
    uint8_t *scratch = aligned_alloc(16, (scratch_size + 16u) & ~(size_t)15u);
    uint8_t *fast = separate_fast ? aligned_alloc(16, (fast_size + 16u) & ~(size_t)15u) : scratch;
    if (scratch == NULL || fast == NULL)
    {
        fprintf(stderr, "out of memory\n");
        return 2;
    }
    memset(scratch, 0x5A, scratch_size);
    if (separate_fast)
    {
        memset(fast, 0x5A, fast_size);
    }
    else
    {
        fast_size = scratch_size;
    }
    uint64_t base[ETHOSU_BASEP_INDEXES];
    size_t sizes[ETHOSU_BASEP_INDEXES];
    int n = 0;
    base[n] = (uint64_t)(uintptr_t)ro;
    sizes[n++] = ro_size;
    base[n] = (uint64_t)(uintptr_t)scratch;
    sizes[n++] = scratch_size;
    base[n] = (uint64_t)(uintptr_t)fast;
    sizes[n++] = fast_size;
    for (int i = 0; i < n_in; i++)
    {
        size_t sz = 0;
        uint8_t *data = read_file(in_file[i], &sz);
        if (data == NULL || in_off[i] + sz > scratch_size)
        {
            fprintf(stderr, "input %d does not fit the scratch area\n", i);
            return 2;
        }
        memcpy(scratch + in_off[i], data, sz);
        free(data);
        if (n < ETHOSU_BASEP_INDEXES)
        {
            base[n] = (uint64_t)(uintptr_t)(scratch + in_off[i]);
            sizes[n++] = sz;
        }
    }
    for (int i = 0; i < n_out; i++)
    {
        if (out_off[i] + out_size[i] > scratch_size)
        {
            fprintf(stderr, "output %d does not fit the scratch area\n", i);
            return 2;
        }
        if (n < ETHOSU_BASEP_INDEXES)
        {
            base[n] = (uint64_t)(uintptr_t)(scratch + out_off[i]);
            sizes[n++] = out_size[i];
        }
    }
    if (regions >= 0 && regions < n)
    {
        n = regions;
    }
    for (int i = 0; i < n_override; i++)
    {
        if (size_override_index[i] >= 0 && size_override_index[i] < ETHOSU_BASEP_INDEXES)
        {
            sizes[size_override_index[i]] = size_override[i];
        }
    }

    if (ethosu_init(&g_drv, (void *)0x48102000, NULL, 0, 0, 0) != 0)
    {
        fprintf(stderr, "ethosu_init failed\n");
        return 2;
    }
    if (macs != 0 && ethosu_model_set_macs(&g_drv, (uint32_t)macs) != 0)
    {
        fprintf(stderr, "bad --macs\n");
        return 2;
    }
    struct ethosu_driver *drv = ethosu_reserve_driver();
    if (drv != &g_drv)
    {
        fprintf(stderr, "ethosu_reserve_driver failed\n");
        return 2;
    }
    int rc = 0;
    for (int r = 0; r < repeat && rc == 0; r++)
    {
        rc = ethosu_invoke_v3(drv, payload, (int)payload_size, base, sizes, n, NULL);
    }
    ethosu_release_driver(drv);
    if (rc != 0)
    {
        printf("ETHOSU_ERROR rc=%d name=%s offset=%u msg=%s\n", rc, ethosu_model_error_name(rc),
               (unsigned)ethosu_model_last_error_offset(drv), ethosu_model_last_error_message(drv));
        ethosu_deinit(drv);
        free(payload);
        free(ro);
        free(scratch);
        if (separate_fast)
        {
            free(fast);
        }
        return 1;
    }
    for (int i = 0; i < n_out; i++)
    {
        FILE *f = fopen(out_file[i], "wb");
        if (f == NULL || fwrite(scratch + out_off[i], 1, out_size[i], f) != out_size[i])
        {
            fprintf(stderr, "cannot write %s\n", out_file[i]);
            return 2;
        }
        fclose(f);
    }
    printf("ETHOSU_OK ops=%llu\n", (unsigned long long)ethosu_model_last_op_count(drv));
    ethosu_deinit(drv);
    free(payload);
    free(ro);
    free(scratch);
    if (separate_fast)
    {
        free(fast);
    }
    return 0;
}
