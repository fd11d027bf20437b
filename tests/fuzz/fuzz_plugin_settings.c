/* fuzz_plugin_settings.c - libFuzzer target for the plugin's settings as Stash returns them
 * (configuration{plugins}: saved through the UI, or set by hand through configurePlugin): the
 * option-table settings, the plugin's own ones and the vlm ones. Any text is read or refused
 * with a message naming the setting; accepted settings are in range and the strings the
 * plugin relies on are set (the parent tag never empty). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct plugin_settings s;
    struct plugin_vlm v;
    char err[512] = "", *text;

    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (plugin_settings_parse(text, &s, err, sizeof err) < 0) {
        if (!err[0] || s.analyzers || s.parent_tag)
            abort();
    } else {
        if (!s.analyzers || !s.tag_prefix || !s.tag_suffix || !s.parent_tag || !s.parent_tag[0] ||
            !s.path_mappings || !s.gateway_url || !s.catalog || !s.rules || !s.speech_keywords ||
            !s.speech_url || !(s.interval > 0) || s.threshold > 1)
            abort();
        plugin_settings_clear(&s);
    }
    err[0] = '\0';
    if (plugin_vlm_parse(text, "http://gw:8090//", 0, &v, err, sizeof err) < 0) {
        if (!err[0] || v.url || v.route || v.vocabulary)
            abort();
    } else {
        if (!v.url || !(v.every >= 0 && v.every <= 86400))
            abort();
        plugin_vlm_clear(&v);
    }
    free(text);
    return 0;
}
