/*
 * test_installer.c - `aitag models install` against a real HTTP server on loopback.
 *
 * The server is a few lines of Node (no packages) written next to the test's files: it serves
 * a folder with Range support, logs each request with its Range header, and for /cut/<file>
 * sends only half the body of the first response and then drops the connection, as a
 * network failure would. Cases: a good download (catalog given as a URL), the file already in
 * place (no request), an unknown name, a wrong checksum (.part deleted), an interrupted
 * download resumed with a Range request, and an unpinned checksum recorded on first use.
 * Without node the test says so and passes nothing, rather than failing on the machine.
 */
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "aitag/models.h"
#include "check.h"

#define BLOB_SIZE 300000

static const char server_js[] =
    "const http = require('http'), fs = require('fs'), path = require('path');\n"
    "const [root, log, portFile] = process.argv.slice(2);\n"
    "const cut = new Set();\n"
    "http.createServer((req, res) => {\n"
    "  fs.appendFileSync(log, `${req.method} ${req.url} range=${req.headers.range || '-'}\\n`);\n"
    "  const m = /^\\/(f|cut)\\/([\\w.-]+)$/.exec(req.url);\n"
    "  const file = m && path.join(root, m[2]);\n"
    "  if (!m || !fs.existsSync(file)) { res.writeHead(404); return res.end('no'); }\n"
    "  const data = fs.readFileSync(file);\n"
    "  let start = 0, status = 200;\n"
    "  const r = /^bytes=(\\d+)-$/.exec(req.headers.range || '');\n"
    "  if (r) {\n"
    "    start = +r[1];\n"
    "    if (start >= data.length) {\n"
    "      res.writeHead(416, {'Content-Range': `bytes */${data.length}`}); return res.end();\n"
    "    }\n"
    "    status = 206;\n"
    "  }\n"
    "  const body = data.subarray(start), hdr = {'Content-Length': body.length};\n"
    "  if (status === 206) hdr['Content-Range'] = `bytes ${start}-${data.length - "
    "1}/${data.length}`;\n"
    "  res.writeHead(status, hdr);\n"
    "  if (m[1] === 'cut' && !cut.has(req.url)) {\n"
    "    cut.add(req.url);\n"
    "    res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => "
    "req.socket.destroy(), 100));\n"
    "    return;\n"
    "  }\n"
    "  res.end(body);\n"
    "}).listen(0, '127.0.0.1', function () {\n"
    "  fs.writeFileSync(portFile + '.tmp', String(this.address().port));\n"
    "  fs.renameSync(portFile + '.tmp', portFile);\n"
    "});\n";

static char tmp[256], www[300], dest[300], req_log[300];
static int port;
static pid_t server;

