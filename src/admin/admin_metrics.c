/*
 * src/admin/admin_metrics.c
 * GET /admin/api/metrics/summary?window=<seconds>&step=<seconds>: this replica's traffic for
 * the console's dashboard (calls, errors, denials and latency per interval, top tools,
 * upstreams with their breakers, the audit trail's lag), produced by the app's summary
 * function (cfg->metrics_summary: the time series of src/metrics/metrics_series.h plus the
 * breaker and audit statistics). Window and step were checked on the loop
 * (gw_metrics_series_check: clear 400s); the summary runs on a pool thread like every admin
 * job (it sums up to 1440 intervals under the series' lock, ~1 ms: not on the loop).
 */
#include "admin/admin_internal.h"

void gw_admin__w_metrics_summary(struct admin_job *j, struct gw_store *st)
{
    (void)st;
    struct gw_admin *adm = j->adm;
    if (!adm->metrics_summary) {
        gw_admin__fail(j, 404, "not_found", "this gateway keeps no traffic metrics");
        return;
    }
    struct gw_error err = {0};
    json_t *sum = adm->metrics_summary(adm->metrics_arg, j->q.window, j->q.step, &err);
    if (!sum) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__ok(j, 200, sum);
}
