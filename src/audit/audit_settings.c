/*
 * src/audit/audit_settings.c
 * The GW_AUDIT_* settings, the configuration built from them, and key material: the
 * checkpoint signing key and the PII pseudonym key (from the environment or a secret file, or
 * created once under the audit folder for the embedded default).
 */
#include "audit/audit_internal.h"

#include "core/alloc.h"
#include "core/log.h"
#include "pii/pii.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const struct gw_setting_def gw_audit_settings[] = {
    {"GW_AUDIT_ENABLED", GW_SET_BOOL, "true", 0, 0, NULL, "Audit trail",
     "Record every exchange, refusal and admin change in the tamper-evident audit trail, and "
     "release each response only after its record is durable. Turning it off is for "
     "benchmarks only."},
    {"GW_AUDIT_DIR", GW_SET_STRING, "", 0, 0, NULL, "Audit trail",
     "Folder of the audit logs (segments, checkpoints). Empty: `GW_DATA_DIR/audit`."},
    {"GW_AUDIT_LOG_ID", GW_SET_STRING, "", 0, 0, NULL, "Audit trail",
     "This replica's log id (1-64 of A-Z a-z 0-9 . _ -): every replica writes its own log. "
     "Empty: the host name (the pod name on Kubernetes)."},
    {"GW_AUDIT_ORIGIN", GW_SET_STRING, "mcpgw.msil/audit", 0, 0, NULL, "Audit trail",
     "Prefix of the checkpoint origin line; the log id is appended (`<prefix>/<log id>`)."},
    {"GW_AUDIT_SIGNING_KEY", GW_SET_SECRET, "", 0, 0, NULL, "Audit trail",
     "Ed25519 private key (PEM, `openssl genpkey -algorithm ed25519`) that signs checkpoints. "
     "Takes precedence over GW_AUDIT_SIGNING_KEY_FILE."},
    {"GW_AUDIT_SIGNING_KEY_FILE", GW_SET_STRING, "", 0, 0, NULL, "Audit trail",
     "File holding the signing key. Both empty: a key is generated once in "
     "`<audit dir>/signing.key` (embedded default; production mounts a secret)."},
    {"GW_AUDIT_KEY_NAME", GW_SET_STRING, "", 0, 0, NULL, "Audit trail",
     "Name of the signing key in signatures and verifier keys. Empty: GW_AUDIT_ORIGIN."},
    {"GW_AUDIT_PREVIOUS_KEYS", GW_SET_STRING, "", 0, 0, NULL, "Audit trail",
     "Verifier keys of rotated signing keys (`name+hash+key`, comma separated): published "
     "with the current one so older checkpoints stay verifiable."},
    {"GW_AUDIT_SYNC", GW_SET_ENUM, "fdatasync", 0, 0, "fdatasync|write", "Audit trail",
     "`fdatasync`: a record is on stable storage before its response is released (survives "
     "power loss); `write`: in the kernel (survives a process crash only)."},
    {"GW_AUDIT_SCOPE", GW_SET_ENUM, "all", 0, 0, "all|calls", "Audit trail",
     "`all`: every exchange (initialize, lists, calls...); `calls`: tools/call, refusals and "
     "transport rejections only."},
    {"GW_AUDIT_RESPONSE_DIGEST", GW_SET_BOOL, "false", 0, 0, NULL, "Audit trail",
     "Also record `response_digest`, a keyed HMAC of each tools/call response (up to 256 KiB), "
     "so an auditor can prove what a caller was answered; costs one HMAC of the response per "
     "call."},
    {"GW_AUDIT_CHECKPOINT_EVENTS", GW_SET_INT, "1000", 1, 100000000, NULL, "Audit trail",
     "Sign a checkpoint after this many records."},
    {"GW_AUDIT_CHECKPOINT_SECONDS", GW_SET_INT, "10", 1, 86400, NULL, "Audit trail",
     "... or after this many seconds when records were added."},
    {"GW_AUDIT_SEGMENT_MAX_BYTES", GW_SET_INT, "67108864", 4096, 1LL << 40, NULL, "Audit trail",
     "Close the open segment (and ship it) when it reaches this size."},
    {"GW_AUDIT_SEGMENT_MAX_SECONDS", GW_SET_INT, "3600", 1, 86400 * 31, NULL, "Audit trail",
     "... or when it is this old (bounds how long records wait for the WORM archive)."},
    {"GW_AUDIT_QUEUE_MAX_BYTES", GW_SET_INT, "67108864", 0, 1LL << 40, NULL, "Audit trail",
     "Records waiting for the writer above which new tool calls are refused (-32019, "
     "back-pressure; 0 = no limit)."},
    {"GW_AUDIT_LOCAL_RETENTION_DAYS", GW_SET_INT, "0", 0, 36500, NULL, "Audit trail",
     "Delete local segments this many days after the archive acknowledged them (0 = keep). "
     "Never before."},
    {"GW_AUDIT_LOCAL_CHECKPOINTS", GW_SET_ENUM, "boundaries", 0, 0, "boundaries|all",
     "Audit trail",
     "Checkpoint files kept in the log folder. `boundaries`: once a segment is closed (and, "
     "with the archive on, once it acknowledged them) the checkpoints signed inside it are "
     "removed and the one at its end stays, so the folder holds one per segment plus those of "
     "the open segment; `all`: every checkpoint (one per GW_AUDIT_CHECKPOINT_SECONDS under "
     "load, ~9,000 files a day). PostgreSQL and the archive keep every checkpoint either way."},
    {"GW_AUDIT_DATABASE_URL", GW_SET_SECRET, "", 0, 0, NULL, "Audit trail",
     "PostgreSQL URL that receives a copy of every record in the same group commit (shared "
     "search across replicas). Empty: none. `same` = DATABASE_URL."},
    {"GW_AUDIT_DATABASE_RETENTION_DAYS", GW_SET_INT, "0", 0, 36500, NULL, "Audit trail",
     "Delete rows of the PostgreSQL copy older than this many days, and only those the WORM "
     "archive acknowledged (0 = keep every row; needs GW_AUDIT_S3_BUCKET). One replica at a "
     "time prunes every log, a dead pod's included; the records stay in the archive and, "
     "until GW_AUDIT_LOCAL_RETENTION_DAYS, in the replica's folder."},
    {"GW_AUDIT_SALVAGE_AFTER_SECONDS", GW_SET_INT, "1800", 0, 86400 * 7, NULL, "Audit trail",
     "With the PostgreSQL copy and the archive: the log of a replica that stopped without "
     "closing it (a crash, an eviction, a lost node) and has been silent this long is "
     "archived by another replica, its open segment rebuilt from the database (0 = never; "
     "else at least 180: replicas beat every minute)."},
    {"GW_AUDIT_MAINTENANCE_SECONDS", GW_SET_INT, "3600", 1, 86400 * 7, NULL, "Audit trail",
     "Seconds between the passes that salvage silent replicas' logs and prune the PostgreSQL "
     "copy (one replica at a time)."},
    {"GW_AUDIT_S3_BUCKET", GW_SET_STRING, "", 0, 0, NULL, "Audit archive (S3 Object Lock)",
     "Bucket (versioned, Object Lock enabled) for closed segments and checkpoints. Empty: no "
     "archive."},
    {"GW_AUDIT_S3_ENDPOINT", GW_SET_STRING, "", 0, 0, NULL, "Audit archive (S3 Object Lock)",
     "S3 endpoint URL. Empty: `https://s3.<region>.amazonaws.com`."},
    {"GW_AUDIT_S3_REGION", GW_SET_STRING, "ap-south-1", 0, 0, NULL,
     "Audit archive (S3 Object Lock)", "Region used in the SigV4 signature."},
    {"GW_AUDIT_S3_PREFIX", GW_SET_STRING, "audit", 0, 0, NULL, "Audit archive (S3 Object Lock)",
     "Key prefix: objects are `<prefix>/<log id>/segments/...` and `.../checkpoints/...`."},
    {"GW_AUDIT_S3_ACCESS_KEY_ID", GW_SET_SECRET, "", 0, 0, NULL,
     "Audit archive (S3 Object Lock)", "Access key id (or AWS_ACCESS_KEY_ID)."},
    {"GW_AUDIT_S3_SECRET_ACCESS_KEY", GW_SET_SECRET, "", 0, 0, NULL,
     "Audit archive (S3 Object Lock)", "Secret access key (or AWS_SECRET_ACCESS_KEY)."},
    {"GW_AUDIT_S3_SESSION_TOKEN", GW_SET_SECRET, "", 0, 0, NULL,
     "Audit archive (S3 Object Lock)", "Session token of temporary credentials (or "
     "AWS_SESSION_TOKEN)."},
    {"GW_AUDIT_S3_LOCK_MODE", GW_SET_ENUM, "COMPLIANCE", 0, 0, "COMPLIANCE|GOVERNANCE",
     "Audit archive (S3 Object Lock)",
     "Object Lock mode of every object (COMPLIANCE: nobody, root included, can shorten it)."},
    {"GW_AUDIT_S3_RETENTION_DAYS", GW_SET_INT, "2557", 1, 36500, NULL,
     "Audit archive (S3 Object Lock)", "Retention of every object (2557 days = 7 years)."},
    {"GW_AUDIT_S3_PATH_STYLE", GW_SET_BOOL, "false", 0, 0, NULL, "Audit archive (S3 Object Lock)",
     "Path-style URLs (`<endpoint>/<bucket>/<key>`) instead of virtual-hosted ones (S3-"
     "compatible servers)."},
    {"GW_AUDIT_S3_RETRY_MAX_SECONDS", GW_SET_INT, "300", 1, 86400, NULL,
     "Audit archive (S3 Object Lock)", "Longest pause between upload retries (exponential "
     "backoff from 1 s)."},
    {"GW_AUDIT_S3_CA_FILE", GW_SET_STRING, "", 0, 0, NULL, "Audit archive (S3 Object Lock)",
     "Extra CA bundle for the S3 endpoint (empty: the system's)."},
    GW_SETTINGS_END};

