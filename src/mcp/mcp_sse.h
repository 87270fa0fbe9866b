/*
 * src/mcp/mcp_sse.h
 * Server-Sent Events framing for MCP streams: "event: <type>\ndata: <one-line JSON>\n\n".
 * No "id:" lines are written (this server does not offer Last-Event-ID resumption, so clients
 * must not treat its streams as resumable). Data containing CR or LF is refused: a JSON message
 * is always serialised compactly on one line, so a newline means a bug upstream.
 */
#ifndef GW_MCP_SSE_H
#define GW_MCP_SSE_H

#include "core/buf.h"

#include <stddef.h>

/* Appends one event to `out`. GW_OK, GW_EINVAL (event name or data contains CR/LF, or the event
 * name is empty) or GW_ELIMIT/GW_ENOMEM from the buffer. */
int gw_sse_event(struct gw_buf *out, const char *event, const char *data, size_t len);
/* Appends a comment line (keep-alive): ": <text>\n\n". */
int gw_sse_comment(struct gw_buf *out, const char *text);

#endif
