# GUARDIAN_STATIC: the portable guest build. Included after the
# dependencies are found; defines
#   guardian_fmt                       fmt, header-only in the static build
#                                      (Debian ships no libfmt.a)
#   guardian_static_executable(TARGET) -static for one of the guest executables
#                                      (with guardian/util/static/fstat_shim.cpp)
# and, in the static build, points the pkg-config targets at their --static
# link flags (-lext2fs -lcom_err, -lblkid, ...): the
# targets name the shared objects by full path, which a -static link cannot
# use, while -l flags find the .a archives under -static and the .so files
# for everything else (tests, guardian-host), which stays dynamic.
add_library(guardian_fmt INTERFACE)
if(GUARDIAN_STATIC)
    if(GUARDIAN_SANITIZE OR GUARDIAN_TSAN)
        message(FATAL_ERROR "GUARDIAN_STATIC cannot be combined with the sanitizers")
    endif()
    target_link_libraries(guardian_fmt INTERFACE fmt::fmt-header-only)
    foreach(_pc EXT2FS BLKID XXHASH)
        if(TARGET PkgConfig::${_pc})
            set_property(TARGET PkgConfig::${_pc} PROPERTY INTERFACE_LINK_LIBRARIES ${${_pc}_STATIC_LIBRARIES})
            set_property(TARGET PkgConfig::${_pc} PROPERTY INTERFACE_LINK_DIRECTORIES ${${_pc}_STATIC_LIBRARY_DIRS})
        endif()
    endforeach()
else()
    target_link_libraries(guardian_fmt INTERFACE fmt::fmt)
endif()

function(guardian_static_executable target)
    if(GUARDIAN_STATIC)
        # g++/clang++ -static also takes libstdc++ and libgcc as archives.
        target_link_options(${target} PRIVATE -static)
        # fstat() without AT_EMPTY_PATH, for kernels before 2.6.39 (the file
        # says why); an object of its own so that it precedes libc.a.
        target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/guardian/util/static/fstat_shim.cpp)
    endif()
endfunction()
