/* The case format of the Ethos-U case firmware (names this package's target for
 * byoc_add_firmware, which infers it from the one header in include/). */
#include "../../../../kernels_c/ethosu/test/fw_pkg/include/ethosu_fw_cases.h"
