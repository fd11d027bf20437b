/*
 * session.c - the ONNX Runtime boundary: environment, sessions, status conversion, logging.
 *
 * Every OrtStatus is converted exactly once, by infer_ort_check(), into an aitag_err and a message,
 * and released there (run.c uses it too); no ORT type leaves src/infer. The OrtEnv and the CPU
 * memory info are created on the first session, under the context's lock, so that contexts
 * used only for manifests never start ORT. Sessions are created lazily per model under the
 * model's own lock, which makes aitag_model_run's implicit load safe from several threads: the
 * first caller loads, the others wait, and after `loaded` is set the session is only read
 * (OrtSession::Run is thread-safe). Idle intra-op threads do not spin by default: spinning
 * wins on an idle machine, but on a busy 2-core one (decoding runs beside inference) it doubled
 * the median time of 2-thread BlazeFace runs (docs/models.md). ORT's own log lines go through
 * aitag_log (subsystem "ort") at warning level; its warnings about unused initializers, which the
 * shipped BlazeFace files trigger on every load, are demoted to debug because they say nothing a
 * user can act on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer_int.h"

int infer_ort_check(const OrtApi *api, OrtStatus *st, const char *what, char *err, size_t errlen)
{
    if (!st)
        return 0;
    if (err && errlen)
        snprintf(err, errlen, "%s: %s (ort code %d)", what, api->GetErrorMessage(st),
                 (int)api->GetErrorCode(st));
    api->ReleaseStatus(st);
    return AITAG_ERR_MODEL;
}

static void ort_logger(void *param, OrtLoggingLevel severity, const char *category,
                       const char *logid, const char *code_location, const char *message)
{
    enum aitag_log_level level = AITAG_LOG_DEBUG;

    (void)param;
    (void)logid;
    if (severity >= ORT_LOGGING_LEVEL_ERROR)
        level = AITAG_LOG_ERROR;
    else if (severity == ORT_LOGGING_LEVEL_WARNING)
        level = AITAG_LOG_WARN;
    else if (severity == ORT_LOGGING_LEVEL_INFO)
        level = AITAG_LOG_INFO;
    if (code_location && strstr(code_location, "CleanUnusedInitializers"))
        level = AITAG_LOG_DEBUG;
    aitag_log(level, "ort", "category=%s at=%s msg=\"%s\"", category ? category : "",
              code_location ? code_location : "", message ? message : "");
}

static int ensure_env(struct aitag_infer *inf, char *err, size_t errlen)
{
    const OrtApi *api = inf->api;
    int rc = 0;

    pthread_mutex_lock(&inf->env_lock);
    if (!inf->env) {
        rc = infer_ort_check(api,
                             api->CreateEnvWithCustomLogger(
                                 ort_logger, NULL, ORT_LOGGING_LEVEL_WARNING, "aitag", &inf->env),
                             "creating the ONNX Runtime environment", err, errlen);
        if (rc < 0) {
            inf->env = NULL;
            goto out;
        }
    }
    if (!inf->mem) {
        rc = infer_ort_check(
            api, api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &inf->mem),
            "creating CPU memory info", err, errlen);
        if (rc < 0)
            inf->mem = NULL;
    }
out:
    pthread_mutex_unlock(&inf->env_lock);
    return rc;
}

int infer_model_verify(struct aitag_model *m, char *err, size_t errlen)
{
    char hex[65];
    int rc;

    rc = aitag_sha256_file(m->path, hex);
    if (rc < 0) {
        snprintf(err, errlen, "model %s: cannot read weights %s (manifest %s)", m->name, m->path,
                 m->manifest_path);
        return AITAG_ERR_MODEL;
    }
    if (strcmp(hex, m->sha256) != 0) {
        snprintf(err, errlen, "model %s: sha256 mismatch for %s: manifest %s says %s, file has %s",
                 m->name, m->path, m->manifest_path, m->sha256, hex);
        return AITAG_ERR_MODEL;
    }
    m->verified = 1;
    return 0;
}

static int make_options(struct aitag_infer *inf, OrtSessionOptions **out, char *err, size_t errlen)
{
    const OrtApi *api = inf->api;
    OrtSessionOptions *so = NULL;
    int rc;

    *out = NULL;
    rc = infer_ort_check(api, api->CreateSessionOptions(&so), "session options", err, errlen);
    if (rc < 0)
        return rc;
    if ((rc = infer_ort_check(api, api->SetIntraOpNumThreads(so, inf->params.intra_threads),
                              "intra-op threads", err, errlen)) < 0 ||
        (rc = infer_ort_check(api, api->SetInterOpNumThreads(so, inf->params.inter_threads),
                              "inter-op threads", err, errlen)) < 0 ||
        (rc = infer_ort_check(api, api->SetSessionGraphOptimizationLevel(so, ORT_ENABLE_ALL),
                              "graph optimisation level", err, errlen)) < 0 ||
        (rc = infer_ort_check(api, api->SetSessionExecutionMode(so, ORT_SEQUENTIAL),
                              "execution mode", err, errlen)) < 0 ||
        (rc = infer_ort_check(api,
                              api->AddSessionConfigEntry(so, "session.intra_op.allow_spinning",
                                                         inf->params.allow_spinning ? "1" : "0"),
                              "intra-op spinning", err, errlen)) < 0) {
        api->ReleaseSessionOptions(so);
        return rc;
    }
    *out = so;
    return 0;
}

/* Reads the output names in session order and checks the manifest's input and outputs
 * against the file. */
