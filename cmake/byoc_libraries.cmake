# byoc_libraries.cmake - where the libraries byoc's generated code links come from: byoc's own
# trees (the default) or Arm's, built through Arm's own CMake projects (add_subdirectory).
# The one place this choice is made: kernels_c/CMakeLists.txt and every generated package
# (which carries a copy as cmake/byoc_libraries.cmake) include this file.
#
#   byoc_cmsis_nn_library(BUNDLED <dir of byoc's cmsis_nn> [DEFAULT_PATH <Arm CMSIS-NN>])
#       -> target `cmsis-nn`
#   byoc_ethosu_driver_library(BUNDLED <dir of byoc's ethosu model> NPU_CONFIG ethos-u55-256
#                              [DRIVER <dir of byoc's register-level driver>]
#                              [DEFAULT_DRIVER npu|model]
#                              [DEFAULT_PATH <Arm driver>] [DEFAULT_CMSIS_PATH <CMSIS_6>])
#       -> target `ethosu_core_driver`
#
# Cache variables (the DEFAULT_* arguments only seed them; -D on the command line wins):
#   CMSIS_NN_PATH       Arm CMSIS-NN checkout (ARM-software/CMSIS-NN: v7.0.0 or newer). Its
#                       CMakeLists.txt defines target `cmsis-nn` (int8/int16 kernels; the
#                       float ones only with Arm's ARM_NN_ENABLE_F16/F32, off by default).
#   ETHOSU_DRIVER_PATH  Arm ethos-u-core-driver checkout; built with ETHOSU_TARGET_NPU_CONFIG
#                       = the package's NPU (ethos-u55-32..256), which Arm's CMake turns into
#                       the ETHOSU55 / ETHOSU_ARCH / ETHOSU_MACS defines.
#   CMSIS_PATH          CMSIS_6 (or CMSIS_5) checkout: CMSIS/Core/Include/cmsis_compiler.h,
#                       which Arm's driver includes. Required with ETHOSU_DRIVER_PATH.
#   BYOC_ETHOSU_DRIVER  without ETHOSU_DRIVER_PATH, which of byoc's trees: `npu` (DRIVER, the
#                       register-level driver for a real or emulated NPU) or `model` (BUNDLED,
#                       the functional model computing the NPU's work on the CPU); default
#                       DEFAULT_DRIVER, else `model`.
# A target `cmsis-nn` / `ethosu_core_driver` that already exists (a vendor SDK's) is used as
# it is. Both names are Arm's own, so byoc's trees and Arm's never define the same target in
# one build: whichever comes first is the one.
include_guard(GLOBAL)

function(_byoc_require_file what path file hint)
  if(NOT EXISTS "${path}/${file}")
    message(FATAL_ERROR "${what}=${path} has no ${file} (${hint})")
  endif()
endfunction()

function(byoc_cmsis_nn_library)
  cmake_parse_arguments(ARG "" "BUNDLED;DEFAULT_PATH" "" ${ARGN})
  set(CMSIS_NN_PATH "${ARG_DEFAULT_PATH}" CACHE PATH
      "Arm CMSIS-NN source tree to link instead of byoc's kernels (empty: byoc's)")
  if(TARGET cmsis-nn)
    return()
  endif()
  if(CMSIS_NN_PATH)
    get_filename_component(_path "${CMSIS_NN_PATH}" ABSOLUTE)
    _byoc_require_file(CMSIS_NN_PATH "${_path}" "Include/arm_nnfunctions.h"
                       "not a CMSIS-NN checkout")
    _byoc_require_file(CMSIS_NN_PATH "${_path}" "CMakeLists.txt" "not a CMSIS-NN checkout")
    add_subdirectory("${_path}" "${CMAKE_BINARY_DIR}/byoc_arm_cmsis_nn" EXCLUDE_FROM_ALL)
    if(NOT TARGET cmsis-nn)
      message(FATAL_ERROR "CMSIS_NN_PATH=${_path}: its CMakeLists.txt defines no target cmsis-nn")
    endif()
    message(STATUS "cmsis-nn: Arm CMSIS-NN from ${_path}")
  else()
    add_subdirectory("${ARG_BUNDLED}" "${CMAKE_BINARY_DIR}/byoc_cmsis_nn")
    message(STATUS "cmsis-nn: byoc's kernels from ${ARG_BUNDLED}")
  endif()
endfunction()

