/*
 * src/mcp/mcp_sse.c
 * SSE event and comment framing.
 */
#include "mcp/mcp_sse.h"

#include "core/err.h"

#include <string.h>

static int has_newline(const char *p, size_t n)
{
    return memchr(p, '\n', n) != NULL || memchr(p, '\r', n) != NULL;
}

int gw_sse_event(struct gw_buf *out, const char *event, const char *data, size_t len)
{
    if (!event || !*event || has_newline(event, strlen(event)) || has_newline(data, len))
        return GW_EINVAL;
    size_t before = gw_buf_len(out);
    int rc = gw_buf_adds(out, "event: ");
    if (rc == GW_OK)
        rc = gw_buf_adds(out, event);
    if (rc == GW_OK)
        rc = gw_buf_adds(out, "\ndata: ");
    if (rc == GW_OK)
        rc = gw_buf_add(out, data, len);
    if (rc == GW_OK)
        rc = gw_buf_adds(out, "\n\n");
    if (rc != GW_OK)
        gw_buf_truncate(out, before); /* all or nothing: never a torn frame */
    return rc;
}

int gw_sse_comment(struct gw_buf *out, const char *text)
{
    if (has_newline(text, strlen(text)))
        return GW_EINVAL;
    size_t before = gw_buf_len(out);
    int rc = gw_buf_adds(out, ": ");
    if (rc == GW_OK)
        rc = gw_buf_adds(out, text);
    if (rc == GW_OK)
        rc = gw_buf_adds(out, "\n\n");
    if (rc != GW_OK)
        gw_buf_truncate(out, before);
    return rc;
}