static int describe_session(struct aitag_model *m, OrtSession *s, char *err, size_t errlen)
{
    const OrtApi *api = m->inf->api;
    OrtAllocator *alloc = NULL;
    char *name = NULL;
    size_t n_in = 0, n_out = 0, i, j;
    int rc, found = 0;

    rc =
        infer_ort_check(api, api->GetAllocatorWithDefaultOptions(&alloc), "allocator", err, errlen);
    if (rc < 0)
        return rc;
    if ((rc = infer_ort_check(api, api->SessionGetInputCount(s, &n_in), "inputs", err, errlen)) < 0)
        return rc;
    for (i = 0; i < n_in && !found; i++) {
        rc = infer_ort_check(api, api->SessionGetInputName(s, i, alloc, &name), "input name", err,
                             errlen);
        if (rc < 0)
            return rc;
        found = strcmp(name, m->input_name) == 0;
        infer_ort_check(api, api->AllocatorFree(alloc, name), "free", NULL, 0);
    }
    if (!found) {
        snprintf(err, errlen, "%s: key \"input.name\": the model %s has no input \"%s\"",
                 m->manifest_path, m->path, m->input_name);
        return AITAG_ERR_MODEL;
    }
    if ((rc = infer_ort_check(api, api->SessionGetOutputCount(s, &n_out), "outputs", err, errlen)) <
        0)
        return rc;
    m->sess_outputs = calloc(n_out + 1, sizeof *m->sess_outputs);
    if (!m->sess_outputs)
        return AITAG_ERR_NOMEM;
    for (i = 0; i < n_out; i++) {
        rc = infer_ort_check(api, api->SessionGetOutputName(s, i, alloc, &name), "output name", err,
                             errlen);
        if (rc < 0)
            return rc;
        m->sess_outputs[i] = strdup(name);
        infer_ort_check(api, api->AllocatorFree(alloc, name), "free", NULL, 0);
        if (!m->sess_outputs[i])
            return AITAG_ERR_NOMEM;
        m->n_sess_outputs = i + 1;
    }
    for (j = 0; j < m->n_outputs; j++) {
        for (i = 0; i < n_out && strcmp(m->sess_outputs[i], m->outputs[j]) != 0; i++)
            ;
        if (i == n_out) {
            snprintf(err, errlen, "%s: key \"outputs\": the model %s has no output \"%s\"",
                     m->manifest_path, m->path, m->outputs[j]);
            return AITAG_ERR_MODEL;
        }
    }
    return 0;
}

static int load_locked(struct aitag_model *m, char *err, size_t errlen)
{
    struct aitag_infer *inf = m->inf;
    const OrtApi *api = inf->api;
    OrtSessionOptions *so = NULL;
    OrtSession *s = NULL;
    double t0 = aitag_now();
    int rc;

    if (m->labels_missing) {
        snprintf(err, errlen, "%s: key \"labels_file\": cannot read %s", m->manifest_path,
                 m->labels_file);
        return AITAG_ERR_MODEL;
    }
    if (inf->params.verify_sha256 && !m->verified) {
        rc = infer_model_verify(m, err, errlen);
        if (rc < 0)
            return rc;
    }
    rc = ensure_env(inf, err, errlen);
    if (rc < 0)
        return rc;
    rc = make_options(inf, &so, err, errlen);
    if (rc < 0)
        return rc;
    rc = infer_ort_check(api, api->CreateSession(inf->env, m->path, so, &s), "loading model", err,
                         errlen);
    if (rc < 0) {
        char inner[384];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errlen, "model %s (%s): %s", m->name, m->path, inner);
        rc = AITAG_ERR_MODEL;
        goto out;
    }
    rc = describe_session(m, s, err, errlen);
    if (rc < 0) {
        for (size_t i = 0; i < m->n_sess_outputs; i++)
            free(m->sess_outputs[i]);
        free(m->sess_outputs);
        m->sess_outputs = NULL;
        m->n_sess_outputs = 0;
        goto out;
    }
    m->session = s;
    s = NULL;
    aitag_log(AITAG_LOG_INFO, "infer", "event=load model=%s key=%s ms=%.1f threads=%d", m->name,
              m->key, (aitag_now() - t0) * 1e3, inf->params.intra_threads);
out:
    if (s)
        api->ReleaseSession(s);
    api->ReleaseSessionOptions(so);
    return rc;
}

int infer_model_ensure_loaded(struct aitag_model *m, char *err, size_t errlen)
{
    int rc = 0;

    if (__atomic_load_n(&m->loaded, __ATOMIC_ACQUIRE))
        return 0;
    pthread_mutex_lock(&m->load_lock);
    if (!m->loaded) {
        rc = load_locked(m, err, errlen);
        if (rc == 0)
            __atomic_store_n(&m->loaded, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&m->load_lock);
    return rc;
}

void infer_set_error(struct aitag_infer *inf, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(inf->errmsg, sizeof inf->errmsg, fmt, ap);
    va_end(ap);
}

int aitag_model_load(struct aitag_model *m)
{
    return infer_model_ensure_loaded(m, m->inf->errmsg, sizeof m->inf->errmsg);
}

int aitag_model_verify(struct aitag_model *m)
{
    return infer_model_verify(m, m->inf->errmsg, sizeof m->inf->errmsg);
}
