/*
 * jobs.c - tagging jobs started from the review app, and their progress as Server-Sent Events.
 *
 * A job is the tagger as its own process: the command the server was given (params.tag_argv,
 * `aitag tag --catalog ... --progress json`), plus the analyzers and paths of the request. A
 * process of its own keeps the server small and responsive (no model is loaded here, a crash
 * of a decoder cannot take the app down) and makes "stop" a SIGTERM, which the tagger answers
 * by finishing the item in flight: the catalog stays complete, a re-run does the rest.
 *
 * One reader thread per job reads the child's two pipes: its stdout carries one JSON object
 * per finished item (counted), its stderr the progress lines ({"progress": {...}}) and the
 * tagger's own messages (the last one is kept as the job's message). Every change bumps the
 * job's version and wakes the event streams, which send the job's state as it is then (a
 * client that falls behind gets the latest state, not a backlog). The server runs a thread per
 * connection, so an event stream may block waiting; it sends a comment every 15 s to keep the
 * connection alive and ends after the job's last state.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aitag/common.h"
#include "web_int.h"

#define MAX_PATHS 64

static struct web_job *find_job(struct aitag_web *w, int id)
{
    for (size_t i = 0; i < w->n_jobs; i++)
        if (w->jobs[i]->id == id)
            return w->jobs[i];
    return NULL;
}

/* The job as the API shows it (caller holds the lock). */
static json_t *job_json(const struct web_job *j)
{
    json_t *o =
        json_pack("{s:i, s:s, s:O, s:s?, s:f, s:f, s:i, s:i, s:s, s:O}", "id", j->id, "state",
                  j->state, "paths", j->paths, "analyzers", j->analyzers, "started", j->started,
                  "finished", j->finished, "items", j->items, "failed", j->failed, "message",
                  j->message, "progress", j->progress ? j->progress : json_null());
    if (o && j->exit_code >= 0)
        json_object_set_new(o, "exit_code", json_integer(j->exit_code));
    return o;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void changed(struct aitag_web *w, struct web_job *j)
{
    j->version++;
    pthread_cond_broadcast(&w->job_changed);
}

/* One line of the child's output. */
static void on_line(struct aitag_web *w, struct web_job *j, int from_stderr, char *line)
{
    json_error_t jerr;
    json_t *o = line[0] == '{' ? json_loads(line, 0, &jerr) : NULL;

    pthread_mutex_lock(&w->lock);
    if (!from_stderr && o) {
        const char *status = json_string_value(json_object_get(o, "status"));
        j->items++;
        if (status && (strcmp(status, "failed") == 0 || strcmp(status, "error") == 0))
            j->failed++;
        changed(w, j);
    } else if (from_stderr && o && json_object_get(o, "progress")) {
        json_decref(j->progress);
        j->progress = json_incref(json_object_get(o, "progress"));
        changed(w, j);
    } else if (line[0]) {
        aitag_fmt(j->message, sizeof j->message, "%s", line);
        changed(w, j);
    }
    pthread_mutex_unlock(&w->lock);
    json_decref(o);
}

/* Splits what arrived in buf (len bytes) into lines; keeps a partial last line. */
static void drain(struct aitag_web *w, struct web_job *j, int from_stderr, char *buf, size_t *len)
{
    char *start = buf, *nl;

    while ((nl = memchr(start, '\n', *len - (size_t)(start - buf)))) {
        *nl = '\0';
        on_line(w, j, from_stderr, start);
        start = nl + 1;
    }
    *len -= (size_t)(start - buf);
    memmove(buf, start, *len);
    if (*len == WEB_JOB_LINE - 1) { /* a line longer than the buffer: cut */
        buf[*len] = '\0';
        on_line(w, j, from_stderr, buf);
        *len = 0;
    }
}

static void *reader(void *arg)
{
    struct web_job *j = arg;
    struct aitag_web *w = j->web;
    struct pollfd fds[2] = {{j->out_fd, POLLIN, 0}, {j->err_fd, POLLIN, 0}};
    char bufs[2][WEB_JOB_LINE];
    size_t lens[2] = {0, 0};
    int open_fds = 2, status = 0;

    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int k = 0; k < 2; k++) {
            ssize_t n;
            if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            n = read(fds[k].fd, bufs[k] + lens[k], WEB_JOB_LINE - 1 - lens[k]);
            if (n <= 0) {
                close(fds[k].fd);
                fds[k].fd = -1;
                open_fds--;
                continue;
            }
            lens[k] += (size_t)n;
            drain(w, j, k == 1, bufs[k], &lens[k]);
        }
    }
    while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&w->lock);
    j->finished = wall_now();
    if (WIFEXITED(status)) {
        j->exit_code = WEXITSTATUS(status);
        /* 0: every item done; 1: done, some items failed; 130: stopped by a signal it caught */
        snprintf(j->state, sizeof j->state, "%s",
                 j->stop_asked                            ? "stopped"
                 : j->exit_code == 0 || j->exit_code == 1 ? "done"
                                                          : "failed");
    } else {
        j->exit_code = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        snprintf(j->state, sizeof j->state, "%s", j->stop_asked ? "stopped" : "failed");
    }
    changed(w, j);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Checks a path a job may tag: it exists, and lies under a root when there are roots. */
