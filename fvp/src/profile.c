/*
 * profile.c - per-operator instruction counts for model code built with -DBYOC_PROFILE.
 *
 * The generated run function calls byoc_profile_enter(i, name) / byoc_profile_exit(i)
 * around operator i. enter reads the counter as its last action and exit as its first, so
 * the table look-up is outside the measured span; the remaining constant cost of an empty
 * enter/exit pair is measured at init (byoc_profile_calibrate) and subtracted per call.
 * Counts accumulate over repeated calls of the same operator.
 */
#include "byoc_platform.h"
#include "platform_internal.h"

#ifndef BYOC_PROFILE_MAX_OPS
#define BYOC_PROFILE_MAX_OPS 256
#endif

struct op_record {
  uint32_t index;
  const char* name;
  uint64_t instructions;
  uint32_t calls;
};

static struct op_record g_ops[BYOC_PROFILE_MAX_OPS];
static uint32_t g_num_ops;
static uint32_t g_dropped;        /* enters not recorded because the table was full */
static struct op_record* g_active;
static uint64_t g_enter_raw;
static uint64_t g_pair_overhead;  /* instructions of an empty enter/exit pair */
static struct op_record g_scratch; /* target while calibrating */
static int g_calibrating;

static struct op_record* find_or_add(uint32_t op_index, const char* op_name) {
  for (uint32_t i = 0; i < g_num_ops; ++i) {
    if (g_ops[i].index == op_index) {
      return &g_ops[i];
    }
  }
  if (g_num_ops == BYOC_PROFILE_MAX_OPS) {
    ++g_dropped;
    return 0;
  }
  struct op_record* rec = &g_ops[g_num_ops++];
  rec->index = op_index;
  rec->name = op_name;
  rec->instructions = 0u;
  rec->calls = 0u;
  return rec;
}

__attribute__((noipa)) void byoc_profile_enter(uint32_t op_index, const char* op_name) {
  g_active = g_calibrating ? &g_scratch : find_or_add(op_index, op_name);
  g_enter_raw = byoc_counter_raw(); /* last action: keeps the look-up unmeasured */
}

__attribute__((noipa)) void byoc_profile_exit(uint32_t op_index) {
  uint64_t raw = byoc_counter_raw() - g_enter_raw; /* first action */
  struct op_record* rec = g_active;
  g_active = 0;
  if (rec == 0 || (!g_calibrating && rec->index != op_index)) {
    return; /* table full, or exit without matching enter */
  }
  uint64_t n = byoc_counter_raw_to_instructions(raw);
  rec->instructions += n > g_pair_overhead ? n - g_pair_overhead : 0u;
  rec->calls += 1u;
}

void byoc_profile_calibrate(void) {
  uint64_t best = UINT64_MAX;
  g_calibrating = 1;
  g_pair_overhead = 0u;
  for (int i = 0; i < 4; ++i) {
    g_scratch.instructions = 0u;
    byoc_profile_enter(0u, "calibration");
    byoc_profile_exit(0u);
    if (g_scratch.instructions < best) {
      best = g_scratch.instructions;
    }
  }
  g_calibrating = 0;
  g_pair_overhead = best;
}

uint64_t byoc_profile_overhead(void) { return g_pair_overhead; }

void byoc_profile_reset(void) {
  g_num_ops = 0u;
  g_dropped = 0u;
  g_active = 0;
}

/* Prints an operator name with characters that would break key=value parsing replaced. */
static void print_name(const char* name) {
  if (name == 0 || *name == '\0') {
    byoc_print("?");
    return;
  }
  for (; *name != '\0'; ++name) {
    char c = *name;
    char s[2] = {(c == ' ' || c == '=' || c == '\t' || c == '\n' || c == '\r') ? '_' : c, '\0'};
    byoc_print(s);
  }
}

void byoc_profile_report(void) {
  for (uint32_t i = 0; i < g_num_ops; ++i) {
    byoc_print("BYOC_PROFILE op=");
    byoc_print_u64(g_ops[i].index);
    byoc_print(" name=");
    print_name(g_ops[i].name);
    byoc_print(" instructions=");
    byoc_print_u64(g_ops[i].instructions);
    byoc_print(" calls=");
    byoc_print_u64(g_ops[i].calls);
    byoc_print("\n");
  }
  if (g_dropped != 0u) {
    byoc_print("BYOC_PROFILE_DROPPED calls=");
    byoc_print_u64(g_dropped);
    byoc_print(" max_ops=");
    byoc_print_u64(BYOC_PROFILE_MAX_OPS);
    byoc_print("\n");
  }
}
