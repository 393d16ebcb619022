/* path.c - the kernel path compiled into this firmware ("mve", "dsp" or "c"). */
#include "arm_nnfunctions.h"

const char *cmsis_nn_cases_path(void);

/* byoc's arm_nn_math_types.h names its path; Arm's CMSIS-NN (-DCMSIS_NN_PATH) defines only
 * ARM_MATH_MVEI / ARM_MATH_DSP, from the same target flags. */
#ifndef ARM_NN_PATH_NAME
    #if defined(ARM_MATH_MVEI)
        #define ARM_NN_PATH_NAME "mve"
    #elif defined(ARM_MATH_DSP)
        #define ARM_NN_PATH_NAME "dsp"
    #else
        #define ARM_NN_PATH_NAME "c"
    #endif
#endif

const char *cmsis_nn_cases_path(void)
{
    return ARM_NN_PATH_NAME;
}
