/*
 * open_state.c - whether a SQLite catalog was last closed cleanly, and whether anyone has it
 * open: the lock file beside it (CATALOG.db-lock), without touching the schema.
 *
 * SQLite survives a crash by itself (WAL), so what a check on open is for is damage from
 * outside: a disk that lost writes, a copy taken mid-write, a full disk at the wrong moment.
 * Checking every open would cost a full read of the file; checking after an unclean end costs
 * it only when something went wrong. The lock file holds one word: "open" while a writer may
 * be at work, "clean" once the last handle closed. Every handle holds an open file description
 * lock on it (OFD: per handle, so two handles of one process, or a handle closed while another
 * stays open, do not disturb each other; converted atomically between shared and exclusive):
 *
 *   open:  try the exclusive lock without waiting. Got it: no one else has the catalog open,
 *          so the word is the previous session's; "open" means it ended without closing and
 *          the file is checked (PRAGMA quick_check) while others wait. Then the word becomes
 *          "open" (a writable handle) and the lock shared. Did not get it: wait for a shared
 *          lock (someone is checking, restoring or closing) and, writable, write "open".
 *   close: try to turn the shared lock exclusive without waiting; whoever gets it is the last
 *          and writes "clean".
 *
 * A second process opening while one runs never sees its "open" as unclean: it cannot get the
 * exclusive lock. A crashed process leaves "open" behind, and the next lone open checks; when
 * another process was still running, the last one to close writes "clean": a killed process
 * cannot damage the file (SQLite recovers its WAL), only what happens below SQLite can, and
 * that is what the check is for. "open" is flushed to disk when written, so it survives a power
 * cut; "clean" is not (losing it costs one check). A catalog from before this file existed has
 * no word: it is checked when its WAL was left behind. A lock file that cannot be created (a
 * read-only folder) means no check and no busy detection; the catalog opens as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_int.h"

#define WORD_OPEN "open\n"
#define WORD_CLEAN "clean\n"

static int ofd_lock(int fd, short type, int wait)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    int rc;

    do
        rc = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
    while (rc < 0 && errno == EINTR && wait);
    return rc;
}

static void write_word(int fd, const char *word)
{
    size_t n = strlen(word);

    if (pwrite(fd, word, n, 0) == (ssize_t)n)
        (void)!ftruncate(fd, (off_t)n);
}

/* Writes "open" unless the file says so already, and flushes it: after a power cut the word
 * must still say open (a lost "clean" only costs a check). */
static void mark_open(int fd)
{
    char word[8] = "";
    ssize_t n = pread(fd, word, sizeof word - 1, 0);

    word[n > 0 ? n : 0] = '\0';
    if (strcmp(word, WORD_OPEN) == 0)
        return;
    write_word(fd, WORD_OPEN);
    (void)!fdatasync(fd);
}

const char *catalog_lock_path(const char *path, char *buf, size_t len)
{
    return aitag_fmt(buf, len, "%s-lock", path);
}

/* True when the catalog at path left a non-empty WAL behind (no one has it open). */
static int wal_left(const char *path)
{
    char wal[4200];
    struct stat st;

    aitag_fmt(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &st) == 0 && st.st_size > 0;
}

int catalog_state_open(struct catalog_state *s, const char *path, int readonly, int *suspect)
{
    char lock[4200], word[8] = "";
    ssize_t n;

    *suspect = 0;
    s->fd = -1;
    s->alone = 0;
    s->suspect = 0;
    s->readonly = readonly;
    catalog_lock_path(path, lock, sizeof lock);
    s->fd = open(lock, O_RDWR | O_CLOEXEC | (readonly ? 0 : O_CREAT), 0644);
    if (s->fd < 0 && readonly)
        s->fd = open(lock, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return 0; /* no lock file: no check, no busy detection (see the design note) */
    if (ofd_lock(s->fd, F_WRLCK, 0) == 0) {
        s->alone = 1;
        n = pread(s->fd, word, sizeof word - 1, 0);
        word[n > 0 ? n : 0] = '\0';
        s->suspect = strcmp(word, WORD_OPEN) == 0 || (word[0] == '\0' && wal_left(path));
        *suspect = s->suspect;
        return 0;
    }
    if (ofd_lock(s->fd, F_RDLCK, 1) < 0) {
        close(s->fd);
        s->fd = -1;
        return 0;
    }
    if (!readonly)
        mark_open(s->fd);
    return 0;
}

void catalog_state_settle(struct catalog_state *s, int checked_sound)
{
    if (s->fd < 0 || !s->alone)
        return;
    if (checked_sound)
        s->suspect = 0;
    if (!s->readonly)
        mark_open(s->fd);
    else if (checked_sound) /* no writer is at work: a sound file is a clean one */
        write_word(s->fd, WORD_CLEAN);
    ofd_lock(s->fd, F_RDLCK, 0); /* atomic: nobody slips in between */
    s->alone = 0;
}

void catalog_state_close(struct catalog_state *s)
{
    if (s->fd < 0)
        return;
    /* The last one out: clean, unless this handle found the file damaged (a read-only handle
     * writes too when it can: a writer that closed before it could not). */
    if (ofd_lock(s->fd, F_WRLCK, 0) == 0 && !s->suspect)
        write_word(s->fd, WORD_CLEAN);
    close(s->fd); /* releases the lock */
    s->fd = -1;
}

/* SQLite's unix VFS holds a shared lock on byte 128 of CATALOG-shm (the "dead man switch")
 * while it has a WAL database open: seen from here, any SQLite program using the file. */
static int shm_in_use(const char *path)
{
    char shm[4200];
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 128, .l_len = 1};
    int fd, busy = 0;

    aitag_fmt(shm, sizeof shm, "%s-shm", path);
    fd = open(shm, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 0;
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
        busy = 1;
    close(fd);
    return busy;
}

int catalog_state_take(struct catalog_state *s, const char *path, char *errbuf, size_t errlen)
{
    char lock[4200];

    s->readonly = 0;
    s->alone = 0;
    s->suspect = 0;
    catalog_lock_path(path, lock, sizeof lock);
    s->fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        aitag_fmt(errbuf, errlen, "%s: %s", lock, catalog_errno_reason(errno));
        return AITAG_ERR_IO;
    }
    if (ofd_lock(s->fd, F_WRLCK, 0) < 0 || shm_in_use(path)) {
        close(s->fd);
        s->fd = -1;
        aitag_fmt(errbuf, errlen,
                  "%s: in use by another process (aitag tag, worker or serve, or another SQLite "
                  "program); stop it first",
                  path);
        return AITAG_ERR_INVALID;
    }
    s->alone = 1;
    return 0;
}

void catalog_state_release(struct catalog_state *s)
{
    if (s->fd < 0)
        return;
    write_word(s->fd, WORD_CLEAN);
    close(s->fd);
    s->fd = -1;
}