static const char *path_problem(struct aitag_web *w, const char *path, char *real)
{
    int ok = w->n_roots == 0;
    size_t n;

    if (!path || path[0] != '/')
        return "not an absolute path";
    if (!realpath(path, real))
        return "not found";
    for (size_t i = 0; i < w->n_roots && !ok; i++) {
        n = strlen(w->roots[i]);
        ok = strncmp(real, w->roots[i], n) == 0 && (real[n] == '/' || real[n] == '\0');
    }
    return ok ? NULL : "outside the library roots";
}

static int spawn(struct aitag_web *w, struct web_job *j, char **argv, char *err, size_t errlen)
{
    int out[2] = {-1, -1}, errp[2] = {-1, -1};
    pid_t pid;

    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        aitag_fmt(err, errlen, "cannot start a job: %s", strerror(errno));
        goto fail;
    }
    pid = fork();
    if (pid < 0) {
        aitag_fmt(err, errlen, "cannot start a job: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, NULL); /* the server blocks its stop signals */
        signal(SIGPIPE, SIG_DFL);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(errp[1], 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(out[1]);
    close(errp[1]);
    j->pid = pid;
    j->out_fd = out[0];
    j->err_fd = errp[0];
    (void)w;
    return 0;
fail:
    for (int k = 0; k < 2; k++) {
        if (out[k] >= 0)
            close(out[k]);
        if (errp[k] >= 0)
            close(errp[k]);
    }
    return AITAG_ERR_IO;
}

int web_job_start(struct aitag_web *w, json_t *body, int *id, char *err, size_t errlen)
{
    json_t *paths = json_object_get(body, "paths"), *v;
    const char *analyzers = json_string_value(json_object_get(body, "analyzers"));
    char *argv[WEB_MAX_TAG_ARGS + MAX_PATHS + 4], reals[MAX_PATHS][PATH_MAX];
    struct web_job *j = NULL;
    size_t n = 0, i;
    int rc;

    if (!w->tag_argv) {
        aitag_fmt(err, errlen, "jobs: this server cannot start the tagger");
        return AITAG_ERR_INVALID;
    }
    if (!json_is_array(paths) || json_array_size(paths) == 0 ||
        json_array_size(paths) > MAX_PATHS) {
        aitag_fmt(err, errlen, "paths: 1 to %d absolute paths", MAX_PATHS);
        return AITAG_ERR_INVALID;
    }
    if (analyzers && (!*analyzers || strspn(analyzers, "abcdefghijklmnopqrstuvwxyz0123456789_,") !=
                                         strlen(analyzers))) {
        aitag_fmt(err, errlen, "analyzers: a comma-separated list of analyzer names");
        return AITAG_ERR_INVALID;
    }
    json_array_foreach(paths, i, v)
    {
        const char *why = path_problem(w, json_string_value(v), reals[i]);
        if (why) {
            aitag_fmt(err, errlen, "paths[%zu] '%.300s': %s", i,
                      json_string_value(v) ? json_string_value(v) : "(not a string)", why);
            return AITAG_ERR_INVALID;
        }
    }
    for (char **a = w->tag_argv; *a && n < WEB_MAX_TAG_ARGS; a++)
        argv[n++] = *a;
    if (analyzers) {
        argv[n++] = "--analyzers";
        argv[n++] = (char *)analyzers;
    }
    argv[n++] = "--";
    for (i = 0; i < json_array_size(paths); i++)
        argv[n++] = reals[i];
    argv[n] = NULL;
    if (!(j = calloc(1, sizeof *j)))
        return AITAG_ERR_NOMEM;
    j->web = w;
    j->exit_code = -1;
    j->out_fd = j->err_fd = -1;
    j->started = wall_now();
    j->paths = json_deep_copy(paths);
    j->analyzers = analyzers ? strdup(analyzers) : NULL;
    snprintf(j->state, sizeof j->state, "running");
    pthread_mutex_lock(&w->lock);
    if (w->n_jobs == WEB_MAX_JOBS) {
        pthread_mutex_unlock(&w->lock);
        aitag_fmt(err, errlen, "jobs: at most %d in this server's life", WEB_MAX_JOBS);
        rc = AITAG_ERR_INVALID;
        goto fail;
    }
    rc = spawn(w, j, argv, err, errlen);
    if (rc == 0 && pthread_create(&j->thread, NULL, reader, j) != 0) {
        kill(j->pid, SIGKILL);
        waitpid(j->pid, NULL, 0);
        close(j->out_fd);
        close(j->err_fd);
        aitag_fmt(err, errlen, "cannot start a job: no thread");
        rc = AITAG_ERR_NOMEM;
    }
    if (rc == 0) {
        j->id = ++w->last_job;
        w->jobs[w->n_jobs++] = j;
        *id = j->id;
    }
    pthread_mutex_unlock(&w->lock);
    if (rc == 0)
        return 0;
fail:
    json_decref(j->paths);
    free(j->analyzers);
    free(j);
    return rc;
}

int web_job_stop(struct aitag_web *w, int id)
{
    struct web_job *j;
    int rc = AITAG_ERR_NOTFOUND;

    pthread_mutex_lock(&w->lock);
    if ((j = find_job(w, id))) {
        if (strcmp(j->state, "running") == 0) {
            j->stop_asked = 1;
            kill(j->pid, SIGTERM);
        }
        rc = 0;
    }
    pthread_mutex_unlock(&w->lock);
    return rc;
}

json_t *web_jobs_json(struct aitag_web *w, int id)
{
    json_t *out = id ? NULL : json_array();
    struct web_job *j;

    pthread_mutex_lock(&w->lock);
    if (id)
        out = (j = find_job(w, id)) ? job_json(j) : NULL;
    else
        for (size_t i = w->n_jobs; out && i-- > 0;) /* newest first */
            json_array_append_new(out, job_json(w->jobs[i]));
    pthread_mutex_unlock(&w->lock);
    return out;
}

/* The event stream of one job. */
struct stream {
    struct aitag_web *w;
    int id;
    unsigned seen;
    int ended;
    char *buf;
    size_t len, pos;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *s = cls;
    struct web_job *j;
    struct timespec until;
    json_t *o = NULL;
    const char *event = "progress";

    (void)pos;
    if (s->pos < s->len) {
        size_t n = s->len - s->pos < max ? s->len - s->pos : max;
        memcpy(out, s->buf + s->pos, n);
        s->pos += n;
        return (ssize_t)n;
    }
    if (s->ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    free(s->buf);
    s->buf = NULL;
    s->len = s->pos = 0;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 15;
    pthread_mutex_lock(&s->w->lock);
    while ((j = find_job(s->w, s->id)) && j->version == s->seen && !s->w->stopping)
        if (pthread_cond_timedwait(&s->w->job_changed, &s->w->lock, &until) != 0)
            break;
    if (j && j->version != s->seen) {
        s->seen = j->version;
        o = job_json(j);
        if (strcmp(j->state, "running") != 0) {
            event = "end";
            s->ended = 1;
        }
    }
    if (!j || s->w->stopping)
        s->ended = 1;
    pthread_mutex_unlock(&s->w->lock);
    if (o) {
        char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
        size_t n = text ? strlen(text) + 32 : 0;
        json_decref(o);
        if (!text || !(s->buf = malloc(n))) {
            free(text);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        s->len = (size_t)snprintf(s->buf, n, "event: %s\ndata: %s\n\n", event, text);
        free(text);
    } else if (!s->ended && (s->buf = strdup(": keep-alive\n\n"))) {
        s->len = strlen(s->buf);
    }
    return stream_read(cls, pos, out, max);
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    free(s->buf);
    free(s);
}

enum MHD_Result web_job_events(struct aitag_web *w, struct MHD_Connection *conn, int id)
{
    struct MHD_Response *r;
    struct stream *s;
    enum MHD_Result ok;

    pthread_mutex_lock(&w->lock);
    if (!find_job(w, id)) {
        pthread_mutex_unlock(&w->lock);
        return web_send_error(conn, 404, "job %d: no such job", id);
    }
    pthread_mutex_unlock(&w->lock);
    if (!(s = calloc(1, sizeof *s)))
        return MHD_NO;
    s->w = w;
    s->id = id;
    s->seen = (unsigned)-1; /* the first call sends the state as it is */
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
    if (!r) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    web_secure_headers(r);
    ok = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ok;
}

void web_jobs_stop_all(struct aitag_web *w)
{
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    for (size_t i = 0; i < w->n_jobs; i++)
        if (strcmp(w->jobs[i]->state, "running") == 0) {
            w->jobs[i]->stop_asked = 1;
            kill(w->jobs[i]->pid, SIGTERM);
        }
    pthread_cond_broadcast(&w->job_changed);
    pthread_mutex_unlock(&w->lock);
    for (size_t i = 0; i < w->n_jobs; i++) {
        pthread_join(w->jobs[i]->thread, NULL);
        json_decref(w->jobs[i]->paths);
        json_decref(w->jobs[i]->progress);
        free(w->jobs[i]->analyzers);
        free(w->jobs[i]);
    }
    w->n_jobs = 0;
}