function(byoc_ethosu_driver_library)
  cmake_parse_arguments(ARG "" "BUNDLED;NPU_CONFIG;DRIVER;DEFAULT_DRIVER;DEFAULT_PATH;DEFAULT_CMSIS_PATH" "" ${ARGN})
  if(NOT ARG_DEFAULT_DRIVER)
    set(ARG_DEFAULT_DRIVER model)
  endif()
  set(BYOC_ETHOSU_DRIVER "${ARG_DEFAULT_DRIVER}" CACHE STRING
      "byoc's Ethos-U driver: npu (register-level) or model (functional model on the CPU)")
  set(ETHOSU_DRIVER_PATH "${ARG_DEFAULT_PATH}" CACHE PATH
      "Arm ethos-u-core-driver source tree to link instead of byoc's Ethos-U55 model")
  set(CMSIS_PATH "${ARG_DEFAULT_CMSIS_PATH}" CACHE PATH
      "CMSIS_6 or CMSIS_5 source tree (CMSIS/Core/Include) for Arm's Ethos-U driver")
  get_property(_config GLOBAL PROPERTY BYOC_ETHOSU_NPU_CONFIG)
  if(TARGET ethosu_core_driver)
    if(_config AND ARG_NPU_CONFIG AND NOT _config STREQUAL ARG_NPU_CONFIG)
      message(FATAL_ERROR "ethosu_core_driver is already built for ${_config}; this package's "
                          "command streams are for ${ARG_NPU_CONFIG}")
    endif()
    return()
  endif()
  if(ETHOSU_DRIVER_PATH)
    get_filename_component(_path "${ETHOSU_DRIVER_PATH}" ABSOLUTE)
    _byoc_require_file(ETHOSU_DRIVER_PATH "${_path}" "include/ethosu_driver.h"
                       "not an ethos-u-core-driver checkout")
    _byoc_require_file(ETHOSU_DRIVER_PATH "${_path}" "CMakeLists.txt"
                       "not an ethos-u-core-driver checkout")
    if(NOT CMSIS_PATH)
      message(FATAL_ERROR "ETHOSU_DRIVER_PATH needs CMSIS_PATH: a CMSIS_6 or CMSIS_5 checkout "
                          "(Arm's driver includes CMSIS/Core/Include/cmsis_compiler.h)")
    endif()
    get_filename_component(_cmsis "${CMSIS_PATH}" ABSOLUTE)
    _byoc_require_file(CMSIS_PATH "${_cmsis}" "CMSIS/Core/Include/cmsis_compiler.h"
                       "not a CMSIS_6/CMSIS_5 checkout")
    if(NOT ARG_NPU_CONFIG MATCHES "^ethos-u55-(32|64|128|256)$")
      message(FATAL_ERROR "NPU_CONFIG='${ARG_NPU_CONFIG}' is not ethos-u55-32/64/128/256")
    endif()
    # The driver's own cache variables; the NPU must be the one Vela compiled for.
    set(ETHOSU_TARGET_NPU_CONFIG "${ARG_NPU_CONFIG}" CACHE STRING "Ethos-U NPU configuration" FORCE)
    set(CMSIS_PATH "${_cmsis}" CACHE PATH "CMSIS_6 or CMSIS_5 source tree" FORCE)
    add_subdirectory("${_path}" "${CMAKE_BINARY_DIR}/byoc_arm_ethosu_driver" EXCLUDE_FROM_ALL)
    if(NOT TARGET ethosu_core_driver)
      message(FATAL_ERROR "ETHOSU_DRIVER_PATH=${_path}: its CMakeLists.txt defines no target ethosu_core_driver")
    endif()
    # Arm's project adds -Werror; byoc builds it with the warnings of its own code as well.
    target_compile_options(ethosu_core_driver PRIVATE -Wall -Wextra)
    message(STATUS "ethosu_core_driver: Arm's driver from ${_path} (${ARG_NPU_CONFIG}, CMSIS ${_cmsis})")
  elseif(BYOC_ETHOSU_DRIVER STREQUAL "npu")
    if(NOT ARG_DRIVER)
      message(FATAL_ERROR "BYOC_ETHOSU_DRIVER=npu: no register-level driver tree given (DRIVER)")
    endif()
    add_subdirectory("${ARG_DRIVER}" "${CMAKE_BINARY_DIR}/byoc_ethosu_driver")
    message(STATUS "ethosu_core_driver: byoc's register-level Ethos-U55 driver from ${ARG_DRIVER}")
  elseif(BYOC_ETHOSU_DRIVER STREQUAL "model")
    add_subdirectory("${ARG_BUNDLED}" "${CMAKE_BINARY_DIR}/byoc_ethosu_model")
    message(STATUS "ethosu_core_driver: byoc's functional Ethos-U55 model from ${ARG_BUNDLED}")
  else()
    message(FATAL_ERROR "BYOC_ETHOSU_DRIVER=${BYOC_ETHOSU_DRIVER}: use npu or model")
  endif()
  set_property(GLOBAL PROPERTY BYOC_ETHOSU_NPU_CONFIG "${ARG_NPU_CONFIG}")
endfunction()
