/* fuzz_gateway_config.c - libFuzzer target for the gateway's config file (written by users,
 * read at start): any bytes must parse or fail with a message, and a parsed config must be
 * searchable by route and free cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aitag/gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aitag_gateway_config *cfg = NULL;
    char err[512];
    char *text = malloc(size + 1);

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (aitag_gateway_config_parse(text, &cfg, err, sizeof err) == 0) {
        for (size_t i = 0; i < cfg->n_routes; i++)
            if (aitag_gateway_route_find(cfg, cfg->routes[i].name) != &cfg->routes[i])
                abort(); /* names are unique: each finds itself */
        aitag_gateway_config_free(cfg);
    } else if (!err[0]) {
        abort(); /* a refused config always says why */
    }
    free(text);
    return 0;
}
