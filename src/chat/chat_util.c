/*
 * src/chat/chat_util.c
 * Pure helpers of the chat backend (see chat.h): owner keys, the API's URL grammar, choosing
 * the tools offered to the model, the system prompt and the history window.
 */
#include "chat/chat.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void gw_chat_owner_key(const struct gw_principal *p, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    const char *method = gw_auth_method_name(p->method);
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, "chat-owner\n", 11);
    EVP_DigestUpdate(c, method, strlen(method) + 1);
    EVP_DigestUpdate(c, p->issuer, strlen(p->issuer) + 1);
    EVP_DigestUpdate(c, p->subject, strlen(p->subject) + 1);
    EVP_DigestFinal_ex(c, md, &n);
    EVP_MD_CTX_free(c);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static bool valid_id(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

int gw_chat_route(const char *path, enum gw_chat_route *out, char id[65])
{
    static const char prefix[] = "/chat/api/";
    *out = GW_CHAT_R_NONE;
    id[0] = '\0';
    if (!path || strncmp(path, prefix, sizeof(prefix) - 1) != 0)
        return GW_ENOTFOUND;
    const char *p = path + sizeof(prefix) - 1;
    if (strcmp(p, "config") == 0) {
        *out = GW_CHAT_R_CONFIG;
        return GW_OK;
    }
    if (strcmp(p, "me") == 0) {
        *out = GW_CHAT_R_ME;
        return GW_OK;
    }
    static const char conv[] = "conversations";
    if (strncmp(p, conv, sizeof(conv) - 1) != 0)
        return GW_ENOTFOUND;
    p += sizeof(conv) - 1;
    if (*p == '\0' || strcmp(p, "/") == 0) {
        *out = GW_CHAT_R_CONVERSATIONS;
        return GW_OK;
    }
    if (*p != '/')
        return GW_ENOTFOUND;
    p++;
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (!valid_id(p, n))
        return GW_ENOTFOUND;
    memcpy(id, p, n);
    id[n] = '\0';
    if (!slash || strcmp(slash, "/") == 0)
        *out = GW_CHAT_R_CONVERSATION;
    else if (strcmp(slash, "/messages") == 0)
        *out = GW_CHAT_R_MESSAGES;
    else if (strcmp(slash, "/confirm") == 0)
        *out = GW_CHAT_R_CONFIRM;
    else {
        id[0] = '\0';
        return GW_ENOTFOUND;
    }
    return GW_OK;
}

/* ---- tool selection ---- */

#define MAX_WORDS 64

/* Lower-cased words of 3+ letters/digits of the user's messages (the last ones first). */
static size_t user_words(const json_t *messages, char words[MAX_WORDS][32])
{
    size_t nw = 0;
    for (size_t k = json_array_size(messages); k-- > 0 && nw < MAX_WORDS;) {
        const json_t *m = json_array_get(messages, k);
        const char *role = gw_json_str(m, "role");
        const char *text = gw_json_str(m, "content");
        if (!role || strcmp(role, "user") != 0 || !text)
            continue;
        const char *s = text;
        while (*s && nw < MAX_WORDS) {
            while (*s && !isalnum((unsigned char)*s))
                s++;
            size_t n = 0;
            char w[32];
            while (*s && isalnum((unsigned char)*s)) {
                if (n < sizeof(w) - 1)
                    w[n++] = (char)tolower((unsigned char)*s);
                s++;
            }
            w[n] = '\0';
            if (n >= 3) {
                bool dup = false;
                for (size_t i = 0; i < nw && !dup; i++)
                    dup = strcmp(words[i], w) == 0;
                if (!dup)
                    memcpy(words[nw++], w, n + 1);
            }
        }
    }
    return nw;
}

/* Case-insensitive substring test. */
static bool contains(const char *hay, const char *w)
{
    size_t n = strlen(w);
    for (const char *h = hay; h && *h; h++)
        if (strncasecmp(h, w, n) == 0)
            return true;
    return false;
}

json_t *gw_chat_select_tools(const json_t *tools, const json_t *messages, size_t max)
{
    size_t n = json_array_size(tools);
    if (n <= max) {
        json_t *all = json_deep_copy(tools);
        return json_is_array(all) ? all : (json_decref(all), json_array());
    }
    char words[MAX_WORDS][32];
    size_t nw = user_words(messages, words);
    long *score = gw_xcalloc(n, sizeof(long));
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(tools, i);
        const char *name = gw_json_str(t, "name");
        const char *desc = gw_json_str(t, "description");
        for (size_t w = 0; w < nw; w++) {
            /* a word stem (first 5 letters) matches plurals and verb forms */
            char stem[6];
            memcpy(stem, words[w], 5);
            stem[5] = '\0';
            if (name && contains(name, stem))
                score[i] += 5;
            if (desc && contains(desc, stem))
                score[i] += 1;
        }
    }
    json_t *out = json_array();
    bool *taken = gw_xcalloc(n, sizeof(bool));
    for (size_t k = 0; k < max; k++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (!taken[i] && (best == n || score[i] > score[best]))
                best = i;
        if (best == n)
            break;
        taken[best] = true;
        json_array_append(out, json_array_get(tools, best));
    }
    gw_free(taken);
    gw_free(score);
    return out;
}

