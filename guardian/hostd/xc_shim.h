/* The one file that includes xenctrl.h is C (xc_shim.c): the header needs
 * GNU extensions that the project's ISO C++20 mode refuses. This is the
 * little of libxenctrl guardian-hostd uses. */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct guardian_xc;

struct guardian_xc_domain {
    uint32_t domid;
    int dying;
    int shutdown;
    unsigned shutdown_reason;
};

/* NULL on failure, with errno set. */
struct guardian_xc* guardian_xc_open(void);
void guardian_xc_close(struct guardian_xc* xc);
/* Up to `max` domains from `first` on; the count, or -1 with errno set. */
int guardian_xc_domains(struct guardian_xc* xc, uint32_t first, struct guardian_xc_domain* out,
                        unsigned max);

#ifdef __cplusplus
}
#endif
