/*
 * signals.c - SIGINT/SIGTERM ask the running command to stop after the item in flight (or,
 * for a command that lets the item in flight finish, the first one asks that and a second one
 * stops at once).
 *
 * The flag is a lock-free C11 atomic: the handler may store to it (async-signal-safe), and the
 * tagger's decoder thread and the plugin's workers load it while the main thread runs, which a
 * plain `volatile int` would make a data race. The handler is installed with sigaction and
 * SA_RESTART, so blocking reads and writes elsewhere are resumed rather than failing with EINTR
 * (what glibc's signal() did before).
 */
#include <signal.h>
#include <string.h>

#include "cli.h"

static atomic_int stop_requested;
static atomic_int *graceful; /* cli_catch_stop_signals_graceful's flag, or NULL */

static void on_stop_signal(int sig)
{
    (void)sig;
    if (graceful && !atomic_exchange(graceful, 1))
        return; /* the first of two: finish the item in flight */
    atomic_store(&stop_requested, 1);
}

atomic_int *cli_stop_flag(void)
{
    return &stop_requested;
}

void cli_catch_stop_signals_graceful(atomic_int *flag)
{
    graceful = flag;
    cli_catch_stop_signals();
}

void cli_catch_stop_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
