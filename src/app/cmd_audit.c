/*
 * src/app/cmd_audit.c
 * `mcpgw audit verify|search|proof|export|keys|checkpoint`: offline work on audit logs
 * (src/audit/audit_read.h does it; this file parses arguments and prints).
 * A log is chosen with --dir <log folder> (e.g. a copy of the S3 archive), or --log <id> under
 * the configured audit folder (GW_AUDIT_DIR); verify checks every log there when neither is
 * given. Verification keys: --key (repeatable) or --keys-file; else the folder's verifier-keys
 * file, with a note that independent verification should pass the published keys.
 * Exit status: 0 success, 1 verification failed / not found, 2 usage.
 */
#include "app.h"

#include "audit/audit.h"
#include "audit/audit_read.h"
#include "core/alloc.h"
#include "core/json.h"
#include "pii/pii.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_KEYS 16

struct audit_args {
    const char *config, *dir, *log, *keys_file, *out, *db, *decision;
    bool newest_first;
    const char *keys[MAX_KEYS];
    int nkeys;
    bool json;
    struct gw_audit_query q;
    long long seq, size, consistency, to;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: mcpgw audit <verify|search|proof|export|keys|checkpoint> [options]\n\n"
            "  verify      recompute every leaf and tree head, check the hash chain, sequence,\n"
            "              canonical encoding, checkpoint signatures and consistency; report\n"
            "              gaps, truncation, edits and reordering with their location; with\n"
            "              --db URL --log ID a log held in PostgreSQL (a dead pod's included),\n"
            "              straight from its rows\n"
            "  search      print matching records (JSON lines); with --db URL every replica's\n"
            "              log held in PostgreSQL, by time ({\"log\":ID,\"record\":{...}} lines;\n"
            "              --log ID one of them, --decision D, --newest-first)\n"
            "  proof       inclusion proof of a record (--seq N [--size S]) or consistency\n"
            "              proof between two checkpoints (--consistency M [--to N]); with\n"
            "              --db URL --log ID --seq N: a record of any replica's log held in\n"
            "              PostgreSQL, in that log's latest checkpoint there (check its\n"
            "              signature with the keys)\n"
            "  export      --out DIR: copy a log in the on-disk layout (safe while it is\n"
            "              written: the open segment up to its last whole record); with\n"
            "              --db URL --log ID export a log held in PostgreSQL\n"
            "  keys        the verifier keys recorded for the audit folder\n"
            "  checkpoint  the latest signed checkpoint\n\n"
            "Options:\n"
            "  --dir DIR         a log folder (as written by the gateway or downloaded from S3)\n"
            "  --log ID          a log under GW_AUDIT_DIR (default: the only one there)\n"
            "  --key VKEY        a trusted verifier key name+hash+key (repeatable)\n"
            "  --keys-file FILE  trusted verifier keys, one per line\n"
            "  --json            machine-readable output (verify)\n"
            "  --tool T --subject S --request-id R --trace-id T --outcome O --kind K\n"
            "  --method M --since ISO --until ISO --from-seq N --limit N   (search)\n"
            "  --decision allow|deny|dry_run_deny|error|reject|admin --newest-first (search --db)\n"
            "  --config FILE     settings file\n");
}

