/*
 * alloc_fail.c - make the Nth allocation fail, for the allocation-failure test mode.
 *
 * In the sanitizer build (AITAG_SANITIZE) the unit tests are linked with -Wl,--wrap for every
 * allocating libc call the project makes directly, so each such call from the project's
 * libraries and the test resolves to a __wrap_ function here. References inside shared
 * libraries (libc, FFmpeg, ONNX Runtime, SQLite, libcurl, jansson) are not redirected: only
 * aitag's own allocations are counted and failed.
 *
 * The wrapper is inert unless the environment sets AITAG_ALLOC_FAIL:
 *   N (>= 1)  the Nth counted allocation of the process fails as the real call does on
 *             exhausted memory (NULL and errno ENOMEM; -1 for asprintf and getline), every
 *             other succeeds; 0 only counts. At exit one line "alloc-fail: N of COUNT".
 *   all       the test runs once for every N. Before main this process becomes a runner that
 *             forks one child per N (after a counting child, N = 0); the child returns into
 *             main with its N. Forking after the shared libraries are loaded and the sanitizers
 *             set up makes a run cost the test's own time only, and each run starts from a
 *             clean process. N goes up until it passes the largest COUNT a child reached.
 *             A child passes when it exits with status 0 or 1 (CHECK failures are expected
 *             while an allocation fails). It fails on a sanitizer report (status 86 through
 *             the sanitizers' death callback, LSan's leak check at exit included), a signal
 *             (an assert, a crash), another status, or a hang (AITAG_ALLOC_FAIL_TIMEOUT
 *             seconds, default 10 + 10 times the counting run). A child's output goes to
 *             AITAG_ALLOC_FAIL_LOGS/N.log (default /tmp), kept when it fails;
 *             AITAG_ALLOC_FAIL_JOBS children run at once (default 2);
 *             AITAG_ALLOC_FAIL_STEP=k fails only every kth allocation (a sample), or
 *             AITAG_ALLOC_FAIL_RUNS=r about r allocations spread evenly (k = COUNT / r, rounded
 *             up), from N = 1 + AITAG_ALLOC_FAIL_OFFSET mod k on (default offset 0): runs with
 *             other offsets sample other allocations. The
 *             runner prints a summary and exits 0, or 1 when a run failed.
 * The counter is atomic: threads share one sequence.
 */
#include <errno.h>
#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_reallocarray(void *p, size_t n, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
char *__real_realpath(const char *path, char *resolved);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
ssize_t __real_getline(char **line, size_t *cap, FILE *f);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_reallocarray(void *p, size_t n, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
char *__wrap_realpath(const char *path, char *resolved);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
int __wrap_asprintf(char **out, const char *fmt, ...);
ssize_t __wrap_getline(char **line, size_t *cap, FILE *f);

static long fail_at = -1; /* -1: inert; 0: count only; N: fail the Nth */
static atomic_long counted;
static atomic_long *max_counted; /* shared with the runner (mode "all") */
static int is_runner;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void log_path(char *out, size_t size, long n)
{
    const char *dir = getenv("AITAG_ALLOC_FAIL_LOGS");

    snprintf(out, size, "%s/%ld.log", dir && *dir ? dir : "/tmp", n);
}

/* A sanitizer report (LSan's leak check at exit included) ends the child with status 86. */
static void sanitizer_died(void)
{
    _exit(86);
}

/* Forks the child for N; in the child returns 0 (go on into main), in the runner its pid. */
static pid_t start_child(long n, unsigned limit)
{
    char path[4096];
    pid_t pid = fork();
    int fd;

    if (pid != 0)
        return pid;
    fail_at = n;
    is_runner = 0;
    log_path(path, sizeof(path), n);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    __sanitizer_set_death_callback(sanitizer_died);
    alarm(limit);
    return 0;
}

/* The verdict on a finished child: 0 passed, 1 failed (reported on stderr). */
static int judge(long n, int status)
{
    char path[4096];

    log_path(path, sizeof(path), n);
    if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1)) {
        unlink(path);
        return 0;
    }
    if (WIFEXITED(status))
        fprintf(stderr, "alloc-fail: N=%ld exit status %d%s, log %s\n", n, WEXITSTATUS(status),
                WEXITSTATUS(status) == 86 ? " (sanitizer report)" : "", path);
    else
        fprintf(stderr, "alloc-fail: N=%ld killed by signal %d%s, log %s\n", n, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (hang)" : "", path);
    return 1;
}

