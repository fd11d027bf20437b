/*
 * registry.c - the analyzers the pipeline can run: the built-ins listed here, then the custom
 * analyzers aitag_analyzer_registry_load() makes from a folder of manifests (custom.c).
 *
 * Adding a built-in analyzer is one line here plus its ops table; nothing else in the program
 * names analyzers. The dynamic part only grows (entries are never removed), so pointers that
 * find() and all() hand out stay valid; one mutex serialises loading with lookups.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "aitag/models.h"
#include "analyzers_int.h"

static const struct aitag_analyzer_ops *const builtins[] = {
    &aitag_analyzer_faces, &aitag_analyzer_text, &aitag_analyzer_objects,
    &aitag_analyzer_nsfw,  &aitag_analyzer_pose, &aitag_analyzer_face_attrs,
    &aitag_analyzer_vlm,   &aitag_analyzer_cues, &aitag_analyzer_speech,
};

#define N_BUILTINS (sizeof builtins / sizeof builtins[0])

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* builtins, then custom ones; filled from builtins on first use (under the lock). */
static const struct aitag_analyzer_ops *registry[N_BUILTINS + AITAG_MAX_CUSTOM_ANALYZERS];
static size_t n_registry;

static void init_locked(void)
{
    if (n_registry == 0) {
        memcpy(registry, builtins, sizeof builtins);
        n_registry = N_BUILTINS;
    }
}

static const struct aitag_analyzer_ops *find_locked(const char *name)
{
    init_locked();
    for (size_t i = 0; i < n_registry; i++) {
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    }
    return NULL;
}

const struct aitag_analyzer_ops *aitag_analyzer_find(const char *name)
{
    const struct aitag_analyzer_ops *ops;

    if (!name)
        return NULL;
    pthread_mutex_lock(&lock);
    ops = find_locked(name);
    pthread_mutex_unlock(&lock);
    return ops;
}

size_t aitag_analyzer_all(const struct aitag_analyzer_ops *const **out)
{
    size_t n;

    pthread_mutex_lock(&lock);
    init_locked();
    n = n_registry;
    pthread_mutex_unlock(&lock);
    *out = registry;
    return n;
}

/* Called by custom.c with the lock held: 1 when added, 0 when the name is taken. */
static int add_locked(const struct aitag_analyzer_ops *ops)
{
    if (find_locked(ops->name) || n_registry == sizeof registry / sizeof registry[0])
        return 0;
    registry[n_registry++] = ops;
    return 1;
}

int aitag_analyzer_registry_load(const char *manifest_dir, const char *weights_dir, char *err,
                                 size_t errlen)
{
    int rc;

    if (!manifest_dir || !weights_dir) {
        snprintf(err, errlen, "custom models: no folder given");
        return AITAG_ERR_INVALID;
    }
    pthread_mutex_lock(&lock);
    rc = aitag_custom_scan(manifest_dir, weights_dir, add_locked, err, errlen);
    pthread_mutex_unlock(&lock);
    return rc;
}