static int parse(int argc, char **argv, struct audit_args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"dir", required_argument, NULL, 'd'},
        {"log", required_argument, NULL, 'l'},    {"key", required_argument, NULL, 'k'},
        {"keys-file", required_argument, NULL, 'K'}, {"json", no_argument, NULL, 'j'},
        {"out", required_argument, NULL, 'o'},    {"db", required_argument, NULL, 'B'},
        {"tool", required_argument, NULL, 't'},   {"subject", required_argument, NULL, 's'},
        {"request-id", required_argument, NULL, 'r'},
        {"trace-id", required_argument, NULL, 'T'},
        {"outcome", required_argument, NULL, 'O'}, {"kind", required_argument, NULL, 'i'},
        {"method", required_argument, NULL, 'm'}, {"since", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'U'},  {"from-seq", required_argument, NULL, 'F'},
        {"limit", required_argument, NULL, 'L'},  {"seq", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 'z'},   {"consistency", required_argument, NULL, 'C'},
        {"to", required_argument, NULL, 'Z'},     {"help", no_argument, NULL, 'h'},
        {"decision", required_argument, NULL, 'D'}, {"newest-first", no_argument, NULL, 'N'},
        {NULL, 0, NULL, 0}};
    int ch;
    optind = 2;
    a->seq = a->size = a->consistency = a->to = -1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        long long num = optarg ? strtoll(optarg, &end, 10) : 0; /* checksrc: allow */
        bool bad_num = !optarg || !*optarg || (end && *end) || num < 0;
        switch (ch) {
        case 'c': a->config = optarg; break;
        case 'd': a->dir = optarg; break;
        case 'l': a->log = optarg; break;
        case 'k':
            if (a->nkeys < MAX_KEYS)
                a->keys[a->nkeys++] = optarg;
            break;
        case 'K': a->keys_file = optarg; break;
        case 'j': a->json = true; break;
        case 'o': a->out = optarg; break;
        case 'B': a->db = optarg; break;
        case 'D': a->decision = optarg; break;
        case 'N': a->newest_first = true; break;
        case 't': a->q.tool = optarg; break;
        case 's': a->q.subject = optarg; break;
        case 'r': a->q.request_id = optarg; break;
        case 'T': a->q.trace_id = optarg; break;
        case 'O': a->q.outcome = optarg; break;
        case 'i': a->q.kind = optarg; break;
        case 'm': a->q.method = optarg; break;
        case 'S': a->q.since = optarg; break;
        case 'U': a->q.until = optarg; break;
        case 'F':
        case 'L':
        case 'n':
        case 'z':
        case 'C':
        case 'Z':
            if (bad_num) {
                fprintf(stderr, "mcpgw audit: a non-negative integer is needed, got '%s'\n",
                        optarg ? optarg : "");
                return 2;
            }
            if (ch == 'F')
                a->q.from_seq = (uint64_t)num;
            else if (ch == 'L')
                a->q.limit = (size_t)num;
            else if (ch == 'n')
                a->seq = num;
            else if (ch == 'z')
                a->size = num;
            else if (ch == 'C')
                a->consistency = num;
            else
                a->to = num;
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return 2;
        }
    }
    return 0;
}

static void print_json(const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (s)
        puts(s);
    free(s); /* checksrc: allow (jansson's allocator) */
}

/* The verifier keys to trust. */
static size_t load_keys(const struct audit_args *a, const char *root,
                        struct gw_note_verifier **vs, bool *from_folder)
{
    size_t n = 0;
    *from_folder = false;
    struct gw_error err = {0};
    for (int i = 0; i < a->nkeys && n < MAX_KEYS; i++) {
        if (gw_note_verifier_new(a->keys[i], &vs[n], &err) == GW_OK)
            n++;
        else
            fprintf(stderr, "mcpgw audit: --key %s: %s\n", a->keys[i], err.msg);
    }
    char path[4096];
    const char *file = a->keys_file;
    if (!file && n == 0) {
        snprintf(path, sizeof(path), "%s/verifier-keys", root);
        file = path;
        *from_folder = true;
    }
    FILE *f = file ? fopen(file, "r") : NULL;
    char line[512];
    while (f && fgets(line, sizeof(line), f) && n < MAX_KEYS) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        if (gw_note_verifier_new(line, &vs[n], &err) == GW_OK)
            n++;
    }
    if (f)
        fclose(f);
    return n;
}

static bool show_progress(void *ud, int pass, uint64_t records)
{
    (void)ud;
    fprintf(stderr, "\rverifying: pass %d of 2, %llu records read", pass,
            (unsigned long long)records);
    fflush(stderr);
    return true;
}