/* Mode "all": runs the children and exits; returns only in a child. */
static void run_all(void)
{
    const char *v = getenv("AITAG_ALLOC_FAIL_JOBS"), *t = getenv("AITAG_ALLOC_FAIL_TIMEOUT");
    const char *st = getenv("AITAG_ALLOC_FAIL_STEP"), *off = getenv("AITAG_ALLOC_FAIL_OFFSET");
    const char *want = getenv("AITAG_ALLOC_FAIL_RUNS");
    long jobs = v && *v ? strtol(v, NULL, 10) : 2, next = 1, failed = 0, running = 0, runs = 0;
    long step = st && *st ? strtol(st, NULL, 10) : 1, first;
    long offset = off && *off ? strtol(off, NULL, 10) : 0, n_want = want ? atol(want) : 0;
    double start = now();
    unsigned limit;
    pid_t pids[64];
    long ns[64];
    int status, i;

    if (jobs < 1 || jobs > 64)
        jobs = 2;
    if (step < 1)
        step = 1;
    if (offset < 0)
        offset = 0;
    max_counted =
        mmap(NULL, sizeof(*max_counted), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (max_counted == MAP_FAILED) {
        perror("alloc-fail: mmap");
        _exit(2);
    }
    is_runner = 1;
    /* the counting run */
    if (start_child(0, 0) == 0)
        return;
    if (wait(&status) < 0 || judge(0, status)) {
        fprintf(stderr, "alloc-fail: the run without a failing allocation fails\n");
        exit(1);
    }
    limit = t && *t ? (unsigned)strtoul(t, NULL, 10) : (unsigned)(10 + 10 * (now() - start));
    if (n_want > 0)
        step = (atomic_load(max_counted) + n_want - 1) / n_want;
    if (step < 1)
        step = 1;
    first = next = 1 + offset % step;
    while (next <= atomic_load(max_counted) || running > 0) {
        if (running < jobs && next <= atomic_load(max_counted)) {
            pid_t pid = start_child(next, limit);

            if (pid == 0)
                return;
            if (pid < 0) {
                perror("alloc-fail: fork");
                exit(1);
            }
            pids[running] = pid;
            ns[running++] = next;
            next += step;
            runs++;
            continue;
        }
        pid_t pid = wait(&status);

        for (i = 0; i < running && pids[i] != pid; i++)
            ;
        if (pid < 0 || i == running)
            continue;
        failed += judge(ns[i], status);
        pids[i] = pids[running - 1];
        ns[i] = ns[--running];
    }
    char which[64] = "";
    if (step > 1)
        snprintf(which, sizeof which, " (N = %ld, %ld, ...)", first, first + step);
    fprintf(
        stderr,
        "alloc-fail: %ld allocations, %ld failed once each in its own run%s: %ld bad (%.0f s)\n",
        atomic_load(max_counted), runs, which, failed, now() - start);
    exit(failed ? 1 : 0);
}

__attribute__((constructor(101))) static void alloc_fail_init(void)
{
    const char *v = getenv("AITAG_ALLOC_FAIL");

    if (!v || !*v)
        return;
    if (strcmp(v, "all") == 0)
        run_all();
    else
        fail_at = strtol(v, NULL, 10);
}

__attribute__((destructor)) static void alloc_fail_report(void)
{
    char line[80];
    long n = atomic_load(&counted);
    int len;

    if (fail_at < 0 || is_runner)
        return;
    if (max_counted) {
        long m = atomic_load(max_counted);

        while (n > m && !atomic_compare_exchange_weak(max_counted, &m, n))
            ;
    }
    len = snprintf(line, sizeof(line), "alloc-fail: %ld of %ld\n", fail_at, n);
    if (len > 0 && write(2, line, (size_t)len) < 0)
        return;
}

/* True when this allocation is the one to fail. */
static int fail_now(void)
{
    if (fail_at < 0)
        return 0;
    if (atomic_fetch_add(&counted, 1) + 1 != fail_at)
        return 0;
    errno = ENOMEM;
    return 1;
}

void *__wrap_malloc(size_t size)
{
    return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return fail_now() ? NULL : __real_realloc(p, size);
}

void *__wrap_reallocarray(void *p, size_t n, size_t size)
{
    return fail_now() ? NULL : __real_reallocarray(p, n, size);
}

char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}

/* Only realpath(path, NULL) allocates. */
char *__wrap_realpath(const char *path, char *resolved)
{
    return !resolved && fail_now() ? NULL : __real_realpath(path, resolved);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    if (fail_now())
        return -1;
    return __real_vasprintf(out, fmt, ap);
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = __wrap_vasprintf(out, fmt, ap);
    va_end(ap);
    return rc;
}

ssize_t __wrap_getline(char **line, size_t *cap, FILE *f)
{
    return fail_now() ? -1 : __real_getline(line, cap, f);
}
