# corstone300.cmake - byoc_add_firmware(): build a Corstone-300 firmware ELF from the
# platform layer (fvp/src), a harness and a generated model package.
#
#   include(<repo>/fvp/corstone300.cmake)
#   byoc_add_firmware(TARGET app
#                     SOURCES main.c                 # harness sources
#                     MODEL_DIR /path/to/pkg         # has CMakeLists.txt defining target <prefix>
#                     [MODEL_TARGET <prefix>]        # default: stem of the only pkg/include/*.h
#                     [PROFILE]                      # -DBYOC_PROFILE for model and harness
#                     [WERROR]                       # -Wall -Wextra -Werror for the model and
#                                                    # the Ethos-U driver (harness/platform: always)
#                     [DEFINES NAME=VALUE ...]       # for the harness and platform
#                     [CONSTANTS_REGION ITCM|SRAM|DTCM|SRAM2|DDR]
#                     [ARENA_REGION ITCM|SRAM|DTCM|SRAM2|DDR])
# produces app.elf, app.map and app.ld in the current binary directory.
# Must be used with cmake/arm-none-eabi.cmake as the toolchain file.

include_guard(GLOBAL)

set(BYOC_FVP_DIR "${CMAKE_CURRENT_LIST_DIR}" CACHE INTERNAL "fvp/ directory")
set(_byoc_regions ITCM SRAM DTCM SRAM2 DDR)

# Memory map (QEMU mps3-an547 defaults). Sizes and bases are hexadecimal or decimal bytes.
set(BYOC_ITCM_BASE "0x00000000" CACHE STRING "ITCM base address (code, vectors)")
set(BYOC_ITCM_SIZE "0x00080000" CACHE STRING "ITCM size in bytes (512 KiB)")
set(BYOC_SRAM_BASE "0x01000000" CACHE STRING "SRAM base address")
set(BYOC_SRAM_SIZE "0x00200000" CACHE STRING "SRAM size in bytes (2 MiB)")
set(BYOC_DTCM_BASE "0x20000000" CACHE STRING "DTCM base address (stack, .data, .bss, heap)")
set(BYOC_DTCM_SIZE "0x00080000" CACHE STRING "DTCM size in bytes (512 KiB)")
set(BYOC_SRAM2_BASE "0x21000000" CACHE STRING "SRAM2 (ISRAM) base address")
set(BYOC_SRAM2_SIZE "0x00400000" CACHE STRING "SRAM2 size in bytes (4 MiB)")
set(BYOC_DDR_BASE "0x60000000" CACHE STRING "DDR base address")
set(BYOC_DDR_SIZE "0x10000000" CACHE STRING "DDR size in bytes used by the link (256 MiB)")

set(BYOC_CONSTANTS_REGION "ITCM" CACHE STRING "Region for model constants (.rodata.byoc_constants*)")
set_property(CACHE BYOC_CONSTANTS_REGION PROPERTY STRINGS ${_byoc_regions})
set(BYOC_ARENA_REGION "SRAM2" CACHE STRING "Region for the model arena (.bss.byoc_arena*)")
set_property(CACHE BYOC_ARENA_REGION PROPERTY STRINGS ${_byoc_regions})
set(BYOC_STACK_SIZE "0x10000" CACHE STRING "Main stack size in bytes (DTCM)")
set(BYOC_HEAP_SIZE "0x8000" CACHE STRING "Heap size in bytes for malloc/printf (DTCM)")
set(BYOC_ICOUNT_SHIFT "7" CACHE STRING "QEMU -icount shift the firmware converts counter ticks with (>= 6)")

function(_byoc_check_region what value)
  if(NOT value IN_LIST _byoc_regions)
    message(FATAL_ERROR "byoc_add_firmware: ${what}='${value}' is not a region; use one of ${_byoc_regions}")
  endif()
endfunction()