static void print_report(const char *logdir, const json_t *r)
{
    bool ok = json_is_true(json_object_get(r, "ok"));
    printf("%s: %s\n", logdir, ok ? "OK" : "FAILED");
    printf("  origin %s, records %lld (from %lld), checkpoints %lld, latest signed size %lld\n",
           gw_json_str(r, "origin") ? gw_json_str(r, "origin") : "?",
           (long long)json_integer_value(json_object_get(r, "records")),
           (long long)json_integer_value(json_object_get(r, "first")),
           (long long)json_integer_value(json_object_get(r, "checkpoints")),
           (long long)json_integer_value(json_object_get(r, "latest_checkpoint")));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(r, "problems"), i, p)
    {
        json_t *seq = json_object_get(p, "seq");
        printf("  PROBLEM %-19s", gw_json_str(p, "kind"));
        if (seq)
            printf(" record %lld", (long long)json_integer_value(seq));
        if (gw_json_str(p, "segment"))
            printf(" at %s", gw_json_str(p, "segment"));
        if (json_object_get(p, "line"))
            printf(":%lld", (long long)json_integer_value(json_object_get(p, "line")));
        printf(": %s\n", gw_json_str(p, "detail"));
    }
    json_array_foreach(json_object_get(r, "notes"), i, p) printf("  note: %s\n",
                                                                json_string_value(p));
}

/* search --db: the record with the log that holds it, one JSON object per line */
static bool print_record_of(void *ud, const char *log, uint64_t seq, const char *line,
                            size_t len, const json_t *event)
{
    (void)ud;
    (void)seq;
    (void)event;
    printf("{\"log\":\"%s\",\"record\":", log); /* a log id needs no escaping */
    fwrite(line, 1, len, stdout);
    fputs("}\n", stdout);
    return true;
}

static bool print_record(void *ud, uint64_t seq, const char *line, size_t len,
                         const json_t *event)
{
    (void)ud;
    (void)seq;
    (void)event;
    fwrite(line, 1, len, stdout);
    fputc('\n', stdout);
    return true;
}

