/*
 * fake_model.c - the fake model's run function, shaped like generated code: constants in
 * BYOC_CONST_SECTION, scratch in the caller's workspace, profile hooks under BYOC_PROFILE.
 */
#include "fake_model.h"

#ifndef BYOC_CONST_SECTION
#define BYOC_CONST_SECTION ".rodata.byoc_constants"
#endif

#ifdef BYOC_PROFILE
void byoc_profile_enter(uint32_t op_index, const char* op_name);
void byoc_profile_exit(uint32_t op_index);
#define PROFILE_ENTER(i, name) byoc_profile_enter((i), (name))
#define PROFILE_EXIT(i) byoc_profile_exit(i)
#else
#define PROFILE_ENTER(i, name) ((void)0)
#define PROFILE_EXIT(i) ((void)0)
#endif

static const int8_t k_ones[FAKE_MODEL_INPUT_SIZE]
    __attribute__((section(BYOC_CONST_SECTION), aligned(16))) = {1, 1, 1, 1, 1, 1, 1, 1,
                                                                  1, 1, 1, 1, 1, 1, 1, 1};

/* noipa: keep k_ones a real table in its section, as large generated tables are. */
__attribute__((noipa)) static void add_const(const int8_t* in, const int8_t* k, int8_t* out, int n) {
  for (int i = 0; i < n; ++i) {
    int32_t v = (int32_t)in[i] + (int32_t)k[i];
    out[i] = (int8_t)(v > 127 ? 127 : v);
  }
}

static void copy_out(const int8_t* in, int8_t* out, int n) {
  for (int i = 0; i < n; ++i) {
    out[i] = in[i];
  }
}

int32_t fake_model_run(const struct fake_model_inputs* inputs, struct fake_model_outputs* outputs,
                       void* workspace) {
  int8_t* scratch = (int8_t*)workspace;
  PROFILE_ENTER(0, "add_const");
  add_const(inputs->input, k_ones, scratch, FAKE_MODEL_INPUT_SIZE);
  PROFILE_EXIT(0);
  PROFILE_ENTER(1, "copy_out");
  copy_out(scratch, outputs->output, FAKE_MODEL_OUTPUT_SIZE);
  PROFILE_EXIT(1);
  return 0;
}
