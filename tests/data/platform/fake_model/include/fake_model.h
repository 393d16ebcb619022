/*
 * fake_model.h - hand-written stand-in for a compiled model package (platform tests only).
 * The "model" adds 1 (saturating) to each of FAKE_MODEL_INPUT_SIZE int8 values in two
 * operators: add_const (input + constant -> workspace) and copy_out (workspace -> output).
 */
#ifndef FAKE_MODEL_H
#define FAKE_MODEL_H

#include <stdint.h>

#define FAKE_MODEL_INPUT_SIZE 16
#define FAKE_MODEL_OUTPUT_SIZE 16
#define FAKE_MODEL_WORKSPACE_SIZE 64 /* bytes; caller provides, 16-byte aligned */

struct fake_model_inputs {
  const int8_t* input;
};

struct fake_model_outputs {
  int8_t* output;
};

int32_t fake_model_run(const struct fake_model_inputs* inputs, struct fake_model_outputs* outputs,
                       void* workspace);

#endif /* FAKE_MODEL_H */