int cmd_audit(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    struct audit_args a;
    memset(&a, 0, sizeof(a));
    int prc = parse(argc, argv, &a);
    if (prc)
        return prc == 1 ? 0 : 2;
    struct gw_settings *s = app_settings_load(a.config, NULL, 0);
    if (!s)
        return 2;
    app_logging_init(s);
    char root[2048], id[128], origin[512];
    struct gw_audit_config ac;
    gw_audit_config_from_settings(&ac, s, root, sizeof(root), id, sizeof(id), origin,
                                  sizeof(origin));
    char logdir[4096] = "";
    if (a.dir) {
        snprintf(logdir, sizeof(logdir), "%s", a.dir);
        size_t l = strlen(logdir);
        while (l > 1 && logdir[l - 1] == '/')
            logdir[--l] = '\0';
    } else if (a.log) {
        snprintf(logdir, sizeof(logdir), "%s/%s", root, a.log);
    }
    int rc = 1;
    char **logs = NULL;
    size_t nlogs = 0;
    struct gw_error err = {0};
    bool db_only = a.db && (!strcmp(sub, "export") || !strcmp(sub, "search") ||
                            !strcmp(sub, "proof") || !strcmp(sub, "verify"));
    /* verify --db: the log is verified straight from its rows (gw_audit_verify_pg) */
    if (a.db && !strcmp(sub, "verify") && (!a.log || a.dir)) {
        fprintf(stderr, "mcpgw audit verify --db: --log ID (and no --dir)\n");
        rc = 2;
        goto out;
    }
    if (!logdir[0] && strcmp(sub, "keys") != 0 && !db_only) {
        if (gw_audit_list_logs(root, &logs, &nlogs, &err) != GW_OK || nlogs == 0) {
            fprintf(stderr, "mcpgw audit: no audit log under %s (use --dir or --log)\n", root);
            goto out;
        }
        if (nlogs == 1 || strcmp(sub, "verify") != 0) {
            if (nlogs > 1) {
                fprintf(stderr, "mcpgw audit: several logs under %s; choose one with --log:",
                        root);
                for (size_t i = 0; i < nlogs; i++)
                    fprintf(stderr, " %s", logs[i]);
                fprintf(stderr, "\n");
                goto out;
            }
            snprintf(logdir, sizeof(logdir), "%s/%s", root, logs[0]);
        }
    }
    if (!strcmp(sub, "verify")) {
        /* keys live in the audit root; for --dir, in its parent or the folder itself */
        char keyroot[4096];
        snprintf(keyroot, sizeof(keyroot), "%s", a.dir ? a.dir : root);
        if (a.dir) {
            char probe[4200];
            snprintf(probe, sizeof(probe), "%s/verifier-keys", keyroot);
            if (access(probe, R_OK) != 0) {
                char *slash = strrchr(keyroot, '/');
                if (slash)
                    *slash = '\0';
            }
        }
        struct gw_note_verifier *vs[MAX_KEYS];
        bool from_folder = false;
        size_t nvs = load_keys(&a, keyroot, vs, &from_folder);
        if (nvs == 0) {
            fprintf(stderr, "mcpgw audit: no verifier key (pass --key or --keys-file)\n");
            goto out;
        }
        if (from_folder && !a.json)
            printf("note: trusting the keys recorded in %s/verifier-keys; pass the published "
                   "keys (--key, " GW_AUDIT_KEYS_PATH ") for independent verification\n",
                   keyroot);
        bool all_ok = true;
        json_t *reports = json_array();
        size_t count = logdir[0] || a.db ? 1 : nlogs;
        for (size_t i = 0; i < count; i++) {
            char one[4096];
            if (a.db)
                snprintf(one, sizeof(one), "log %s in the database", a.log);
            else if (logdir[0])
                snprintf(one, sizeof(one), "%s", logdir);
            else
                snprintf(one, sizeof(one), "%s/%s", root, logs[i]);
            /* a long log takes minutes: say how far it got (on a terminal only) */
            bool (*progress)(void *, int, uint64_t) =
                isatty(STDERR_FILENO) ? show_progress : NULL;
            json_t *r = a.db ? gw_audit_verify_pg(a.db, a.log, vs, nvs, progress, NULL, &err)
                             : gw_audit_verify_dir_progress(one, vs, nvs, progress, NULL);
            if (a.db)
                gw_audit_pg_release();
            if (isatty(STDERR_FILENO))
                fputs("\r\033[K", stderr);
            if (!r) {
                fprintf(stderr, "mcpgw audit: %s\n", err.msg);
                all_ok = false;
                continue;
            }
            all_ok = all_ok && json_is_true(json_object_get(r, "ok"));
            if (!a.json)
                print_report(one, r);
            json_array_append_new(reports, r);
        }
        if (a.json)
            print_json(count == 1 ? json_array_get(reports, 0) : reports);
        json_decref(reports);
        for (size_t i = 0; i < nvs; i++)
            gw_note_verifier_free(vs[i]);
        rc = all_ok ? 0 : 1;
    } else if (!strcmp(sub, "search")) {
        struct gw_pii *pii = NULL;
        char kp[2100];
        snprintf(kp, sizeof(kp), "%s/pii.key", root);
        if (a.q.subject && (gw_settings_str(s, "GW_PII_KEY")[0] || access(kp, R_OK) == 0)) {
            unsigned char key[64];
            size_t kl = 0;
            struct gw_pii_options po;
            gw_pii_options_from_settings(&po, s);
            if (gw_audit_load_pii_key(s, root, key, &kl, &err) == GW_OK) {
                po.key = key;
                po.key_len = kl;
                gw_pii_new(&po, &pii, &err);
            }
        }
        a.q.pii = pii;
        long n;
        if (a.db) {
            struct gw_audit_pg_query pq = {.q = &a.q, .decision = a.decision, .log_id = a.log,
                                           .newest_first = a.newest_first};
            n = gw_audit_search_pg(a.db, &pq, print_record_of, NULL, &err);
            gw_audit_pg_release();
        } else {
            n = gw_audit_search_dir(logdir, &a.q, print_record, NULL, &err);
        }
        gw_pii_free(pii);
        if (n < 0)
            fprintf(stderr, "mcpgw audit: %s\n", err.msg);
        rc = n < 0 ? 1 : 0;
    } else if (!strcmp(sub, "proof")) {
        json_t *p = NULL;
        if (a.db && (!a.log || a.seq < 0 || a.consistency >= 0 || a.size > 0)) {
            fprintf(stderr, "mcpgw audit proof --db: --log ID and --seq N (an inclusion proof in "
                            "the log's latest checkpoint)\n");
            rc = 2;
            goto out;
        }
        if (a.db) {
            /* the operator's own machine: logs far beyond what the admin API reads */
            p = gw_audit_inclusion_pg(a.db, a.log, (uint64_t)a.seq, 20000000u, &err);
            gw_audit_pg_release();
        } else if (a.consistency >= 0)
            p = gw_audit_consistency_dir(logdir, (uint64_t)a.consistency,
                                         a.to > 0 ? (uint64_t)a.to : 0, &err);
        else if (a.seq >= 0)
            p = gw_audit_inclusion_dir(logdir, (uint64_t)a.seq,
                                       a.size > 0 ? (uint64_t)a.size : 0, &err);
        else {
            fprintf(stderr, "mcpgw audit proof: --seq N or --consistency M\n");
            rc = 2;
            goto out;
        }
        if (!p) {
            fprintf(stderr, "mcpgw audit: %s\n", err.msg);
        } else {
            print_json(p);
            json_decref(p);
            rc = 0;
        }
    } else if (!strcmp(sub, "export")) {
        if (!a.out) {
            fprintf(stderr, "mcpgw audit export: --out DIR is required\n");
            rc = 2;
            goto out;
        }
        if (a.db) {
            uint64_t n = 0;
            const char *lid = a.log ? a.log : id;
            int erc = gw_audit_export_pg(a.db, lid, a.out, &n, &err);
            gw_audit_pg_release();
            if (erc != GW_OK)
                fprintf(stderr, "mcpgw audit: %s\n", err.msg);
            else {
                printf("exported %llu records of log %s to %s/%s\n", (unsigned long long)n, lid,
                       a.out, lid);
                rc = 0;
            }
        } else {
            uint64_t nseg = 0;
            if (gw_audit_export_dir(logdir, a.out, &nseg, &err) != GW_OK) {
                fprintf(stderr, "mcpgw audit: %s\n", err.msg);
            } else {
                printf("exported %s (%llu segments) to %s\n", logdir, (unsigned long long)nseg,
                       a.out);
                rc = 0;
            }
        }
    } else if (!strcmp(sub, "keys")) {
        char path[4200], *text = NULL;
        size_t n = 0;
        snprintf(path, sizeof(path), "%s/verifier-keys", root);
        FILE *f = fopen(path, "r");
        if (f) {
            char line[512];
            while (fgets(line, sizeof(line), f))
                fputs(line, stdout);
            fclose(f);
            rc = 0;
        } else {
            fprintf(stderr, "mcpgw audit: no verifier keys at %s\n", path);
        }
        gw_free(text);
        (void)n;
    } else if (!strcmp(sub, "checkpoint")) {
        char *cp = gw_audit_latest_checkpoint(logdir, &err);
        if (cp) {
            fputs(cp, stdout);
            gw_free(cp);
            rc = 0;
        } else {
            fprintf(stderr, "mcpgw audit: %s\n", err.msg);
        }
    } else {
        fprintf(stderr, "mcpgw audit: unknown subcommand '%s'\n", sub);
        usage(stderr);
        rc = 2;
    }
out:
    for (size_t i = 0; i < nlogs; i++)
        gw_free(logs[i]);
    gw_free(logs);
    gw_settings_free(s);
    return rc;
}
