# Man pages, written in scdoc (docs/man/*.scd) and rendered at build time, so
# the sources stay readable and the roff is never edited by hand. tests/docs
# checks that they render without warnings and that they name every option
# and configuration key.

# Every page guardian has, as <name>.<section>.
set(GUARDIAN_MAN_PAGES guardiand.8 guardianctl.1 guardian-host.1 guardian-hostd.8 guardian.conf.5)

if(GUARDIAN_MANPAGES)
    find_program(GUARDIAN_SCDOC scdoc)
    if(NOT GUARDIAN_SCDOC)
        message(FATAL_ERROR "guardian: scdoc not found; it renders the man pages "
                            "(apt-get install scdoc / dnf install scdoc), or configure with "
                            "-DGUARDIAN_MANPAGES=OFF to build without them")
    endif()
    set(_man_outputs)
    foreach(_page IN LISTS GUARDIAN_MAN_PAGES)
        string(REGEX MATCH "[0-9]$" _section ${_page})
        # @PROJECT_VERSION@ in the page footer; configure_file re-runs when the
        # source changes, and the custom command below follows its output.
        configure_file(${PROJECT_SOURCE_DIR}/docs/man/${_page}.scd
                       ${CMAKE_BINARY_DIR}/man/${_page}.scd @ONLY)
        # scdoc reads stdin only; the shell redirect keeps it one command.
        add_custom_command(
            OUTPUT ${CMAKE_BINARY_DIR}/man/${_page}
            COMMAND ${GUARDIAN_SCDOC} < ${CMAKE_BINARY_DIR}/man/${_page}.scd
                    > ${CMAKE_BINARY_DIR}/man/${_page}
            DEPENDS ${CMAKE_BINARY_DIR}/man/${_page}.scd
            COMMENT "scdoc ${_page}"
            VERBATIM)
        list(APPEND _man_outputs ${CMAKE_BINARY_DIR}/man/${_page})
        # Not compressed: dh_compress and rpm's brp-compress do that.
        install(FILES ${CMAKE_BINARY_DIR}/man/${_page}
                DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_section}
                PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    endforeach()
    add_custom_target(manpages ALL DEPENDS ${_man_outputs})
endif()
