/*
 * src/core/err.c
 * The error record: formatting, mapping to protocol codes, code names.
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int gw_error_set_at(struct gw_error *err, enum gw_rc code, const char *file, int line,
                    const char *func, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->file = file;
    err->line = line;
    err->func = func;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void gw_error_map(struct gw_error *err, int http_status, int jsonrpc_code)
{
    if (!err)
        return;
    err->http_status = http_status;
    err->jsonrpc_code = jsonrpc_code;
}

void gw_error_clear(struct gw_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof(*err));
}

const char *gw_rc_name(int rc)
{
    switch (rc) {
    case GW_OK: return "OK";
    case GW_ERR: return "ERR";
    case GW_AGAIN: return "AGAIN";
    case GW_DECLINED: return "DECLINED";
    case GW_ENOMEM: return "ENOMEM";
    case GW_ELIMIT: return "ELIMIT";
    case GW_EINVAL: return "EINVAL";
    case GW_EDENIED: return "EDENIED";
    case GW_EUPSTREAM: return "EUPSTREAM";
    case GW_ENOTFOUND: return "ENOTFOUND";
    case GW_ETIMEOUT: return "ETIMEOUT";
    case GW_EIO: return "EIO";
    case GW_ECONFLICT: return "ECONFLICT";
    default: return "UNKNOWN";
    }
}

const char *gw_strerror(int errnum, char *buf, size_t size)
{
    /* the GNU strerror_r returns a pointer that may or may not be buf */
    const char *msg = strerror_r(errnum, buf, size);
    if (msg != buf)
        snprintf(buf, size, "%s", msg);
    return buf;
}
