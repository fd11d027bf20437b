/*
 * aitag/common.h - error codes, logging and small shared types for every aitag library.
 *
 * Usage:
 *     aitag_log_set_sink(my_sink, my_ctx);      // once, by the program; default: stderr
 *     aitag_log(AITAG_LOG_INFO, "media", "event=open path=%s", path);
 *
 * Every fallible function in aitag returns int: 0 on success, a negative enum aitag_err on
 * failure. Messages live on the handle that failed (aitag_<object>_errmsg()).
 */
#ifndef AITAG_COMMON_H
#define AITAG_COMMON_H

#include <stdarg.h>
#include <stddef.h>

#define AITAG_VERSION "0.1.0"

enum aitag_err {
    AITAG_OK = 0,
    AITAG_ERR_NOMEM = -1,    /* allocation failed */
    AITAG_ERR_INVALID = -2,  /* bad argument or bad input data */
    AITAG_ERR_IO = -3,       /* file missing, unreadable, permission denied */
    AITAG_ERR_MEDIA = -4,    /* not decodable media, corrupt or unsupported stream */
    AITAG_ERR_MODEL = -5,    /* model missing, checksum mismatch, inference failure */
    AITAG_ERR_DB = -6,       /* catalog (SQLite) failure */
    AITAG_ERR_NOTFOUND = -7, /* asked-for item does not exist */
    AITAG_ERR_CANCELED = -8, /* stopped on request */
    AITAG_ERR_NET = -9,      /* network failure */
};

/* Returns a static, human-readable name for an error code. Never NULL. */
const char *aitag_strerror(int err);

enum aitag_log_level {
    AITAG_LOG_ERROR = 0,
    AITAG_LOG_WARN = 1,
    AITAG_LOG_INFO = 2,
    AITAG_LOG_DEBUG = 3,
};

/* A log sink receives one event per call; msg has no trailing newline. */
typedef void (*aitag_log_fn)(void *ctx, enum aitag_log_level level, const char *subsystem,
                             const char *msg);

/* Sets the process-wide sink and the most verbose level passed to it. Call before starting
 * threads. fn == NULL restores the default sink (stderr, level WARN). */
void aitag_log_set_sink(aitag_log_fn fn, void *ctx, enum aitag_log_level max_level);

