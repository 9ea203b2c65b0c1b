# Compiler flags of a libFuzzer build (-DCERTAGENT_FUZZ=ON), included by the top-level
# CMakeLists.txt before the module libraries are defined, so that every module is built with
# coverage instrumentation and ASan+UBSan. Use a build directory of its own (build/fuzz).
#
# The compiler is clang 16 or later (Debian 12: clang-16, libclang-rt-16-dev). clang-14 cannot
# compile libstdc++ 12's <expected>: it lacks conditionally trivial special members (P0848,
# implemented in clang 16). Clang 16 implements them but still reports __cpp_concepts as
# 201907L, and libstdc++ 12 hides std::expected unless __cpp_concepts >= 202002L, so the macro
# is raised here to what the compiler actually supports.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR CMAKE_CXX_COMPILER_VERSION VERSION_LESS 16)
  message(FATAL_ERROR "CERTAGENT_FUZZ needs clang 16 or later (e.g. -DCMAKE_CXX_COMPILER=clang++-16); "
                      "found ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}")
endif()
if(CERTAGENT_SANITIZE)
  message(FATAL_ERROR "CERTAGENT_FUZZ already builds with address,undefined; leave CERTAGENT_SANITIZE empty")
endif()
if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
  add_compile_options(-U__cpp_concepts -D__cpp_concepts=202002L)
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                    -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
