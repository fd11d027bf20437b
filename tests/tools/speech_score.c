/*
 * speech_score.c - speech recognition and voice activity measured on the speech fixtures
 * (tools/make_speech_fixtures.sh): per clip, the word error rate of the whole transcript
 * against the truth, how far each true segment's start and end are from the nearest VAD span's
 * (seconds), spans where nothing was said, and the speed (seconds of audio per CPU second, one
 * thread). Prints one JSON object per clip, then one per (set, noise) group with the WER over
 * all its words, and per noise over all sets ("all/clean", ...); docs/speech.md and BENCHMARKS.md
 * quote it, tests/integration/speech.sh checks the bars on it.
 *
 * usage: speech_score FIXTURES_DIR [MANIFEST_DIR WEIGHTS_DIR]
 * AITAG_SPEECH_ACCURATE=1 measures PocketSphinx's own (slower) search settings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "aitag/speech.h"

static double cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct group {
    char set[16], noise[16];
    int words, errors, clips;
    double worst_edge, audio, cpu;
};

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "fixtures/speech";
    struct aitag_infer_params ip = aitag_infer_default_params();
    struct aitag_speech_params sp = aitag_speech_default_params();
    struct aitag_infer *inf = NULL;
    struct aitag_speech *s = NULL;
    struct group groups[24];
    size_t n_groups = 0, i;
    char path[1024], err[512];
    json_t *truth, *clip;
    int status = 1;

    snprintf(path, sizeof path, "%s/truth.json", dir);
    truth = json_load_file(path, 0, NULL);
    if (!json_is_array(truth)) {
        fprintf(stderr, "speech_score: cannot read %s\n", path);
        return 2;
    }
    ip.manifest_dir = argc > 2 ? argv[2] : AITAG_SOURCE_DIR "/models";
    ip.weights_dir = argc > 3 ? argv[3] : AITAG_SOURCE_DIR "/deps/models";
    sp.accurate = getenv("AITAG_SPEECH_ACCURATE") && atoi(getenv("AITAG_SPEECH_ACCURATE"));
    /* models load before the clock starts: a tagging run loads them once for all files */
    if (aitag_infer_new(&ip, &inf) < 0 || aitag_speech_new(inf, &sp, &s, err, sizeof err) < 0 ||
        aitag_speech_load(s, err, sizeof err) < 0) {
        fprintf(stderr, "speech_score: %s\n", err);
        goto out;
    }
    json_array_foreach(truth, i, clip)
    {
        const char *file = json_string_value(json_object_get(clip, "file"));
        const char *set = json_string_value(json_object_get(clip, "set"));
        const char *noise = json_string_value(json_object_get(clip, "noise"));
        json_t *segs = json_object_get(clip, "segments"), *ts;
        struct aitag_transcript tr = {0};
        char *ref = calloc(1, 8192), *hyp = calloc(1, 8192);
        double t0, cpu, worst = 0;
        int sub = 0, del = 0, ins = 0, ref_words = 0, missed = 0;
        size_t k, g;

        snprintf(path, sizeof path, "%s/%s", dir, file);
        t0 = cpu_seconds();
        if (!ref || !hyp || aitag_speech_file(s, path, NULL, &tr, err, sizeof err) < 0) {
            fprintf(stderr, "speech_score: %s\n", err);
            free(ref), free(hyp);
            goto out;
        }
        cpu = cpu_seconds() - t0;
        json_array_foreach(segs, k, ts)
        {
            double a = json_number_value(json_object_get(ts, "start"));
            double b = json_number_value(json_object_get(ts, "end"));
            double best = 1e9;
            strncat(ref, json_string_value(json_object_get(ts, "text")), 8000 - strlen(ref));
            strcat(ref, " ");
            for (size_t j = 0; j < tr.n; j++) {
                double e = fabs(tr.segs[j].start - a) > fabs(tr.segs[j].end - b)
                               ? fabs(tr.segs[j].start - a)
                               : fabs(tr.segs[j].end - b);
                if (tr.segs[j].end > a && tr.segs[j].start < b && e < best)
                    best = e;
            }
            if (best > 1e8)
                missed++;
            else if (best > worst)
                worst = best;
        }
        for (size_t j = 0; j < tr.n; j++) {
            strncat(hyp, tr.segs[j].text, 8000 - strlen(hyp));
            strcat(hyp, " ");
        }
        {
            double wer = aitag_speech_wer(ref, hyp, &sub, &del, &ins);
            for (const char *c = ref; *c;) {
                while (*c == ' ')
                    c++;
                if (*c)
                    ref_words++;
                while (*c && *c != ' ')
                    c++;
            }
            json_t *o = json_pack(
                "{s:s, s:s, s:s, s:f, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:s, s:s}",
                "file", file, "set", set, "noise", noise, "wer", wer < 0 ? 0 : wer, "ref_words",
                ref_words, "sub", sub, "del", del, "ins", ins, "segments", (int)tr.n,
                "missed_segments", missed, "worst_edge_s", worst, "audio_s", tr.audio_seconds,
                "speed_x", cpu > 0 ? tr.audio_seconds / cpu : 0, "lang", tr.lang, "hyp", hyp);
            char *line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(4));
            printf("%s\n", line);
            free(line);
            json_decref(o);
        }
        for (int pass = 0; pass < 2; pass++) { /* the clip's set, then "all" sets */
            const char *gs = pass ? "all" : set;
            for (g = 0; g < n_groups; g++)
                if (strcmp(groups[g].set, gs) == 0 && strcmp(groups[g].noise, noise) == 0)
                    break;
            if (g == n_groups && n_groups < 24) {
                memset(&groups[g], 0, sizeof groups[g]);
                snprintf(groups[g].set, sizeof groups[g].set, "%s", gs);
                snprintf(groups[g].noise, sizeof groups[g].noise, "%s", noise);
                n_groups++;
            }
            if (g < n_groups) {
                groups[g].words += ref_words;
                groups[g].errors += ref_words ? sub + del + ins : (int)tr.n;
                groups[g].clips++;
                groups[g].worst_edge = missed ? 1e9 : fmax(groups[g].worst_edge, worst);
                groups[g].audio += tr.audio_seconds;
                groups[g].cpu += cpu;
            }
        }
        aitag_transcript_clear(&tr);
        free(ref), free(hyp);
    }
    for (size_t g = 0; g < n_groups; g++)
        printf("{\"group\":\"%s/%s\",\"clips\":%d,\"words\":%d,\"errors\":%d,\"wer\":%.4f,"
               "\"worst_edge_s\":%.3f,\"speed_x\":%.1f}\n",
               groups[g].set, groups[g].noise, groups[g].clips, groups[g].words, groups[g].errors,
               groups[g].words ? (double)groups[g].errors / groups[g].words : 0,
               groups[g].worst_edge, groups[g].cpu > 0 ? groups[g].audio / groups[g].cpu : 0);
    status = 0;
out:
    aitag_speech_free(s);
    aitag_infer_free(inf);
    json_decref(truth);
    return status;
}
