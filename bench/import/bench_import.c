/*
 * bench/import/bench_import.c
 * Import benchmark and inspection tool for the OpenAPI importer (not a test: no assertions).
 *
 * Usage: bench_import [-n RUNS] [--budget IN,OUT] [--dump] [--warnings] SPEC...
 * For each spec, imports it RUNS times (default 5) and prints the best and median wall time,
 * operations, tools, warnings, the size of the tool JSON and the process's peak RSS.
 * --dump prints the tool array of the last run (pretty JSON) to stdout; --warnings prints the
 * warnings. --budget sets the input/output schema size budgets (0,0 = none). json_bytes is the
 * size of the tool array as the platform serialises it (core/json.h). Build and run with
 * bench/import/run.sh (Release build).
 */
#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "openapi/openapi.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int runs = 5, first = 1;
    int dump = 0, warnings = 0;
    long long bin = -1, bout = -1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "-n") && first + 1 < argc) {
            unsigned long long v = 0;
            runs = gw_str_to_u64(gw_str_c(argv[++first]), &v) == GW_OK && v <= 1000 ? (int)v : 0;
        } else if (!strcmp(argv[first], "--dump"))
            dump = 1;
        else if (!strcmp(argv[first], "--warnings"))
            warnings = 1;
        else if (!strcmp(argv[first], "--budget") && first + 1 < argc) {
            const char *b = argv[++first], *comma = strchr(b, ',');
            unsigned long long x = 0, y = 0;
            if (!comma || gw_str_to_u64((struct gw_str){b, (size_t)(comma - b)}, &x) != GW_OK ||
                gw_str_to_u64(gw_str_c(comma + 1), &y) != GW_OK)
                runs = 0;
            bin = (long long)x;
            bout = (long long)y;
        }
    }
    if (first >= argc || runs < 1 || runs > 1000) {
        fprintf(stderr, "usage: %s [-n RUNS] [--budget IN,OUT] [--dump] [--warnings] SPEC...\n",
                argv[0]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int status = 0;
    printf("%-60s %8s %8s %6s %6s %6s %9s %10s %9s\n", "spec", "best_ms", "median", "ops", "tools",
           "warn", "skipped", "json_bytes", "rss_mb");
    for (int i = first; i < argc; i++) {
        double t[1000];
        struct gw_openapi_result r;
        memset(&r, 0, sizeof(r));
        struct gw_error err;
        int rc = 0;
        for (int k = 0; k < runs; k++) {
            gw_openapi_result_fini(&r);
            struct gw_openapi_options o;
            gw_openapi_options_init(&o);
            if (bin >= 0) {
                o.input_schema_budget = (size_t)bin;
                o.output_schema_budget = (size_t)bout;
            }
            double t0 = now_ms();
            rc = gw_openapi_import_file(argv[i], &o, &r, &err);
            t[k] = now_ms() - t0;
            if (rc != GW_OK)
                break;
        }
        if (rc != GW_OK) {
            printf("%-60s FAILED: %s\n", argv[i], err.msg);
            status = 1;
            continue;
        }
        qsort(t, (size_t)runs, sizeof(double), cmp_double);
        char *js = gw_json_dumps(r.tools);
        size_t bytes = js ? strlen(js) : 0;
        gw_free(js);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        printf("%-60.60s %8.1f %8.1f %6zu %6zu %6zu %9zu %10zu %9.1f\n", name, t[0], t[runs / 2],
               r.operations, r.tools_count, json_array_size(r.warnings), r.skipped, bytes,
               (double)ru.ru_maxrss / 1024.0);
        if (dump)
            json_dumpf(r.tools, stdout, JSON_INDENT(2));
        if (warnings)
            json_dumpf(r.warnings, stdout, JSON_INDENT(1));
        gw_openapi_result_fini(&r);
    }
    curl_global_cleanup();
    return status;
}
