/* See xc_shim.h. */
#include "guardian/hostd/xc_shim.h"

#include <errno.h>
#include <stdlib.h>
#include <xenctrl.h>

struct guardian_xc {
    xc_interface* xch;
};

struct guardian_xc* guardian_xc_open(void) {
    struct guardian_xc* xc = calloc(1, sizeof *xc);
    if (xc == NULL)
        return NULL;
    xc->xch = xc_interface_open(NULL, NULL, 0);
    if (xc->xch == NULL) {
        int err = errno;
        free(xc);
        errno = err;
        return NULL;
    }
    return xc;
}

void guardian_xc_close(struct guardian_xc* xc) {
    if (xc == NULL)
        return;
    xc_interface_close(xc->xch);
    free(xc);
}

int guardian_xc_domains(struct guardian_xc* xc, uint32_t first, struct guardian_xc_domain* out,
                        unsigned max) {
    xc_domaininfo_t info[256];
    if (max > 256)
        max = 256;
    int n = xc_domain_getinfolist(xc->xch, first, max, info);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; ++i) {
        out[i].domid = info[i].domain;
        out[i].dying = (info[i].flags & XEN_DOMINF_dying) != 0;
        out[i].shutdown = (info[i].flags & XEN_DOMINF_shutdown) != 0;
        out[i].shutdown_reason =
            (info[i].flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    }
    return n;
}