/* Formats one event and hands it to the sink. Thread-safe. */
void aitag_log(enum aitag_log_level level, const char *subsystem, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills buf (size > 0) with a formatted message, truncating safely; returns buf. */
char *aitag_fmt(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Lower-case hex sha256 of a file into hex[65]. Returns 0, AITAG_ERR_IO. */
int aitag_sha256_file(const char *path, char hex[65]);

/* Lower-case hex sha256 of a buffer into hex[65]. */
void aitag_sha256_buf(const void *data, size_t len, char hex[65]);

/* Monotonic clock in seconds. */
double aitag_now(void);
/* The process's CPU time in seconds, all threads. */
double aitag_cpu_now(void);

/* Appends n bytes of p to the growable buffer (*data, *len, *cap), keeping it NUL-terminated.
 * max > 0 caps *len: appending past it fails with AITAG_ERR_INVALID and leaves the buffer as it
 * was; AITAG_ERR_NOMEM when memory runs out. The caller frees *data. Returns 0 on success. */
int aitag_buf_append(char **data, size_t *len, size_t *cap, const void *p, size_t n, size_t max);

/* An HTTP answer's body collected by libcurl: max bytes at most (0: no limit). */
struct aitag_http_body {
    char *data;
    size_t len, cap, max;
};
/* A CURLOPT_WRITEFUNCTION for a struct aitag_http_body (CURLOPT_WRITEDATA): appends the bytes,
 * and refuses them past max or without memory (libcurl then reports a write error). */
size_t aitag_http_body_write(char *p, size_t size, size_t nmemb, void *body);

/* Strips leading and trailing white space in place; returns the first non-blank character. */
char *aitag_trim(char *s);

/* The catalog every sink uses unless told otherwise: $XDG_DATA_HOME/aitag/catalog.db, else
 * $HOME/.local/share/aitag/catalog.db. Written into buf (truncated safely); returns buf. */
const char *aitag_default_catalog_path(char *buf, size_t len);
/* The rules file every sink applies unless told otherwise: $XDG_CONFIG_HOME/aitag/rules.json,
 * else $HOME/.config/aitag/rules.json. Returns buf when that file is readable, else NULL. */
const char *aitag_default_rules_path(char *buf, size_t len);
/* $XDG_CONFIG_HOME/aitag/context.json (context rules, docs/context.md) into buf when it is
 * readable, else NULL. */
const char *aitag_default_context_path(char *buf, size_t len);
/* Creates the missing folders above path (not path itself). Returns 0, AITAG_ERR_IO or
 * AITAG_ERR_NOMEM. */
int aitag_mkdir_parents(const char *path);
/* Makes path absolute (against the working folder) and normal: "." and ".." folded, no
 * duplicate or trailing slash; "/" for the root. Symlinks are not resolved: this reads no
 * file. 0, or -1 when it does not fit in len (or the working folder is unknown). */
int aitag_path_absolute(const char *path, char *out, size_t len);

/* Splits "faces, text" in place at commas into at most max pieces, each trimmed as by
 * aitag_trim; empty pieces are dropped. Returns how many went into out (borrowed from s). */
size_t aitag_split_csv(char *s, const char **out, size_t max);

/* For "did you mean" hints: the candidate nearest to word by edit distance (case-insensitive),
 * or NULL when even the nearest needs more than a third of word's length in edits (at least 2).
 * Returns a pointer borrowed from candidates; thread-safe. */
const char *aitag_nearest(const char *word, const char *const *candidates, size_t n);

/* 1 when url's host is a loopback literal (127.0.0.0/8, ::1) or "localhost", else 0. */
int aitag_url_is_loopback(const char *url);

/* Sets libcurl up for the process (curl_global_init, once, thread-safe); call before creating
 * any curl handle. Returns 0, or AITAG_ERR_NET when libcurl could not be set up (every call
 * then says so). Defined in util, but only programs that link libcurl may call it. */
int aitag_curl_global_init(void);

/* Reads an HTTP Retry-After value (len bytes, not NUL-terminated; surrounding blanks and a line
 * end allowed): delta-seconds or an HTTP date, counted from now (Unix seconds). Returns the
 * wait in milliseconds, at most max_ms (a date in the past: 0), or -1 when the value is
 * neither. Pure and thread-safe; defined in util, but only programs that link libcurl may call
 * it (dates are read by curl_getdate). */
long aitag_retry_after_ms(const char *v, size_t len, long long now, long max_ms);

/* Room aitag_base64_decode needs for the decoded bytes of an n-character input. */
#define AITAG_BASE64_DECODED_MAX(n) ((n) / 4 * 3 + 3)

/* Decodes the base64 text s (RFC 4648, standard or URL-safe alphabet; white space skipped;
 * "=" padding optional, but only at the end) into out, which has room for
 * AITAG_BASE64_DECODED_MAX(strlen(s)) bytes; *out_len gets their number. Returns 0, or
 * AITAG_ERR_INVALID for a character outside the alphabets, data after padding or a lone final
 * character (then *out_len is untouched and out holds garbage). */
int aitag_base64_decode(const char *s, unsigned char *out, size_t *out_len);

/* Room aitag_base64_encode needs for n bytes (the text and its terminating NUL). */
size_t aitag_base64_encoded_size(size_t n);
/* Encodes n bytes as standard base64 with "=" padding (RFC 4648) into out, NUL-terminated. */
void aitag_base64_encode(const unsigned char *in, size_t n, char *out);

/* How a shot begins. */
enum aitag_shot_edge {
    AITAG_SHOT_START = 0,    /* the media's first shot */
    AITAG_SHOT_CUT = 1,      /* a hard cut: the picture changes from one frame to the next */
    AITAG_SHOT_FADE = 2,     /* a fade from (or through) black or white */
    AITAG_SHOT_DISSOLVE = 3, /* a cross-fade from the previous shot */
};

/* One shot: a stretch of video between two boundaries. Shots tile [0, duration): each starts
 * where the one before ends. For a gradual transition start is its middle. */
struct aitag_shot {
    double start, end; /* seconds */
    int edge;          /* enum aitag_shot_edge: how this shot begins */
    float confidence;  /* of the boundary at start, 0..1 (1 for the first shot) */
};

/* "start", "cut", "fade", "dissolve" (or "?" for an unknown value). */
const char *aitag_shot_edge_name(int edge);

/* Path mappings (src/util/path_map.c): maps path through "from_prefix=>to_prefix;..." (the
 * longest from_prefix that ends at a path separator wins) into out. Returns 1 when a mapping
 * applied, 0 when the path was copied unchanged, AITAG_ERR_INVALID when out is too small. */
int aitag_map_path(const char *mappings, const char *path, char *out, size_t outlen);
/* The mappings the other way round: "a=>b;c=>d" -> "b=>a;d=>c" (malloc'd; NULL: no memory). */
char *aitag_map_reverse(const char *mappings);

#endif
