/*
 * src/net/llhttp/llhttp_sse42.c
 * llhttp's generated parser (Debian's node-llhttp, /usr/share/llhttp/llhttp.c) compiled a second
 * time, for CPUs with SSE4.2: src/net/CMakeLists.txt builds this file with -msse4.2, which turns
 * on llhttp's own `#ifdef __SSE4_2__` blocks (header names and values scanned 16 bytes at a
 * step), and the generated llhttp_sse42_names.h prefixes every global name of the parser with
 * gw_sse42_ so that both copies link into one binary. llhttp_select.c calls this copy only when
 * the CPU has SSE4.2. Nothing here but the two includes: the parser is llhttp's, unchanged.
 */
#include "llhttp_sse42_names.h"

#include "llhttp.c"
