/*
 * unit_main.c - host unit checks of byoc's Ethos-U55 model.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Usage:
 *   ethosu_unit round          reads lines "acc scale shift mode" from stdin and prints the
 *                              rounded scaling result per line (em_scale_round)
 *   ethosu_unit api            driver API behaviour (reservation, hooks, argument errors);
 *                              prints "API_OK" or the failed check, exit code 0/1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "em_internal.h"

/* Overrides of the weak hooks: count the calls. */
static int g_begin, g_end, g_flush, g_invalidate;

void ethosu_inference_begin(struct ethosu_driver *drv, void *user_arg)
{
    (void)drv;
    if (user_arg == (void *)&g_begin)
    {
        g_begin++;
    }
}

void ethosu_inference_end(struct ethosu_driver *drv, void *user_arg)
{
    (void)drv;
    if (user_arg == (void *)&g_begin)
    {
        g_end++;
    }
}

void ethosu_flush_dcache(uint32_t *p, size_t bytes)
{
    (void)p;
    (void)bytes;
    g_flush++;
}

void ethosu_invalidate_dcache(uint32_t *p, size_t bytes)
{
    (void)p;
    (void)bytes;
    g_invalidate++;
}

#define CHECK(cond)                                       \
    do                                                    \
    {                                                     \
        if (!(cond))                                      \
        {                                                 \
            printf("API_FAIL line %d: %s\n", __LINE__, #cond); \
            return 1;                                     \
        }                                                 \
    } while (0)

static struct ethosu_driver g_a, g_b;

static int api_checks(void)
{
    struct ethosu_driver_version v;
    ethosu_get_driver_version(&v);
    CHECK(v.major == ETHOSU_DRIVER_VERSION_MAJOR && v.minor == ETHOSU_DRIVER_VERSION_MINOR);
    CHECK(ethosu_reserve_driver() == NULL); /* nothing initialised yet */
    CHECK(ethosu_init(&g_a, NULL, NULL, 0, 0, 0) == 0);
    CHECK(ethosu_init(&g_b, NULL, NULL, 0, 0, 0) == 0);
    CHECK(ethosu_init(&g_a, NULL, NULL, 0, 1, 1) == 0); /* re-init does not duplicate */
    struct ethosu_driver *d1 = ethosu_reserve_driver();
    struct ethosu_driver *d2 = ethosu_reserve_driver();
    CHECK(d1 != NULL && d2 != NULL && d1 != d2);
    CHECK(ethosu_reserve_driver() == NULL);
    ethosu_release_driver(d1);
    CHECK(ethosu_reserve_driver() == d1);
    ethosu_release_driver(d1);
    ethosu_release_driver(d2);

    /* A minimal valid payload: COP1, config (128 MACs, 24 KiB SHRAM), id, one STOP. */
    static const uint32_t payload[] = {0x31504F43u, 0x00100001u, 0x00001807u, 0x10066001u,
                                       0x00000005u, 0x00000005u, 0x00000005u, 0x00010002u,
                                       0xFFFF0000u};
    uint64_t base[1] = {(uint64_t)(uintptr_t)payload};
    size_t size[1] = {sizeof(payload)};
    g_begin = g_end = g_flush = g_invalidate = 0;
    CHECK(ethosu_invoke_v3(&g_a, payload, (int)sizeof(payload), base, size, 1, &g_begin) == 0);
    CHECK(g_begin == 1 && g_end == 1 && g_flush == 1 && g_invalidate == 1);
    CHECK(ethosu_invoke(&g_a, payload, (int)sizeof(payload), base, size, 1) == 0);
    CHECK(ethosu_model_last_error(&g_a) == 0);
    CHECK(ethosu_wait(&g_a, true) < 0); /* nothing pending */
    CHECK(ethosu_invoke_async(&g_a, payload, (int)sizeof(payload), base, size, 1, NULL) == 0);
    CHECK(ethosu_wait(&g_a, true) == 0);

    /* Argument errors: negative, with a message. */
    CHECK(ethosu_invoke_v3(NULL, payload, (int)sizeof(payload), base, size, 1, NULL) < 0);
    CHECK(ethosu_invoke_v3(&g_a, NULL, 4, base, size, 1, NULL) == ETHOSU_MODEL_E_PAYLOAD);
    CHECK(ethosu_invoke_v3(&g_a, payload, -4, base, size, 1, NULL) == ETHOSU_MODEL_E_PAYLOAD);
    CHECK(ethosu_invoke_v3(&g_a, payload, (int)sizeof(payload), base, size, 9, NULL) == ETHOSU_MODEL_E_ARGUMENT);
    CHECK(ethosu_invoke_v3(&g_a, payload, (int)sizeof(payload), NULL, size, 1, NULL) == ETHOSU_MODEL_E_ARGUMENT);
    CHECK(ethosu_invoke_v3(&g_a, payload, 4, base, size, 1, NULL) == ETHOSU_MODEL_E_PAYLOAD);
    CHECK(strlen(ethosu_model_last_error_message(&g_a)) > 0);
    CHECK(ethosu_model_set_macs(&g_a, 96) != 0);
    CHECK(ethosu_model_set_macs(&g_a, 64) == 0);
    CHECK(ethosu_invoke_v3(&g_a, payload, (int)sizeof(payload), base, size, 1, NULL) == ETHOSU_MODEL_E_CONFIG);
    CHECK(ethosu_model_set_macs(&g_a, 0) == 0);

    ethosu_deinit(&g_a);
    CHECK(ethosu_invoke_v3(&g_a, payload, (int)sizeof(payload), base, size, 1, NULL) == ETHOSU_MODEL_E_ARGUMENT);
    CHECK(ethosu_reserve_driver() == &g_b);
    ethosu_release_driver(&g_b);
    ethosu_deinit(&g_b);
    CHECK(ethosu_reserve_driver() == NULL);
    printf("API_OK\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "api") == 0)
    {
        return api_checks();
    }
    if (argc == 2 && strcmp(argv[1], "round") == 0)
    {
        long long acc;
        unsigned long scale;
        int shift, mode;
        while (scanf("%lld %lu %d %d", &acc, &scale, &shift, &mode) == 4)
        {
            printf("%lld\n", (long long)em_scale_round((int64_t)acc, (uint32_t)scale, shift, mode));
        }
        return 0;
    }
    fprintf(stderr, "usage: %s round|api\n", argv[0]);
    return 2;
}