/* ---- system prompt ---- */

static const char default_prompt[] =
    "You are the MSIL Service Assistant of Maruti Suzuki India Limited. You help {user} book "
    "car service appointments, find nearby dealer workshops, check slots and bookings, and "
    "answer questions about service.\n"
    "Today is {date}. Turn relative dates (\"tomorrow\", \"next Monday\") into YYYY-MM-DD "
    "dates yourself, and times into HH:MM.\n"
    "You act through the tools you are given. They run under the signed-in person's identity "
    "and the gateway's rules decide what that person may see and do. To book a service: resolve "
    "the vehicle by its registration number, find the nearest dealer workshops for the place "
    "named, check the slots of the best dealer on the date, then create the booking for the "
    "vehicle's owner. Use several tools in one step when they do not depend on each other.\n"
    "Bookings and cancellations need the person's confirmation: the gateway asks them directly "
    "and the call only runs if they accept. Never claim that something was done unless a tool "
    "result says so; give the booking id when a booking is made.\n"
    "When a tool call is refused or fails, explain to the person in plain words why (use the "
    "reason and hint the gateway gives), do not try to get around a refusal, and suggest what "
    "they can do instead. If you need information only the person has (such as a mobile "
    "number), ask for it. Keep answers short.";

char *gw_chat_system_prompt(const char *tmpl, long long now_s, int offset_min, const char *user)
{
    char date[32];
    time_t t = (time_t)(now_s + (long long)offset_min * 60);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y-%m-%d (%A)", &tm);
    const char *src = tmpl && *tmpl ? tmpl : default_prompt;
    struct gw_buf b;
    gw_buf_init(&b, 256u << 10);
    for (const char *p = src; *p;) {
        if (strncmp(p, "{date}", 6) == 0) {
            (void)gw_buf_adds(&b, date);
            p += 6;
        } else if (strncmp(p, "{user}", 6) == 0) {
            (void)gw_buf_adds(&b, user && *user ? user : "the signed-in person");
            p += 6;
        } else {
            (void)gw_buf_addc(&b, *p++);
        }
    }
    size_t len;
    return gw_buf_take(&b, &len);
}

json_t *gw_chat_history_window(const json_t *messages, size_t max)
{
    size_t n = json_array_size(messages);
    size_t start = n > max ? n - max : 0;
    /* move forward to a user message: a window never starts inside a tool exchange */
    while (start > 0 && start < n) {
        const char *role = gw_json_str(json_array_get(messages, start), "role");
        if (role && strcmp(role, "user") == 0)
            break;
        start++;
    }
    json_t *out = json_array();
    for (size_t i = start; i < n; i++)
        json_array_append(out, json_array_get(messages, i));
    return out;
}
