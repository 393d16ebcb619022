/* path.c - the kernel path compiled into this firmware ("mve", "dsp" or "c"). */
#include "arm_nnfunctions.h"

const char *cmsis_nn_cases_path(void);

const char *cmsis_nn_cases_path(void)
{
    return ARM_NN_PATH_NAME;
}
