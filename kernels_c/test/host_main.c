/*
 * host_main.c - host driver for the CMSIS-NN kernel tests (portable C path).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 *
 * Usage: host_main <cases.bin> <results.bin>
 * cases.bin is a sequence of case blobs (cmsis_nn_cases.h); results.bin receives, per case:
 *   int32 status, int32 scratch bytes, int32 output bytes, output (padded to 4 bytes).
 * Prints "path=<c|dsp|mve> cases=<n>" on success.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmsis_nn_cases.h" /* fw_pkg/include */

int main(int argc, char **argv)
{
    if (argc != 3)
    {
        fprintf(stderr, "usage: %s cases.bin results.bin\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f)
    {
        perror(argv[1]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)size + 4);
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size)
    {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    fclose(f);
    FILE *o = fopen(argv[2], "wb");
    if (!o)
    {
        perror(argv[2]);
        return 2;
    }
    long pos = 0;
    int n = 0;
    while (pos + 16 <= size)
    {
        const uint8_t *blob = data + pos;
        case_reader r;
        if (!case_open(&r, blob) || r.total <= 0 || pos + r.total > size)
        {
            fprintf(stderr, "bad case blob at offset %ld\n", pos);
            return 2;
        }
        /* Fresh, exactly sized allocations so that overruns hit the guards. */
        const int32_t scratch_cap = 1 << 20;
        uint8_t *scratch = malloc((size_t)scratch_cap);
        int8_t *out = malloc((size_t)r.out_bytes + CASE_GUARD + 4);
        memset(out, 0x5A, (size_t)r.out_bytes);
        int32_t used = 0;
        int32_t status = run_case(blob, out, scratch, scratch_cap, &used);
        int32_t header[3] = {status, used, r.out_bytes};
        fwrite(header, 4, 3, o);
        fwrite(out, 1, (size_t)r.out_bytes, o);
        static const uint8_t zeros[4] = {0, 0, 0, 0};
        fwrite(zeros, 1, (size_t)((4 - (r.out_bytes & 3)) & 3), o);
        free(scratch);
        free(out);
        pos += r.total;
        n++;
    }
    fclose(o);
    printf("path=%s cases=%d\n", ARM_NN_PATH_NAME, n);
    return 0;
}
