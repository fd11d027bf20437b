/*
 * table.c - every option and every command of aitag, as data.
 *
 * To add an option, add a row: name, type, default, domain (range "LO..HI", enum values
 * "a|b|c", or the metavariable of a string), the commands (scopes) that take it, flags, help.
 * Its flag, config key, environment variable, validation, --help line, docs/cli.md row, man
 * page entry and completions follow. To add a command, add a row to commands[] and dispatch it
 * in src/cli/main.c; the test tests/integration/help.sh then checks its --help.
 */
#include <string.h>

#include "aitag/options.h"

/* clang-format off */
static const struct aitag_opt_def options[] = {
    /* name              type            default  domain     scopes  flags  help */
    {"catalog", AITAG_OPT_STR, NULL, "FILE|URL", "tag show search prune people export review serve worker enqueue jobs catalog", 0,
     "the catalog: a SQLite file, or a postgresql:// URL shared by several machines (docs/scale.md) (default: $XDG_DATA_HOME/aitag/catalog.db)"},
    {"analyzers", AITAG_OPT_STR, "faces,text,cues", "LIST", "tag worker", 0,
     "comma-separated analyzers to run (see `aitag models list`)"},
    {"interval", AITAG_OPT_NUM, "2", "0.01..3600", "tag worker", 0,
     "seconds between sampled video frames"},
    {"threads", AITAG_OPT_INT, "2", "1..256", "tag worker", 0,
     "CPU threads shared by decoding and inference"},
    {"threshold", AITAG_OPT_NUM, NULL, "0..1", "tag people-name people-merge people-split people-ignore people-unignore people-forget people-recluster people-update review-accept review-reject review-rename review-bounds review-thresholds review-learn review-unlearn review-rules serve worker", 0,
     "default confidence threshold for tags (rules file: 0.5)"},
    {"rules", AITAG_OPT_STR, NULL, "FILE", "tag people-name people-merge people-split people-ignore people-unignore people-forget people-recluster people-update review-accept review-reject review-rename review-bounds review-thresholds review-learn review-unlearn review-rules serve worker", 0,
     "tag rules file (default: $XDG_CONFIG_HOME/aitag/rules.json if present)"},
    {"context", AITAG_OPT_STR, NULL, "FILE", "tag show search people-name people-merge people-split people-ignore people-unignore people-forget people-recluster people-update review-accept review-reject review-rename review-bounds review-thresholds review-learn review-unlearn review-rules serve worker", 0,
     "context rules file, over the shipped ones (default: $XDG_CONFIG_HOME/aitag/context.json if present; docs/context.md)"},
    {"context-defaults", AITAG_OPT_BOOL, "true", NULL, "tag show search people-name people-merge people-split people-ignore people-unignore people-forget people-recluster people-update review-accept review-reject review-rename review-bounds review-thresholds review-learn review-unlearn review-rules serve worker", 0,
     "apply the shipped context rules (models/context/defaults.json)"},
    {"markers", AITAG_OPT_BOOL, "true", NULL, "tag people-name people-merge people-split people-ignore people-unignore people-forget people-recluster people-update review-accept review-reject review-rename review-bounds review-thresholds review-learn review-unlearn review-rules serve worker", 0,
     "write time-ranged markers for videos"},
    {"models-dir", AITAG_OPT_STR, NULL, "DIR", "tag models gateway-serve worker", 0,
     "folder of model manifests (*.json)"},
    {"weights-dir", AITAG_OPT_STR, NULL, "DIR", "tag models gateway-serve worker", 0,
     "folder of model weight files named by manifests"},
    {"json", AITAG_OPT_BOOL, "false", NULL, "tag show search prune people models gateway-keys gateway-usage review worker enqueue jobs catalog-check", 0,
     "print JSON (one object per line) on stdout"},
    {"dry-run", AITAG_OPT_BOOL, "false", NULL, "tag prune", 0,
     "show what would be done; run and write nothing"},
    {"force", AITAG_OPT_BOOL, "false", NULL, "tag worker", 0,
     "re-analyse files even when unchanged"},
    {"progress", AITAG_OPT_ENUM, "auto", "auto|always|never|json", "tag", 0,
     "progress bar on stderr: auto (on a terminal), always, never; json: a JSON line "
     "{\"progress\": {done, total, media_done, media_total, elapsed, eta}} at most 4 times a second"},
    {"quiet", AITAG_OPT_BOOL, "false", NULL, "tag", 0,
     "no line per item and no progress bar: errors (one line each, stderr) and the summary"},
    {"verbose", AITAG_OPT_BOOL, "false", NULL, "tag", 0,
     "also print the stored results of skipped (unchanged) items"},
    {"strategy", AITAG_OPT_ENUM, "auto", "auto|sequential|seek", "tag worker", 0,
     "how the decoder reaches sample times (never changes which frames)"},
    {"objects-mirror", AITAG_OPT_BOOL, "true", NULL, "tag worker", 0,
     "objects: also run CenterNet on the mirrored frame when a detection is ambiguous (more "
     "accurate; up to twice the cost)"},
    {"face-embedder", AITAG_OPT_ENUM, "faceres", "faceres|mobilefacenet", "tag worker", 0,
     "face_attrs: the model whose embedding each face carries (docs/face-embeddings.md)"},
    {"sampling", AITAG_OPT_ENUM, "exact", "exact|keyframes|adaptive", "tag worker", 0,
     "frame per sample time: exact, keyframes (a keyframe within half an interval; faster, "
     "approximate) or adaptive (keyframes first, more frames only where findings change)"},
    {"vlm-url", AITAG_OPT_STR, "http://127.0.0.1:8089/v1", "URL", "tag worker", 0,
     "vlm analyzer: OpenAI-compatible base URL ending in /v1 (docs/vlm.md)"},
    {"vlm-route", AITAG_OPT_STR, "chat", "NAME", "tag worker", 0,
     "vlm analyzer: the model (gateway route) asked"},
    {"vlm-key-env", AITAG_OPT_STR, "AITAG_GATEWAY_KEY", "VAR", "tag worker", 0,
     "vlm analyzer: environment variable holding the bearer key"},
    {"vocabulary", AITAG_OPT_STR, NULL, "FILE", "tag worker", 0,
     "vlm analyzer: file of allowed tags, one per line (required with vlm)"},
    {"describe", AITAG_OPT_BOOL, "false", NULL, "tag worker", 0,
     "vlm analyzer: also ask for a one-line description per item"},
    {"vlm-every", AITAG_OPT_NUM, "30", "0..86400", "tag worker", 0,
     "vlm analyzer: seconds between VLM calls within a video"},
    {"speech-engine", AITAG_OPT_ENUM, "pocketsphinx", "pocketsphinx|remote", "tag worker", 0,
     "speech analyzer: PocketSphinx on this machine, or a remote OpenAI-compatible "
     "transcription server (docs/speech.md)"},
    {"speech-url", AITAG_OPT_STR, NULL, "URL", "tag worker", 0,
     "speech analyzer, remote: the server's base URL (an aitag gateway's /v1, or a Whisper "
     "server's)"},
    {"speech-model", AITAG_OPT_STR, "whisper-1", "NAME", "tag worker", 0,
     "speech analyzer, remote: the model (gateway route) asked"},
    {"speech-key-env", AITAG_OPT_STR, "AITAG_GATEWAY_KEY", "VAR", "tag worker", 0,
     "speech analyzer, remote: environment variable holding the bearer key"},
    {"speech-language", AITAG_OPT_STR, NULL, "CODE", "tag worker", 0,
     "speech analyzer, remote: the language spoken (ISO 639-1), if known"},
    {"speech-accurate", AITAG_OPT_BOOL, "false", NULL, "tag worker", 0,
     "speech analyzer, pocketsphinx: its own slower search (better in noise; docs/speech.md)"},
    {"keywords", AITAG_OPT_STR, NULL, "LIST", "tag worker", 0,
     "speech analyzer: comma-separated words that become keyword:WORD tags when said"},
    {"queue", AITAG_OPT_INT, "8", "1..1024", "tag worker", 0,
     "frames decoded ahead of inference (bounded queue)"},
    {"max-megapixels", AITAG_OPT_NUM, "64", "0.01..1000", "tag worker", 0,
     "refuse pictures over this many megapixels, from their header, before decoding"},
    {"max-duration", AITAG_OPT_NUM, "86400", "1..1e7", "tag worker", 0,
     "refuse videos longer than this many seconds, and stop one whose frames run past it (a "
     "file still being written, timestamps jumping ahead; docs/limits.md)"},
    {"max-frames", AITAG_OPT_INT, "10000000", "1..1e12", "tag worker", 0,
     "stop an item after decoding this many frames (docs/limits.md)"},
    {"max-streams", AITAG_OPT_INT, "256", "1..100000", "tag worker", 0,
     "refuse files with more streams than this, from their header (docs/limits.md)"},
    {"item-timeout", AITAG_OPT_NUM, "21600", "0.1..1e7", "tag worker", 0,
     "stop an item after this many seconds of wall-clock time from its opening (docs/limits.md)"},
    {"item-cpu", AITAG_OPT_NUM, "86400", "0.1..1e8", "tag worker", 0,
     "stop an item after this many seconds of CPU time from its opening (docs/limits.md)"},
    {"gateway", AITAG_OPT_STR, NULL, "URL", "tag worker", 0,
     "tag through this aitag gateway; the catalog stays local"},
    {"gateway-route", AITAG_OPT_STR, NULL, "NAME", "tag worker", 0,
     "the gateway's tagging route (default: its first local route)"},
    {"gateway-key-env", AITAG_OPT_STR, "AITAG_GATEWAY_KEY", "VAR", "tag worker", 0,
     "environment variable holding the gateway's API key"},
    {"local-only", AITAG_OPT_BOOL, "false", NULL, "tag worker", 0,
     "media never leaves this machine: loopback gateways and VLM endpoints only"},
    {"people", AITAG_OPT_BOOL, "true", NULL, "tag worker", 0,
     "after a run that used face_attrs, assign its new faces to people (docs/people.md)"},
    {"max-distance", AITAG_OPT_NUM, NULL, "0.01..1.99", "tag people-recluster people-update worker", 0,
     "people: cosine distance at most for a face to join a person (default 0.31, measured in "
     "docs/people.md)"},
    {"min-faces", AITAG_OPT_INT, NULL, "1..1000000", "tag people-recluster people-update worker", 0,
     "people: good faces a group needs to become a new person (default 2)"},
    {"min-quality", AITAG_OPT_NUM, NULL, "0..1", "tag people-recluster people-update worker", 0,
     "people: faces under this quality never start a person (default 0.2)"},
    {"embed-url", AITAG_OPT_STR, NULL, "URL", "search", 0,
     "also rank by an embedding model: an OpenAI-compatible /v1/embeddings (an aitag gateway "
     "route to a CLIP text tower) whose vectors match --embed-analyzer's"},
    {"embed-model", AITAG_OPT_STR, "clip-text", "NAME", "search", 0,
     "the model (gateway route) that embeds the words"},
    {"embed-analyzer", AITAG_OPT_STR, "clip", "NAME", "search", 0,
     "the analyzer whose stored embeddings the words are compared with"},
    {"embed-key-env", AITAG_OPT_STR, "AITAG_GATEWAY_KEY", "VAR", "search", 0,
     "environment variable holding the embedding server's bearer key"},
    {"tag", AITAG_OPT_STR, NULL, "NAME", "search", AITAG_OPT_FLAG_ONLY | AITAG_OPT_REPEAT,
     "a tag name (repeatable; exact, case-insensitive)"},
    {"person", AITAG_OPT_STR, NULL, "NAME", "search", AITAG_OPT_FLAG_ONLY | AITAG_OPT_REPEAT,
     "a person's name (repeatable; exact, case-insensitive; see `aitag people list`)"},
    {"any", AITAG_OPT_BOOL, "false", NULL, "search", 0,
     "match any of the --tag and --person names instead of all"},
    {"who", AITAG_OPT_STR, NULL, "NAME", "review-accept review-reject review-rename review-bounds review-learn serve", 0,
     "who makes the decision, recorded with it (default: $USER)"},
    {"bind", AITAG_OPT_STR, "127.0.0.1", "ADDR", "serve", 0,
     "address to listen on; other than loopback needs --password-file"},
    {"port", AITAG_OPT_INT, "7878", "0..65535", "serve", 0, "port to listen on (0: any free one)"},
    {"root", AITAG_OPT_STR, NULL, "DIR", "serve", AITAG_OPT_REPEAT,
     "a library root: media outside every root are never served (repeatable; default: any "
     "catalog item)"},
    {"cache-dir", AITAG_OPT_STR, NULL, "DIR", "serve", 0,
     "thumbnails (default: $XDG_CACHE_HOME/aitag/thumbs)"},
    {"web-dir", AITAG_OPT_STR, NULL, "DIR", "serve", 0,
     "the app's front end (default: the installed share/aitag/web)"},
    {"password-file", AITAG_OPT_STR, NULL, "FILE", "serve", 0,
     "a password hash from --hash-password: every request then needs a login"},
    {"hash-password", AITAG_OPT_BOOL, "false", NULL, "serve", AITAG_OPT_FLAG_ONLY,
     "read a password on stdin, print its hash for --password-file, and exit"},
    {"tag", AITAG_OPT_STR, NULL, "NAME", "review-queue", AITAG_OPT_FLAG_ONLY,
     "only this tag's entries"},
    {"limit", AITAG_OPT_INT, NULL, "1..1000000", "review-queue", AITAG_OPT_FLAG_ONLY,
     "at most this many entries"},
    {"min-decisions", AITAG_OPT_INT, NULL, "1..1000000", "review-thresholds", AITAG_OPT_FLAG_ONLY,
     "labels with at least this many judged items (default 5)"},
    {"min-rejections", AITAG_OPT_INT, NULL, "1..1000000", "review-rules", AITAG_OPT_FLAG_ONLY,
     "labels with at least this many rejected items; a rule must explain as many (default 3)"},
    {"why", AITAG_OPT_BOOL, "false", NULL, "show", AITAG_OPT_FLAG_ONLY,
     "also say which evidence made each concept of the context rules, and what they "
     "suppressed (docs/context.md)"},
    {"srt", AITAG_OPT_STR, NULL, "FILE", "export", AITAG_OPT_FLAG_ONLY,
     "write the transcript as SubRip subtitles (FILE, or - for standard output)"},
    {"vtt", AITAG_OPT_STR, NULL, "FILE", "export", AITAG_OPT_FLAG_ONLY,
     "write the transcript as WebVTT subtitles (FILE, or - for standard output)"},
    {"ignored", AITAG_OPT_BOOL, "false", NULL, "people-list", AITAG_OPT_FLAG_ONLY,
     "list the ignored people too (marked \"ignored\")"},
    {"crops", AITAG_OPT_STR, NULL, "DIR", "people-show", AITAG_OPT_FLAG_ONLY,
     "write each face as a JPEG crop DIR/face-FACE_ID.jpg (DIR is created)"},
    {"user-models-dir", AITAG_OPT_STR, NULL, "DIR", "models", 0,
     "your own and installed models (default: $XDG_DATA_HOME/aitag/models)"},
    {"manifest", AITAG_OPT_STR, NULL, "FILE", "models-add", AITAG_OPT_FLAG_ONLY,
     "the manifest (JSON) describing the model file"},
    {"catalog", AITAG_OPT_STR, NULL, "FILE", "models-install", AITAG_OPT_FLAG_ONLY,
     "a model catalog file (default: the bundled models/catalog/catalog.json)"},
    {"catalog-url", AITAG_OPT_STR, NULL, "URL", "models-install", AITAG_OPT_FLAG_ONLY,
     "a model catalog to download"},
    {"list", AITAG_OPT_BOOL, "false", NULL, "models-install", AITAG_OPT_FLAG_ONLY,
     "list the models the catalog offers"},
    {"config", AITAG_OPT_STR, NULL, "FILE", "gateway-serve", AITAG_OPT_FLAG_ONLY,
     "the gateway's JSON config (docs/gateway.md; required)"},
    {"db", AITAG_OPT_STR, NULL, "FILE", "gateway-keys gateway-usage", AITAG_OPT_FLAG_ONLY,
     "the gateway's keys and usage database (required)"},
    {"name", AITAG_OPT_STR, NULL, "NAME", "gateway-keys-create", AITAG_OPT_FLAG_ONLY,
     "a label for the key"},
    {"routes", AITAG_OPT_STR, NULL, "LIST", "gateway-keys-create", AITAG_OPT_FLAG_ONLY,
     "comma-separated routes the key may use (default: all)"},
    {"rpm", AITAG_OPT_INT, "0", "0..1073741824", "gateway-keys-create", AITAG_OPT_FLAG_ONLY,
     "requests per minute (0: no limit)"},
    {"tpm", AITAG_OPT_INT, "0", "0..1073741824", "gateway-keys-create", AITAG_OPT_FLAG_ONLY,
     "tokens per minute (0: no limit)"},
    {"concurrency", AITAG_OPT_INT, "0", "0..1073741824", "gateway-keys-create",
     AITAG_OPT_FLAG_ONLY, "requests in flight at once (0: the gateway's key_concurrency)"},
    {"budget", AITAG_OPT_NUM, NULL, "0.000001..1000000000000", "gateway-keys-create",
     AITAG_OPT_FLAG_ONLY, "spending limit in USD per budget period"},
    {"budget-period", AITAG_OPT_ENUM, NULL, "day|month", "gateway-keys-create",
     AITAG_OPT_FLAG_ONLY, "the period a budget covers (default: the whole key's life)"},
    {"path-map", AITAG_OPT_STR, "", "MAPS", "worker enqueue", 0,
     "the library as this machine mounts it: LIBRARY_PREFIX=>LOCAL_PREFIX;... (the catalog names items by their library path; docs/scale.md)"},
    {"worker-name", AITAG_OPT_STR, NULL, "NAME", "worker", 0,
     "this worker's name in aitag jobs (default: HOST:PID)"},
    {"lease", AITAG_OPT_INT, "60", "5..86400", "worker", 0,
     "seconds a claimed job stays this worker's without a heartbeat (renewed every third of it); a dead worker's job is claimed again after it"},
    {"max-attempts", AITAG_OPT_INT, "5", "1..100", "worker", 0,
     "tries of a job before it is dead (kept with its error: aitag jobs --retry-dead)"},
    {"backoff", AITAG_OPT_NUM, "10", "0..3600", "worker", 0,
     "seconds before a failed job is tried again, doubled per attempt (at most an hour)"},
    {"drain", AITAG_OPT_BOOL, "false", NULL, "worker", AITAG_OPT_FLAG_ONLY,
     "stop once no job is queued or running, instead of waiting for more"},
    {"priority", AITAG_OPT_INT, "-1", "-1..1000", "enqueue", 0,
     "higher is claimed first; -1: new paths 10, paths the catalog holds (re-tags) 0"},
    {"quick", AITAG_OPT_BOOL, "false", NULL, "catalog-check", AITAG_OPT_FLAG_ONLY,
     "PRAGMA quick_check instead of integrity_check: reads every page but skips comparing "
     "indexes with their tables (several times faster on a large catalog)"},
    {"retry-dead", AITAG_OPT_BOOL, "false", NULL, "jobs", AITAG_OPT_FLAG_ONLY,
     "queue the dead jobs again, their attempts reset"},
    {"log-level", AITAG_OPT_ENUM, "warn", "error|warn|info|debug",
     "tag show search people models gateway export review serve worker enqueue jobs catalog", 0, "logs on stderr from this level up"},
    {"log-level", AITAG_OPT_ENUM, "info", "error|warn|info|debug", "plugin", 0,
     "Stash log lines from this level up"},
};
/* clang-format on */
_Static_assert(sizeof options / sizeof *options <= AITAG_OPTS_MAX, "raise AITAG_OPTS_MAX");

