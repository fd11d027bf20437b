/*
 * registry.c - the list of analyzers the pipeline can run. Adding an analyzer is one line
 * here plus its ops table; nothing else in the program names analyzers.
 */
#include <string.h>

#include "analyzers_int.h"

static const struct aitag_analyzer_ops *const registry[] = {
    &aitag_analyzer_faces,
    &aitag_analyzer_text,
    &aitag_analyzer_objects,
    &aitag_analyzer_nsfw,
};

const struct aitag_analyzer_ops *aitag_analyzer_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++) {
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    }
    return NULL;
}

size_t aitag_analyzer_all(const struct aitag_analyzer_ops *const **out)
{
    *out = registry;
    return sizeof registry / sizeof registry[0];
}
