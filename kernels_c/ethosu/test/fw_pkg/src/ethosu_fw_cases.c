/*
 * ethosu_fw_cases.c - case blob parser of the Ethos-U55 model firmware test.
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0
 */
#include "ethosu_fw_cases.h"

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint32_t align16(uint32_t v)
{
    return (v + 15u) & ~15u;
}

int ethosu_fw_case_open(const uint8_t *blob, uint32_t available, ethosu_fw_case *c)
{
    if (available < 32u || rd32(blob) != ETHOSU_FW_CASE_MAGIC)
    {
        return -1;
    }
    c->total = rd32(blob + 4);
    c->payload_bytes = rd32(blob + 8);
    c->read_only_bytes = rd32(blob + 12);
    c->scratch_bytes = rd32(blob + 16);
    c->expected_rc = (int32_t)rd32(blob + 20);
    c->n_inputs = rd32(blob + 24);
    c->n_outputs = rd32(blob + 28);
    if (c->total > available || c->n_inputs > 4u || c->n_outputs > 4u)
    {
        return -1;
    }
    uint32_t pos = 32u;
    c->payload = blob + pos;
    pos = align16(pos + c->payload_bytes);
    c->read_only = blob + pos;
    pos = align16(pos + c->read_only_bytes);
    for (uint32_t i = 0; i < c->n_inputs + c->n_outputs; i++)
    {
        ethosu_fw_tensor *t = i < c->n_inputs ? &c->inputs[i] : &c->outputs[i - c->n_inputs];
        if (pos + 16u > c->total)
        {
            return -1;
        }
        t->offset = rd32(blob + pos);
        t->bytes = rd32(blob + pos + 4);
        t->data = blob + pos + 16u;
        pos = align16(pos + 16u + t->bytes);
    }
    return pos <= c->total ? 0 : -1;
}