static const struct aitag_cmd_def commands[] = {
    {"tag", "[OPTIONS] PATH...", "tag files and folders (recursive) into the catalog",
     "Unchanged files already analysed with the same models and settings are skipped; a run "
     "killed at any moment loses at most the file in flight."},
    {"enqueue", "[OPTIONS] PATH...",
     "put files and folders (recursive) into the catalog's job queue, for aitag worker",
     "A path already queued or running is not queued twice. New paths come before re-tags. "
     "With a PostgreSQL catalog (--catalog postgresql://...) every machine's workers share the "
     "queue (docs/scale.md)."},
    {"worker", "[OPTIONS]", "tag the jobs of the catalog's queue until stopped (or --drain)",
     "Takes the tagging options of aitag tag, and --path-map for where this machine mounts the "
     "library. SIGINT/SIGTERM: finish the job in flight, then stop; a second one stops at "
     "once (the job goes back to the queue)."},
    {"jobs", "[OPTIONS]", "the job queue: depth, workers, throughput, failures",
     "A worker not seen for three leases is shown as lost; its job is claimed again once its "
     "lease runs out."},
    {"show", "[OPTIONS] FILE...", "print what the catalog holds for files", NULL},
    {"search", "WORDS... | --tag NAME|--person NAME... [OPTIONS]",
     "find media by meaning (WORDS, ranked, with why) or by exact tags and people (all of them, "
     "or any with --any)",
     "WORDS are related to every tag through WordNet (the same word, a synonym, a kind of it: "
     "\"animal\" finds horses; a sibling: \"party\" finds a celebration) and through the context "
     "rules (the labels a related concept is made of), and matched in recognised text; each "
     "line gives the path, a score and why (docs/context.md). --tag and --person match names "
     "exactly."},
    {"export", "--srt FILE | --vtt FILE [OPTIONS] MEDIA",
     "write what was said in a video (the speech analyzer's transcript) as subtitles",
     "One cue per spoken segment, its text wrapped at 42 characters a line; FILE is written "
     "whole or not at all. A video tagged without the speech analyzer has no transcript."},
    {"prune", "[OPTIONS]", "delete catalog items whose files are gone (marked missing by tag)",
     "Deletes the items `aitag tag` marked missing, with all their results; an item whose file "
     "is back is kept and unmarked. Takes no paths."},
    {"catalog", "check|backup|restore [OPTIONS]",
     "the catalog file's upkeep: check it for damage, back it up, restore a backup "
     "(docs/catalog.md)",
     NULL},
    {"catalog check", "[--quick] [OPTIONS]",
     "check the catalog for damage; exit 0 sound, 1 damaged (each problem on stdout), 3 "
     "unreadable",
     "A SQLite catalog: integrity_check (--quick: quick_check) and foreign_key_check. A "
     "PostgreSQL catalog: connects and checks the schema version (the server guards its own "
     "pages and references). A catalog whose last session did not close cleanly is also "
     "checked (quick_check) when it is next opened."},
    {"catalog backup", "DEST [OPTIONS]",
     "write a consistent copy of the catalog to the new file DEST, and DEST.sha256",
     "Safe while aitag tag, worker or serve write: the copy is the catalog as of one moment "
     "(VACUUM INTO). It is checked before it takes its name. A PostgreSQL catalog is backed up "
     "with pg_dump instead."},
    {"catalog restore", "BACKUP [OPTIONS]",
     "replace the catalog by a backup, verified first; the old file is kept aside",
     "The backup is copied beside the catalog and verified (BACKUP.sha256 when present, "
     "integrity_check, a known schema) before anything changes; a changed or damaged backup is "
     "refused. Refused while any process has the catalog open. The old catalog is moved to "
     "CATALOG.before-restore-TIME. A PostgreSQL catalog is restored with pg_restore instead."},
    {"models", "list|verify|add|remove|install [OPTIONS]",
     "analyzers and models: list, verify, add your own, install from a catalog", NULL},
    {"models list", "[OPTIONS]", "analyzers and the models they use, with source and licence",
     NULL},
    {"models verify", "[OPTIONS]", "check every model file's sha256 against its manifest", NULL},
    {"models add", "FILE.onnx --manifest M.json",
     "check and copy a custom model into the user models dir; it becomes an analyzer "
     "(docs/models.md)",
     NULL},
    {"models remove", "NAME", "delete a user model", NULL},
    {"models install", "NAME [--catalog FILE | --catalog-url URL] | --list",
     "download a model from a catalog into the user models dir", NULL},
    {"people", "list|show|name|merge|split|ignore|unignore|forget|recluster|update [OPTIONS]",
     "the people found in the media: list, name, merge, split, ignore, unignore, forget, "
     "recluster "
     "(docs/people.md)",
     NULL},
    {"people list", "[--ignored] [OPTIONS]",
     "the people found: id, name, faces, media and cover face",
     NULL},
    {"people show", "ID [--crops DIR] [OPTIONS]",
     "a person's faces: media, time, box, quality, how each was assigned", NULL},
    {"people name", "ID NAME [OPTIONS]",
     "name (or rename) a person; names are unique, ignoring case",
     "A named person becomes the tag person:NAME on their media and, in videos, markers of when "
     "they are on screen (the rules file applies to the label person:NAME like to any label)."},
    {"people merge", "ID ID... [OPTIONS]",
     "merge people into the first (the same person found twice)", NULL},
    {"people split", "ID FACE_ID... [OPTIONS]",
     "move faces out of a person into a new one; they never go back to it", NULL},
    {"people ignore", "ID [OPTIONS]",
     "hide a person: kept so its faces never form a new person, but not listed or tagged", NULL},
    {"people unignore", "ID [OPTIONS]",
     "show an ignored person again: listed, tagged and searchable, with the same faces", NULL},
    {"people forget", "ID [OPTIONS]",
     "delete a person with their faces and embeddings, leaving nothing in the catalog file",
     NULL},
    {"people recluster", "[OPTIONS]",
     "group every face again from scratch; person ids, names and your changes stay",
     "Faces you assigned, people with a name, ignored people and faces you took out of a "
     "person are never undone; each new group keeps the id of the old person holding most of "
     "it."},
    {"people update", "[OPTIONS]",
     "assign the faces without a person (what `aitag tag` does after a run with face_attrs)",
     NULL},
    {"review", "accept|reject|rename|bounds|queue|log|thresholds|learn|unlearn|rules [OPTIONS]",
     "correct tags and markers; decisions are kept and no later run undoes them "
     "(docs/review.md)",
     NULL},
    {"review accept", "FILE TAG [START END] [OPTIONS]",
     "keep a tag (or, with START END, a marker) even when a later threshold would drop it",
     NULL},
    {"review reject", "FILE TAG [START END] [OPTIONS]",
     "remove a tag and its markers (or, with START END, one marker) for good", NULL},
    {"review rename", "FILE TAG NEW_TAG [START END] [OPTIONS]",
     "call a tag and its markers (or one marker) by another name on this item", NULL},
    {"review bounds", "FILE TAG START END NEW_START NEW_END [OPTIONS]",
     "move a marker's start and end",
     "A marker is named by its tag and its bounds as shown; a re-run that moves an edge by a "
     "sample still meets the decision."},
    {"review queue", "[--tag NAME] [--limit N] [OPTIONS]",
     "tags not yet judged, the most useful to judge first (low confidence, frequent tags)",
     NULL},
    {"review log", "[FILE] [OPTIONS]", "every decision made, oldest first: who, when, what",
     NULL},
    {"review thresholds", "[--min-decisions N] [OPTIONS]",
     "thresholds fitted to your decisions, with what each would change",
     "For every label with enough judged items: the threshold that maximises F1 on your accepts "
     "and rejects, how many items would gain or lose the tag, and precision and recall on "
     "decisions held out of the fit. Nothing changes until you accept one (review learn)."},
    {"review learn", "LABEL [THRESHOLD] [OPTIONS]",
     "use the fitted threshold (or THRESHOLD) for a label from now on; its items re-derive",
     NULL},
    {"review unlearn", "LABEL [OPTIONS]", "go back to the rules' threshold for a label", NULL},
    {"review rules", "[--min-rejections N] [OPTIONS]",
     "context rules proposed from repeated rejections (\"no sports ball without a person\")",
     "A rule is proposed when it would remove at least N of a label's rejected items and none "
     "of its accepted ones; each comes as the context file's JSON, to add to the \"suppress\" "
     "list of ~/.config/aitag/context.json (docs/context.md)."},
    {"serve", "[OPTIONS]", "the review app: browse, review and correct tags in a browser "
     "(docs/review.md)",
     "Prints \"listening on http://ADDR:PORT/\" once ready and stops on SIGINT/SIGTERM. Binds "
     "to 127.0.0.1; elsewhere only with --password-file. Corrections made in the app are the "
     "decisions of `aitag review`."},
    {"plugin", "[OPTIONS] < INPUT.json", "run as a Stash plugin (docs/stash.md)",
     "Reads Stash's plugin input on stdin, writes one JSON object {\"output\", \"error\"} on "
     "stdout, logs on stderr in Stash's format. Modes (args.mode): hook, queue, "
     "untagged_scenes, untagged_images, retag_all, scene, image (args.ids), people, enqueue."},
    {"gateway", "serve|keys|usage [OPTIONS]", "the AI gateway (docs/gateway.md)", NULL},
    {"gateway serve", "--config FILE [OPTIONS]", "serve the gateway's HTTP API",
     "Prints \"listening on ADDR:PORT\" once ready and stops on SIGINT/SIGTERM."},
    {"gateway keys", "create|list|revoke --db FILE [OPTIONS]", "manage the gateway's API keys",
     NULL},
    {"gateway keys create", "--db FILE [OPTIONS]",
     "create a key; it is printed once, the gateway stores its sha256", NULL},
    {"gateway keys list", "--db FILE [OPTIONS]", "list the keys, their limits and spending", NULL},
    {"gateway keys revoke", "--db FILE ID", "revoke a key by id", NULL},
    {"gateway usage", "--db FILE [OPTIONS]", "requests, tokens and cost per day, key and route",
     NULL},
};

const struct aitag_opt_def *aitag_option_table(size_t *n)
{
    *n = sizeof options / sizeof *options;
    return options;
}

const struct aitag_cmd_def *aitag_command_table(size_t *n)
{
    *n = sizeof commands / sizeof *commands;
    return commands;
}

const struct aitag_cmd_def *aitag_command_find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int aitag_option_accepts(const struct aitag_opt_def *d, const char *cmd)
{
    const char *p = d->commands;

    if (strcmp(p, "*") == 0)
        return 1;
    while (*p) {
        size_t len = strcspn(p, " "), i = 0;
        /* scope p[0..len) matches cmd when equal, or a prefix ending at a word boundary */
        while (i < len && cmd[i] && (cmd[i] == p[i] || (cmd[i] == ' ' && p[i] == '-')))
            i++;
        if (i == len && (cmd[i] == '\0' || cmd[i] == ' '))
            return 1;
        p += len;
        while (*p == ' ')
            p++;
    }
    return 0;
}
