# arm-none-eabi.cmake - CMake toolchain file for bare-metal Arm Cortex-M with arm-none-eabi-gcc.
#
#   cmake -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DBYOC_CPU=cortex-m55 ...
#
# BYOC_CPU selects -mcpu / FPU / float ABI. The flags land in CMAKE_<LANG>_FLAGS on the first
# configure only (CMake caches them): use a fresh build directory to change BYOC_CPU.
# The C library is newlib-nano (--specs=nano.specs); the platform layer supplies the system
# calls and startup (linked with -nostartfiles by byoc_add_firmware).

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(_byoc_cpus cortex-m0plus cortex-m3 cortex-m4 cortex-m7 cortex-m33 cortex-m55 cortex-m85)
set(BYOC_CPU "cortex-m55" CACHE STRING "Target core: one of ${_byoc_cpus}")
set_property(CACHE BYOC_CPU PROPERTY STRINGS ${_byoc_cpus})
if(NOT BYOC_CPU IN_LIST _byoc_cpus)
  message(FATAL_ERROR "BYOC_CPU='${BYOC_CPU}' is not supported; choose one of: ${_byoc_cpus}")
endif()
# try_compile projects re-read this file: hand them the chosen core.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES BYOC_CPU BYOC_TOOLCHAIN_PREFIX)

# Locate the cross compiler (optionally under BYOC_TOOLCHAIN_PREFIX, e.g. /opt/gcc-arm/bin/).
set(BYOC_TOOLCHAIN_PREFIX "" CACHE PATH "Directory containing arm-none-eabi-gcc (empty: PATH)")
if(BYOC_TOOLCHAIN_PREFIX)
  set(_byoc_hints HINTS "${BYOC_TOOLCHAIN_PREFIX}" NO_DEFAULT_PATH)
endif()
find_program(BYOC_ARM_GCC arm-none-eabi-gcc ${_byoc_hints})
if(NOT BYOC_ARM_GCC)
  message(FATAL_ERROR "arm-none-eabi-gcc not found (run `make setup`, or set BYOC_TOOLCHAIN_PREFIX)")
endif()
get_filename_component(_byoc_bin "${BYOC_ARM_GCC}" DIRECTORY)
set(CMAKE_C_COMPILER "${_byoc_bin}/arm-none-eabi-gcc")
set(CMAKE_CXX_COMPILER "${_byoc_bin}/arm-none-eabi-g++")
set(CMAKE_ASM_COMPILER "${_byoc_bin}/arm-none-eabi-gcc")
set(CMAKE_OBJCOPY "${_byoc_bin}/arm-none-eabi-objcopy" CACHE FILEPATH "objcopy")
set(CMAKE_SIZE "${_byoc_bin}/arm-none-eabi-size" CACHE FILEPATH "size")

# Bare metal: the compiler checks must not try to link a hosted executable.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# Core -> architecture flags.
if(BYOC_CPU STREQUAL "cortex-m0plus" OR BYOC_CPU STREQUAL "cortex-m3")
  set(_byoc_arch "-mcpu=${BYOC_CPU} -mfloat-abi=soft")
elseif(BYOC_CPU STREQUAL "cortex-m4")
  set(_byoc_arch "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard")
elseif(BYOC_CPU STREQUAL "cortex-m7")
  set(_byoc_arch "-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard")
elseif(BYOC_CPU STREQUAL "cortex-m33")
  set(_byoc_arch "-mcpu=cortex-m33 -mfpu=fpv5-sp-d16 -mfloat-abi=hard")
elseif(BYOC_CPU STREQUAL "cortex-m55")
  set(_byoc_arch "-mcpu=cortex-m55 -mfloat-abi=hard")
elseif(BYOC_CPU STREQUAL "cortex-m85")
  # GCC < 13 has no -mcpu=cortex-m85: fall back to its architecture (Armv8.1-M with MVE
  # integer+float and double-precision FPU), tuned for the closest core GCC knows.
  execute_process(
    COMMAND "${CMAKE_C_COMPILER}" -mcpu=cortex-m85 -mthumb -E -x c -
    INPUT_FILE /dev/null OUTPUT_QUIET ERROR_QUIET RESULT_VARIABLE _byoc_m85_rc)
  if(_byoc_m85_rc EQUAL 0)
    set(_byoc_arch "-mcpu=cortex-m85 -mfloat-abi=hard")
  else()
    set(_byoc_arch "-march=armv8.1-m.main+mve.fp+fp.dp -mtune=cortex-m55 -mfloat-abi=hard")
  endif()
endif()

set(BYOC_ARCH_FLAGS "${_byoc_arch} -mthumb" CACHE INTERNAL "architecture flags for BYOC_CPU")

# -ffunction/data-sections + --gc-sections (set by byoc_add_firmware) drop unused code/data.
set(_byoc_common "${BYOC_ARCH_FLAGS} --specs=nano.specs -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${_byoc_common}")
set(CMAKE_CXX_FLAGS_INIT "${_byoc_common} -fno-exceptions -fno-rtti")
set(CMAKE_ASM_FLAGS_INIT "${BYOC_ARCH_FLAGS}")

# Never look for target libraries or headers on the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
