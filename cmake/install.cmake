# Install layout of everything that is not a binary (the binaries' install()
# rules sit next to their targets): data, configuration, systemd units, the
# sleep hook, the journal catalog, the example hooks and the bash completions
# (the man pages: cmake/manpages.cmake). tests/cli/install_test checks
# that `cmake --install . --prefix /usr` with DESTDIR puts each file here with
# the right mode.

# systemd's directories: what the systemd.pc of the build machine says (on
# Debian 12 /lib/systemd/..., merged-/usr systems /usr/lib/systemd/...),
# overridable by the packager.
pkg_get_variable(_systemd_unitdir systemd systemdsystemunitdir)
pkg_get_variable(_systemd_sleepdir systemd systemdsleepdir)
pkg_get_variable(_systemd_catalogdir systemd catalogdir)
if(NOT _systemd_unitdir)
    set(_systemd_unitdir /usr/lib/systemd/system)
endif()
if(NOT _systemd_sleepdir)
    set(_systemd_sleepdir /usr/lib/systemd/system-sleep)
endif()
if(NOT _systemd_catalogdir)
    set(_systemd_catalogdir /usr/lib/systemd/catalog)
endif()
set(GUARDIAN_SYSTEMD_UNITDIR ${_systemd_unitdir} CACHE PATH "where the .service units go")
set(GUARDIAN_SYSTEMD_SLEEPDIR ${_systemd_sleepdir} CACHE PATH "where systemd-sleep hooks go")
set(GUARDIAN_SYSTEMD_CATALOGDIR ${_systemd_catalogdir} CACHE PATH "where journal catalogs go")
# guardiand reads /etc/guardian through SystemRoot whatever the prefix, so the
# configuration goes there (a conffile in the packages), not to ${prefix}/etc.
set(GUARDIAN_CONFDIR /etc/guardian CACHE PATH "guardiand's configuration directory")

# The built-in risk_table default (core/config.hpp, data/guardian.conf) and
# the unit files' /usr/sbin, /usr/bin paths assume prefix /usr.
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    message(STATUS "guardian: installing under ${CMAKE_INSTALL_PREFIX}; the units, the sleep "
                   "hook and the default risk_table expect /usr (use --prefix /usr for a system "
                   "install)")
endif()

set(_ro OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
set(_rx OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

install(FILES ${PROJECT_SOURCE_DIR}/data/kernel-risk.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/guardian PERMISSIONS ${_ro})
install(FILES ${PROJECT_SOURCE_DIR}/data/guardian.conf
        DESTINATION ${GUARDIAN_CONFDIR} PERMISSIONS ${_ro})
install(DIRECTORY DESTINATION ${GUARDIAN_CONFDIR}/conf.d DIRECTORY_PERMISSIONS ${_rx})
install(DIRECTORY DESTINATION ${GUARDIAN_CONFDIR}/hooks.d DIRECTORY_PERMISSIONS ${_rx})

install(FILES ${PROJECT_SOURCE_DIR}/systemd/guardiand.service
              ${PROJECT_SOURCE_DIR}/systemd/guardian-boot.service
              ${PROJECT_SOURCE_DIR}/systemd/guardian-hostd.service
        DESTINATION ${GUARDIAN_SYSTEMD_UNITDIR} PERMISSIONS ${_ro})
install(PROGRAMS ${PROJECT_SOURCE_DIR}/systemd/system-sleep/guardian
        DESTINATION ${GUARDIAN_SYSTEMD_SLEEPDIR} PERMISSIONS ${_rx})
install(FILES ${PROJECT_SOURCE_DIR}/systemd/guardian.catalog
        DESTINATION ${GUARDIAN_SYSTEMD_CATALOGDIR} PERMISSIONS ${_ro})

# Examples stay documentation: an operator copies one into hooks.d on purpose.
install(PROGRAMS ${PROJECT_SOURCE_DIR}/hooks/examples/10-log
                 ${PROJECT_SOURCE_DIR}/hooks/examples/50-mysql
                 ${PROJECT_SOURCE_DIR}/hooks/examples/50-postgresql
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/hooks PERMISSIONS ${_rx})
install(FILES ${PROJECT_SOURCE_DIR}/hooks/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/hooks PERMISSIONS ${_ro})

# bash completion: where bash-completion's own .pc says (it loads a command's
# completion from there on first use), else the standard place under the
# prefix, overridable by the packager like the systemd directories.
pkg_get_variable(_bash_completiondir bash-completion completionsdir)
if(NOT _bash_completiondir)
    set(_bash_completiondir ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
endif()
set(GUARDIAN_BASH_COMPLETIONDIR ${_bash_completiondir}
    CACHE PATH "where the bash completion files go")
install(FILES ${PROJECT_SOURCE_DIR}/completions/guardianctl
              ${PROJECT_SOURCE_DIR}/completions/guardian-host
        DESTINATION ${GUARDIAN_BASH_COMPLETIONDIR} PERMISSIONS ${_ro})

# guardian-host (dom0): the Prometheus rules over its fleet exposition and a
# Grafana dashboard, for the provider's own Prometheus and Grafana; and its
# own copy of the kernel risk table (preflight judges guests without
# guardian by it; the guest package's copy is not installed on dom0).
install(FILES ${PROJECT_SOURCE_DIR}/data/prometheus/guardian-fleet.rules.yml
              ${PROJECT_SOURCE_DIR}/data/grafana/guardian-fleet.json
              ${PROJECT_SOURCE_DIR}/data/kernel-risk.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/guardian-host)