function(byoc_add_firmware)
  cmake_parse_arguments(ARG "PROFILE;WERROR" "TARGET;MODEL_DIR;MODEL_TARGET;CONSTANTS_REGION;ARENA_REGION"
                        "SOURCES;DEFINES" ${ARGN})
  if(NOT ARG_TARGET OR NOT ARG_SOURCES)
    message(FATAL_ERROR "byoc_add_firmware: TARGET and SOURCES are required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "byoc_add_firmware: unexpected arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT BYOC_ICOUNT_SHIFT MATCHES "^[0-9]+$" OR BYOC_ICOUNT_SHIFT LESS 6 OR BYOC_ICOUNT_SHIFT GREATER 10)
    message(FATAL_ERROR "BYOC_ICOUNT_SHIFT='${BYOC_ICOUNT_SHIFT}' must be an integer in 6..10")
  endif()

  # Per-firmware region choice; the configure_file below reads these @VARIABLES@.
  set(BYOC_CONSTANTS_REGION "${BYOC_CONSTANTS_REGION}")
  set(BYOC_ARENA_REGION "${BYOC_ARENA_REGION}")
  if(ARG_CONSTANTS_REGION)
    set(BYOC_CONSTANTS_REGION "${ARG_CONSTANTS_REGION}")
  endif()
  if(ARG_ARENA_REGION)
    set(BYOC_ARENA_REGION "${ARG_ARENA_REGION}")
  endif()
  _byoc_check_region(BYOC_CONSTANTS_REGION "${BYOC_CONSTANTS_REGION}")
  _byoc_check_region(BYOC_ARENA_REGION "${BYOC_ARENA_REGION}")

  # The model package: its CMakeLists.txt defines a static library named like its header.
  if(ARG_MODEL_DIR)
    get_filename_component(_model_dir "${ARG_MODEL_DIR}" ABSOLUTE)
    if(NOT EXISTS "${_model_dir}/CMakeLists.txt")
      message(FATAL_ERROR "byoc_add_firmware: ${_model_dir} has no CMakeLists.txt (not a model package)")
    endif()
    set(_model_target "${ARG_MODEL_TARGET}")
    if(NOT _model_target)
      file(GLOB _headers "${_model_dir}/include/*.h")
      list(LENGTH _headers _n)
      if(NOT _n EQUAL 1)
        message(FATAL_ERROR "byoc_add_firmware: cannot infer MODEL_TARGET from ${_n} headers in ${_model_dir}/include; pass MODEL_TARGET")
      endif()
      get_filename_component(_model_target "${_headers}" NAME_WE)
    endif()
    if(NOT TARGET ${_model_target})
      add_subdirectory("${_model_dir}" "${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}_model")
    endif()
    if(NOT TARGET ${_model_target})
      message(FATAL_ERROR "byoc_add_firmware: ${_model_dir}/CMakeLists.txt does not define target '${_model_target}'")
    endif()
    if(ARG_PROFILE)
      target_compile_definitions(${_model_target} PRIVATE BYOC_PROFILE)
    endif()
    if(ARG_WERROR)
      target_compile_options(${_model_target} PRIVATE -Wall -Wextra -Werror)
      if(TARGET ethosu_core_driver)
        target_compile_options(ethosu_core_driver PRIVATE -Wall -Wextra -Werror)
      endif()
    endif()
  endif()

  # Platform objects (an OBJECT library, so the vector table is always linked in).
  file(GLOB _platform_sources "${BYOC_FVP_DIR}/src/*.c")
  set(_platform ${ARG_TARGET}_platform)
  add_library(${_platform} OBJECT ${_platform_sources})
  target_include_directories(${_platform} PUBLIC "${BYOC_FVP_DIR}/include"
                                          PRIVATE "${BYOC_FVP_DIR}/src")
  target_compile_definitions(${_platform} PRIVATE
    BYOC_ICOUNT_SHIFT=${BYOC_ICOUNT_SHIFT} "BYOC_CPU_NAME=\"${BYOC_CPU}\"" ${ARG_DEFINES})
  target_compile_options(${_platform} PRIVATE -Wall -Wextra -Werror)

  set(_ld "${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}.ld")
  configure_file("${BYOC_FVP_DIR}/corstone300.ld.in" "${_ld}" @ONLY)

  add_executable(${ARG_TARGET} ${ARG_SOURCES} $<TARGET_OBJECTS:${_platform}>)
  set_target_properties(${ARG_TARGET} PROPERTIES SUFFIX ".elf" LINK_DEPENDS "${_ld}")
  target_include_directories(${ARG_TARGET} PRIVATE "${BYOC_FVP_DIR}/include")
  target_compile_options(${ARG_TARGET} PRIVATE -Wall -Wextra -Werror)
  target_compile_definitions(${ARG_TARGET} PRIVATE BYOC_ICOUNT_SHIFT=${BYOC_ICOUNT_SHIFT} ${ARG_DEFINES})
  if(ARG_PROFILE)
    target_compile_definitions(${ARG_TARGET} PRIVATE BYOC_PROFILE)
  endif()
  if(ARG_MODEL_DIR)
    target_link_libraries(${ARG_TARGET} PRIVATE ${_model_target})
  endif()
  target_link_options(${ARG_TARGET} PRIVATE
    "-T${_ld}" -nostartfiles -Wl,--gc-sections
    # -Xlinker, not -Wl,: a comma in the build path would split -Wl's argument
    "SHELL:-Xlinker -Map=${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}.map" -Wl,--print-memory-usage)
  # libm for model code using math functions; harmless otherwise.
  target_link_libraries(${ARG_TARGET} PRIVATE m)
endfunction()