void gw_audit_config_from_settings(struct gw_audit_config *c, const struct gw_settings *s,
                                   char *dirbuf, size_t dirsize, char *idbuf, size_t idsize,
                                   char *originbuf, size_t originsize)
{
    memset(c, 0, sizeof(*c));
    const char *dir = gw_settings_str(s, "GW_AUDIT_DIR");
    if (!dir[0])
        snprintf(dirbuf, dirsize, "%s/audit", gw_settings_str(s, "GW_DATA_DIR"));
    else
        snprintf(dirbuf, dirsize, "%s", dir);
    const char *id = gw_settings_str(s, "GW_AUDIT_LOG_ID");
    if (id[0]) {
        snprintf(idbuf, idsize, "%s", id);
    } else {
        char host[256] = "";
        if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
            snprintf(host, sizeof(host), "gateway");
        for (char *p = host; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
                *p = '-';
        snprintf(idbuf, idsize, "%.64s", host);
    }
    snprintf(originbuf, originsize, "%s", gw_settings_str(s, "GW_AUDIT_ORIGIN"));
    c->log_id_default = !id[0];
    c->dir = dirbuf;
    c->log_id = idbuf;
    c->origin = originbuf;
    c->sync = strcmp(gw_settings_str(s, "GW_AUDIT_SYNC"), "write") == 0 ? GW_AUDIT_SYNC_WRITE
                                                                         : GW_AUDIT_SYNC_FDATASYNC;
    c->scope = strcmp(gw_settings_str(s, "GW_AUDIT_SCOPE"), "calls") == 0
                   ? GW_AUDIT_SCOPE_CALLS
                   : GW_AUDIT_SCOPE_ALL;
    c->checkpoint_events = (unsigned)gw_settings_int(s, "GW_AUDIT_CHECKPOINT_EVENTS");
    c->checkpoint_seconds = (unsigned)gw_settings_int(s, "GW_AUDIT_CHECKPOINT_SECONDS");
    c->segment_max_bytes = (uint64_t)gw_settings_int(s, "GW_AUDIT_SEGMENT_MAX_BYTES");
    c->segment_max_seconds = (unsigned)gw_settings_int(s, "GW_AUDIT_SEGMENT_MAX_SECONDS");
    c->queue_max_bytes = (size_t)gw_settings_int(s, "GW_AUDIT_QUEUE_MAX_BYTES");
    c->local_retention_days = (unsigned)gw_settings_int(s, "GW_AUDIT_LOCAL_RETENTION_DAYS");
    c->keep_all_checkpoints =
        strcmp(gw_settings_str(s, "GW_AUDIT_LOCAL_CHECKPOINTS"), "all") == 0;
    c->response_digest = gw_settings_bool(s, "GW_AUDIT_RESPONSE_DIGEST");
    const char *pg = gw_settings_str(s, "GW_AUDIT_DATABASE_URL");
    c->pg_url = strcmp(pg, "same") == 0 ? gw_settings_str(s, "DATABASE_URL") : pg;
    c->pg_retention_days = (unsigned)gw_settings_int(s, "GW_AUDIT_DATABASE_RETENTION_DAYS");
    c->maintenance_seconds = (unsigned)gw_settings_int(s, "GW_AUDIT_MAINTENANCE_SECONDS");
    c->salvage_after_s = (unsigned)gw_settings_int(s, "GW_AUDIT_SALVAGE_AFTER_SECONDS");
    struct gw_audit_s3 *s3 = &c->s3;
    s3->bucket = gw_settings_str(s, "GW_AUDIT_S3_BUCKET");
    s3->endpoint = gw_settings_str(s, "GW_AUDIT_S3_ENDPOINT");
    s3->region = gw_settings_str(s, "GW_AUDIT_S3_REGION");
    s3->prefix = gw_settings_str(s, "GW_AUDIT_S3_PREFIX");
    s3->access_key = gw_settings_str(s, "GW_AUDIT_S3_ACCESS_KEY_ID");
    s3->secret_key = gw_settings_str(s, "GW_AUDIT_S3_SECRET_ACCESS_KEY");
    s3->session_token = gw_settings_str(s, "GW_AUDIT_S3_SESSION_TOKEN");
    if (!s3->access_key[0] && getenv("AWS_ACCESS_KEY_ID"))
        s3->access_key = getenv("AWS_ACCESS_KEY_ID");
    if (!s3->secret_key[0] && getenv("AWS_SECRET_ACCESS_KEY"))
        s3->secret_key = getenv("AWS_SECRET_ACCESS_KEY");
    if (!s3->session_token[0] && getenv("AWS_SESSION_TOKEN"))
        s3->session_token = getenv("AWS_SESSION_TOKEN");
    s3->lock_mode = gw_settings_str(s, "GW_AUDIT_S3_LOCK_MODE");
    s3->retention_days = (unsigned)gw_settings_int(s, "GW_AUDIT_S3_RETENTION_DAYS");
    s3->path_style = gw_settings_bool(s, "GW_AUDIT_S3_PATH_STYLE");
    s3->retry_max_s = (unsigned)gw_settings_int(s, "GW_AUDIT_S3_RETRY_MAX_SECONDS");
    s3->ca_file = gw_settings_str(s, "GW_AUDIT_S3_CA_FILE");
}

/* Creates <dir>/<name> with `data` unless it exists. The file is written whole under a name of
 * this process's, then linked to its name: link(2) fails when another process won, and the
 * name never shows a partly written key (replicas sharing a folder start together: one that
 * found the name created but still empty refused to start). */
static int create_secret_file(const char *dir, const char *name, const void *data, size_t n,
                              struct gw_error *err)
{
    char path[4096], tmp[4200], eb[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return GW_ERROR_SET(err, GW_EIO, "%s: %s", tmp, gw_strerror(errno, eb, sizeof(eb)));
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
    int rc = left == 0 && fsync(fd) == 0 ? GW_OK : GW_EIO;
    close(fd);
    if (rc != GW_OK) {
        unlink(tmp);
        return GW_ERROR_SET(err, GW_EIO, "%s: cannot write", tmp);
    }
    int lrc = link(tmp, path), lerr = errno;
    unlink(tmp);
    if (lrc != 0 && lerr != EEXIST) /* EEXIST: another process made it first; theirs is kept */
        return GW_ERROR_SET(err, GW_EIO, "%s: %s", path, gw_strerror(lerr, eb, sizeof(eb)));
    return gw_audit__fsync_dir(dir);
}

/* Appends the verifier key to <dir>/verifier-keys unless it is listed. */
static void record_vkey(const char *dir, const char *vkey)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/verifier-keys", dir);
    char *old = NULL;
    size_t n = 0;
    if (gw_audit__read_file(path, 1 << 20, &old, &n, NULL) == GW_OK && strstr(old, vkey)) {
        gw_free(old);
        return;
    }
    gw_free(old);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    char line[GW_NOTE_VKEY_MAX + 2];
    int k = snprintf(line, sizeof(line), "%s\n", vkey);
    if (write(fd, line, (size_t)k) != k)
        GW_LOG(GW_LOG_WARN, "audit", "could not record the verifier key in %s", path);
    fsync(fd);
    close(fd);
}

int gw_audit_load_signer(const struct gw_settings *s, const char *dir,
                         struct gw_note_signer **out, struct gw_error *err)
{
    *out = NULL;
    const char *name = gw_settings_str(s, "GW_AUDIT_KEY_NAME");
    if (!name[0])
        name = gw_settings_str(s, "GW_AUDIT_ORIGIN");
    int rc = gw_audit__mkdirs(dir, err);
    if (rc != GW_OK)
        return rc;
    const char *pem = gw_settings_str(s, "GW_AUDIT_SIGNING_KEY");
    char *file_pem = NULL;
    size_t n = 0;
    if (!pem[0]) {
        const char *file = gw_settings_str(s, "GW_AUDIT_SIGNING_KEY_FILE");
        char path[4096];
        if (file[0]) {
            snprintf(path, sizeof(path), "%s", file);
        } else {
            snprintf(path, sizeof(path), "%s/signing.key", dir);
            struct gw_note_signer *gen = NULL;
            char *gpem = NULL;
            if (access(path, F_OK) != 0) {
                rc = gw_note_signer_generate(name, &gen, &gpem, err);
                if (rc == GW_OK)
                    rc = create_secret_file(dir, "signing.key", gpem, strlen(gpem), err);
                gw_note_signer_free(gen);
                gw_free(gpem);
                if (rc != GW_OK)
                    return rc;
                GW_LOG(GW_LOG_WARN, "audit",
                       "generated an audit signing key in %s: production should provide "
                       "GW_AUDIT_SIGNING_KEY_FILE from a secret store",
                       path);
            }
        }
        rc = gw_audit__read_file(path, 65536, &file_pem, &n, err);
        if (rc != GW_OK)
            return rc;
        pem = file_pem;
    }
    rc = gw_note_signer_new(name, pem, out, err);
    if (file_pem) {
        OPENSSL_cleanse(file_pem, n);
        gw_free(file_pem);
    }
    if (rc != GW_OK)
        return rc;
    record_vkey(dir, gw_note_signer_vkey(*out));
    const char *prev = gw_settings_str(s, "GW_AUDIT_PREVIOUS_KEYS");
    while (*prev) {
        const char *e = strchr(prev, ',');
        size_t l = e ? (size_t)(e - prev) : strlen(prev);
        char vk[GW_NOTE_VKEY_MAX];
        if (l && l < sizeof(vk)) {
            memcpy(vk, prev, l);
            vk[l] = '\0';
            struct gw_note_verifier *v = NULL;
            struct gw_error e2 = {0};
            if (gw_note_verifier_new(vk, &v, &e2) == GW_OK)
                record_vkey(dir, vk);
            else
                GW_LOG(GW_LOG_WARN, "audit", "GW_AUDIT_PREVIOUS_KEYS: %s", e2.msg);
            gw_note_verifier_free(v);
        }
        prev += l + (e ? 1 : 0);
    }
    return GW_OK;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                 : -1;
}

int gw_audit_load_pii_key(const struct gw_settings *s, const char *dir, unsigned char *key,
                          size_t *key_len, struct gw_error *err)
{
    const char *k = gw_settings_str(s, "GW_PII_KEY");
    size_t n = strlen(k);
    if (n) {
        bool hex = n == 64;
        for (size_t i = 0; hex && i < n; i++)
            hex = hexval(k[i]) >= 0;
        if (hex) {
            for (size_t i = 0; i < 32; i++)
                key[i] = (unsigned char)(hexval(k[2 * i]) << 4 | hexval(k[2 * i + 1]));
            *key_len = 32;
            return GW_OK;
        }
        if (n < 32)
            return GW_ERROR_SET(err, GW_EINVAL,
                                "GW_PII_KEY: 64 hex characters or at least 32 characters");
        *key_len = n > 64 ? 64 : n;
        memcpy(key, k, *key_len);
        return GW_OK;
    }
    int rc = gw_audit__mkdirs(dir, err);
    if (rc != GW_OK)
        return rc;
    unsigned char fresh[32];
    if (RAND_bytes(fresh, sizeof(fresh)) != 1)
        return GW_ERROR_SET(err, GW_EIO, "no random bytes for the PII key");
    rc = create_secret_file(dir, "pii.key", fresh, sizeof(fresh), err);
    OPENSSL_cleanse(fresh, sizeof(fresh));
    if (rc != GW_OK)
        return rc;
    char path[4096], *data = NULL;
    size_t dn = 0;
    snprintf(path, sizeof(path), "%s/pii.key", dir);
    rc = gw_audit__read_file(path, 1024, &data, &dn, err);
    if (rc != GW_OK)
        return rc;
    if (dn < GW_PII_KEY_MIN) {
        gw_free(data);
        return GW_ERROR_SET(err, GW_EINVAL, "%s: too short", path);
    }
    *key_len = dn > 64 ? 64 : dn;
    memcpy(key, data, *key_len);
    OPENSSL_cleanse(data, dn);
    gw_free(data);
    return GW_OK;
}
