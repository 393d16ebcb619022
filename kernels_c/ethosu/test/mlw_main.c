/*
 * mlw_main.c - host test tool: decode a compressed weight stream with the model's decoder.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Usage: ethosu_mlw_decode IN.bin OUT.bin
 * Writes the decoded weights as little-endian int16 and prints "MLW_OK values=<n>", or
 * "MLW_ERROR values=<n>" (exit code 1) for a malformed stream.
 */
#include <stdio.h>
#include <stdlib.h>

#include "em_internal.h"

int main(int argc, char **argv)
{
    if (argc != 3)
    {
        fprintf(stderr, "usage: %s IN.bin OUT.bin\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL)
    {
        perror(argv[1]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1u);
    if (buf == NULL || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n))
    {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    fclose(f);
    FILE *o = fopen(argv[2], "wb");
    if (o == NULL)
    {
        perror(argv[2]);
        return 2;
    }
    em_mlw_t dec;
    em_mlw_init(&dec, buf, (uint32_t)n);
    long count = 0;
    int rc;
    int32_t v;
    while ((rc = em_mlw_next(&dec, &v)) > 0)
    {
        const int16_t s = (int16_t)v;
        fwrite(&s, sizeof(s), 1, o);
        count++;
    }
    fclose(o);
    free(buf);
    if (rc < 0)
    {
        printf("MLW_ERROR values=%ld\n", count);
        return 1;
    }
    printf("MLW_OK values=%ld\n", count);
    return 0;
}