static int rm_entry(const char *p, const struct stat *st, int fl, struct FTW *ftw)
{
    (void)st, (void)fl, (void)ftw;
    return remove(p);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int start_server(void)
{
    char js[400], portf[400];
    FILE *f;

    snprintf(js, sizeof js, "%s/server.js", tmp);
    snprintf(portf, sizeof portf, "%s/port", tmp);
    write_file(js, server_js, strlen(server_js));
    server = fork();
    if (server == 0) {
        execlp("node", "node", js, www, req_log, portf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && server > 0; i++) {
        int status;
        if (waitpid(server, &status, WNOHANG) == server)
            return -1; /* node missing or failed */
        if ((f = fopen(portf, "r"))) {
            int ok = fscanf(f, "%d", &port) == 1;
            fclose(f);
            if (ok)
                return 0;
        }
        usleep(50000);
    }
    return -1;
}

/* Counts log lines containing needle. */
static int log_count(const char *needle)
{
    char line[512];
    int n = 0;
    FILE *f = fopen(req_log, "r");

    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

/* Writes www/catalog.json with one entry per (name, url path, sha or NULL). */
static void write_catalog(const char *sha_good, const char *sha_blob2)
{
    char buf[4096];
    const char *fmt =
        "{\"models\": ["
        "{\"name\": \"good\", \"license\": \"MIT\", \"description\": \"test\", \"files\": "
        "[{\"url\": \"http://127.0.0.1:%d/f/blob.bin\", \"sha256\": \"%s\", \"size\": %d, "
        "\"dest\": \"good/blob.onnx\"}], \"manifest\": {\"name\": \"good\", \"file\": "
        "\"good/blob.onnx\", \"task\": \"embedder\", \"input\": {\"name\": \"x\", \"shape\": "
        "[1, 4]}}},"
        "{\"name\": \"badsum\", \"files\": [{\"url\": \"http://127.0.0.1:%d/f/blob.bin\", "
        "\"sha256\": \"%064d\", \"dest\": \"badsum.onnx\"}], \"manifest\": {\"name\": "
        "\"badsum\", \"file\": \"badsum.onnx\"}},"
        "{\"name\": \"cut\", \"files\": [{\"url\": \"http://127.0.0.1:%d/cut/blob2.bin\", "
        "\"sha256\": \"%s\", \"size\": %d, \"dest\": \"cut.onnx\"}], \"manifest\": {\"name\": "
        "\"cut\", \"file\": \"cut.onnx\"}},"
        "{\"name\": \"tofu\", \"files\": [{\"url\": \"http://127.0.0.1:%d/f/blob2.bin\", "
        "\"sha256\": null, \"dest\": \"tofu.onnx\"}], \"manifest\": {\"name\": \"tofu\", "
        "\"file\": \"tofu.onnx\", \"sha256\": \"to be verified on first install\"}},"
        "{\"name\": \"short\", \"files\": [{\"url\": \"http://127.0.0.1:%d/f/blob2.bin\", "
        "\"sha256\": null, \"size\": 1000, \"dest\": \"short.onnx\"}], \"manifest\": "
        "{\"name\": \"short\", \"file\": \"short.onnx\"}},"
        "{\"name\": \"local\", \"files\": [{\"url\": \"file://%s/blob.bin\", "
        "\"sha256\": null, \"dest\": \"local.onnx\"}], \"manifest\": {\"name\": \"local\", "
        "\"file\": \"local.onnx\"}}"
        "]}";
    snprintf(buf, sizeof buf, fmt, port, sha_good, BLOB_SIZE, port, 0, port, sha_blob2, BLOB_SIZE,
             port, port, www);
    char cat[400];
    snprintf(cat, sizeof cat, "%s/catalog.json", www);
    write_file(cat, buf, strlen(buf));
    snprintf(dest, sizeof dest, "%s/models", tmp);
}

static const char *manifest_sha(const char *name)
{
    static char sha[80];
    char path[400];
    json_t *m;

    snprintf(path, sizeof path, "%s/%s.json", dest, name);
    m = json_load_file(path, 0, NULL);
    snprintf(sha, sizeof sha, "%s",
             json_string_value(json_object_get(m, "sha256"))
                 ? json_string_value(json_object_get(m, "sha256"))
                 : "");
    json_decref(m);
    return sha;
}

int main(void)
{
    struct aitag_install_params ip = aitag_install_default_params();
    char sha1[65], sha2[65], path[400], catfile[400], url[200], err[1024];
    unsigned char *blob = malloc(BLOB_SIZE);
    int unpinned = -1;

    snprintf(tmp, sizeof tmp, "/tmp/aitag-install-XXXXXX");
    if (!blob || !mkdtemp(tmp))
        return 1;
    snprintf(www, sizeof www, "%s/www", tmp);
    snprintf(req_log, sizeof req_log, "%s/requests.log", tmp);
    mkdir(www, 0700);
    for (int i = 0; i < BLOB_SIZE; i++)
        blob[i] = (unsigned char)((i * 2654435761u) >> 13);
    snprintf(path, sizeof path, "%s/blob.bin", www);
    write_file(path, blob, BLOB_SIZE);
    aitag_sha256_buf(blob, BLOB_SIZE, sha1);
    blob[7] ^= 0x55;
    snprintf(path, sizeof path, "%s/blob2.bin", www);
    write_file(path, blob, BLOB_SIZE);
    aitag_sha256_buf(blob, BLOB_SIZE, sha2);
    free(blob);
    if (start_server() < 0) {
        printf("node not available: installer test skipped\n");
        nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return check_done();
    }
    write_catalog(sha1, sha2);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/f/catalog.json", port);
    ip.catalog = url;
    ip.dest_dir = dest;

    /* Good download, catalog fetched over HTTP. */
    CHECK_EQ_INT(aitag_models_install(&ip, "good", &unpinned, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/good/blob.onnx", dest);
    CHECK_EQ_INT(file_size(path), BLOB_SIZE);
    strncat(path, ".part", sizeof path - strlen(path) - 1);
    CHECK_EQ_INT(file_size(path), -1);
    CHECK_EQ_INT(unpinned, 0);
    CHECK_STR(manifest_sha("good"), sha1);
    CHECK_EQ_INT(log_count("GET /f/blob.bin range=-"), 1);
    /* Already installed and verified: no second download. */
    CHECK_EQ_INT(aitag_models_install(&ip, "good", NULL, err, sizeof err), 0);
    CHECK_EQ_INT(log_count("GET /f/blob.bin"), 1);
    /* A catalog from a server names a local file: refused, nothing copied. */
    CHECK_EQ_INT(aitag_models_install(&ip, "local", NULL, err, sizeof err), AITAG_ERR_INVALID);
    CHECK(strstr(err, "only http and https") != NULL);
    snprintf(path, sizeof path, "%s/local.onnx", dest);
    CHECK_EQ_INT(file_size(path), -1);

    /* The catalog as a file; unknown name. */
    snprintf(catfile, sizeof catfile, "%s/catalog.json", www);
    ip.catalog = catfile;
    CHECK_EQ_INT(aitag_models_install(&ip, "nope", NULL, err, sizeof err), AITAG_ERR_NOTFOUND);
    CHECK(strstr(err, "no model 'nope'") != NULL);
    /* A catalog file of the user's own may name local files. */
    CHECK_EQ_INT(aitag_models_install(&ip, "local", NULL, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/local.onnx", dest);
    CHECK_EQ_INT(file_size(path), BLOB_SIZE);

    /* Wrong checksum: fails clearly, deletes the .part, installs nothing. */
    CHECK_EQ_INT(aitag_models_install(&ip, "badsum", NULL, err, sizeof err), AITAG_ERR_MODEL);
    CHECK(strstr(err, "sha256 mismatch") != NULL && strstr(err, sha1) != NULL);
    snprintf(path, sizeof path, "%s/badsum.onnx.part", dest);
    CHECK_EQ_INT(file_size(path), -1);
    snprintf(path, sizeof path, "%s/badsum.onnx", dest);
    CHECK_EQ_INT(file_size(path), -1);
    snprintf(path, sizeof path, "%s/badsum.json", dest);
    CHECK_EQ_INT(file_size(path), -1);

    /* Interrupted: the first try keeps a .part; the second resumes it with a Range request. */
    CHECK_EQ_INT(aitag_models_install(&ip, "cut", NULL, err, sizeof err), AITAG_ERR_NET);
    CHECK(strstr(err, "resumes") != NULL);
    snprintf(path, sizeof path, "%s/cut.onnx.part", dest);
    {
        long part = file_size(path);
        char want[80];
        CHECK(part > 0 && part < BLOB_SIZE);
        CHECK_EQ_INT(aitag_models_install(&ip, "cut", NULL, err, sizeof err), 0);
        snprintf(want, sizeof want, "GET /cut/blob2.bin range=bytes=%ld-", part);
        CHECK_EQ_INT(log_count(want), 1);
        if (log_count(want) != 1)
            fprintf(stderr, "  want a request '%s' in %s\n", want, req_log);
    }
    CHECK_EQ_INT(file_size(path), -1);
    snprintf(path, sizeof path, "%s/cut.onnx", dest);
    CHECK_EQ_INT(file_size(path), BLOB_SIZE);
    CHECK_STR(manifest_sha("cut"), sha2);

    /* Unpinned checksum: installed, reported, and the computed one recorded. */
    CHECK_EQ_INT(aitag_models_install(&ip, "tofu", &unpinned, err, sizeof err), 0);
    CHECK_EQ_INT(unpinned, 1);
    CHECK_STR(manifest_sha("tofu"), sha2);

    /* A file without a catalog size stops at max_bytes: cut off, the .part deleted. */
    snprintf(path, sizeof path, "%s/tofu.onnx", dest);
    unlink(path);
    ip.max_bytes = 100000;
    CHECK_EQ_INT(aitag_models_install(&ip, "tofu", NULL, err, sizeof err), AITAG_ERR_MODEL);
    CHECK(strstr(err, "more than 100000 bytes (the download limit)") != NULL);
    CHECK_EQ_INT(file_size(path), -1);
    strncat(path, ".part", sizeof path - strlen(path) - 1);
    CHECK_EQ_INT(file_size(path), -1);
    ip.max_bytes = aitag_install_default_params().max_bytes;
    CHECK(ip.max_bytes == 4LL << 30);

    /* A server sending more than the catalog's size is cut off at it. */
    CHECK_EQ_INT(aitag_models_install(&ip, "short", NULL, err, sizeof err), AITAG_ERR_MODEL);
    CHECK(strstr(err, "more than 1000 bytes (the catalog's size)") != NULL);
    snprintf(path, sizeof path, "%s/short.onnx.part", dest);
    CHECK_EQ_INT(file_size(path), -1);

    /* The list the CLI prints for --list. */
    {
        char **lines = NULL;
        size_t n = 0;
        CHECK_EQ_INT(aitag_models_catalog_list(&ip, &lines, &n, err, sizeof err), 0);
        CHECK_EQ_INT(n, 6);
        if (n == 6)
            CHECK_STR(lines[0], "good\tMIT\ttest");
        for (size_t i = 0; i < n; i++)
            free(lines[i]);
        free(lines);
    }
    /* A missing catalog is an error, not a crash. */
    ip.catalog = "/nonexistent/catalog.json";
    CHECK_EQ_INT(aitag_models_install(&ip, "good", NULL, err, sizeof err), AITAG_ERR_INVALID);

    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_done();
}
