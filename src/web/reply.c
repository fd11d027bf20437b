/*
 * reply.c - the review app's answers, each with the same security headers.
 *
 * The Content-Security-Policy lets the page load scripts, styles, pictures, media and
 * connections from its own origin only, never inline script, and never be framed; with
 * nosniff a JSON or media answer is never run as a script, and no-referrer keeps library paths
 * out of other sites' logs. Error answers are JSON objects {"error": "..."} naming the field or
 * the item, like the command line's messages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_int.h"

void web_secure_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; style-src 'self'; "
                            "img-src 'self' data:; media-src 'self'; connect-src 'self'; "
                            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

enum MHD_Result web_send(struct MHD_Connection *conn, unsigned status, const char *type,
                         const void *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok;

    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    web_secure_headers(r);
    ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result web_send_json(struct MHD_Connection *conn, unsigned status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    enum MHD_Result ok;

    json_decref(j);
    if (!text)
        return web_send(conn, 500, "application/json", "{\"error\":\"out of memory\"}", 25);
    ok = web_send(conn, status, "application/json", text, strlen(text));
    free(text);
    return ok;
}

enum MHD_Result web_send_error(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return web_send_json(conn, status, json_pack("{s:s}", "error", msg));
}

const char *web_base_name(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path ? path : "";
}
