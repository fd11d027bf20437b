/*
 * settings.c - the plugin's settings as Stash stores them.
 *
 * configuration{plugins(include: [id])} answers a PluginConfigMap, {id: {key: value}}, where a
 * plugin nobody configured is simply absent. The caller gets the inner object as JSON text and
 * parses it with its own option table; "{}" means "all defaults".
 */
#include <stdlib.h>

#include "stash_int.h"

int aitag_stash_plugin_settings(struct aitag_stash *s, const char *plugin_id, char **json)
{
    json_t *vars = NULL, *data = NULL, *obj;
    int rc;

    *json = NULL;
    if (!plugin_id || !*plugin_id)
        return stash_fail(s, AITAG_ERR_INVALID, "configuration", "no plugin id");
    vars = json_pack("{s:[s]}", "include", plugin_id);
    if (!vars)
        return stash_fail(s, AITAG_ERR_NOMEM, "configuration", "out of memory");
    rc = stash_gql(s, stash_doc_plugin_settings, vars, 0, &data);
    if (rc < 0)
        goto out;
    obj = json_object_get(json_object_get(json_object_get(data, "configuration"), "plugins"),
                          plugin_id);
    *json = json_is_object(obj) ? json_dumps(obj, JSON_COMPACT) : stash_strdup("{}");
    if (!*json)
        rc = stash_fail(s, AITAG_ERR_NOMEM, "configuration", "out of memory");
out:
    json_decref(data);
    json_decref(vars);
    return rc;
}
