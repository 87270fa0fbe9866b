/*
 * tools/mock-apim/mockapim_date.c
 * Civil-date arithmetic (days <-> y/m/d after H. Hinnant's public-domain algorithms, written
 * from their description), IST clock helpers and the two date spellings. Pure and thread-safe.
 */
#include "mockapim_date.h"

#include "core/err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const month_abbr[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                           "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};

long gw_mockapim_date_days(int y, int m, int d)
{
    /* Shift the year to start in March so that the leap day is the last day of the year. */
    long yy = (long)y - (m <= 2);
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    long yoe = yy - era * 400;                                    /* [0, 399] */
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;   /* [0, 365] */
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;             /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void gw_mockapim_date_civil(long days, int *out_y, int *out_m, int *out_d)
{
    long z = days + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp < 10 ? mp + 3 : mp - 9;
    *out_y = (int)(yoe + era * 400 + (m <= 2));
    *out_m = (int)m;
    *out_d = (int)d;
}

bool gw_mockapim_date_valid(int y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

int gw_mockapim_date_weekday(long days)
{
    /* 1970-01-01 was a Thursday (4). */
    long w = (days + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

const char *gw_mockapim_date_dayname(long days)
{
    return day_names[gw_mockapim_date_weekday(days)];
}

long gw_mockapim_date_ist_days(long long unix_s)
{
    long long t = unix_s + GW_MOCKAPIM_IST_OFFSET_S;
    return (long)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
}

int gw_mockapim_date_ist_minute(long long unix_s)
{
    long long t = unix_s + GW_MOCKAPIM_IST_OFFSET_S;
    long long r = t % 86400;
    if (r < 0)
        r += 86400;
    return (int)(r / 60);
}

/* Reads exactly n decimal digits; -1 when any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int gw_mockapim_date_parse_iso(const char *s, long *out_days)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return GW_EINVAL;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || m < 0 || d < 0 || !gw_mockapim_date_valid(y, m, d))
        return GW_EINVAL;
    *out_days = gw_mockapim_date_days(y, m, d);
    return GW_OK;
}

int gw_mockapim_date_parse_dms(const char *s, long *out_days)
{
    if (!s || strlen(s) != 11 || s[2] != '-' || s[6] != '-')
        return GW_EINVAL;
    int d = digits(s, 2), y = digits(s + 7, 4), m = 0;
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s + 3, month_abbr[i], 3) == 0)
            m = i + 1;
    if (y < 0 || d < 0 || m == 0 || !gw_mockapim_date_valid(y, m, d))
        return GW_EINVAL;
    *out_days = gw_mockapim_date_days(y, m, d);
    return GW_OK;
}

int gw_mockapim_date_parse_any(const char *s, long *out_days)
{
    if (gw_mockapim_date_parse_iso(s, out_days) == GW_OK)
        return GW_OK;
    return gw_mockapim_date_parse_dms(s, out_days);
}

char *gw_mockapim_date_iso(long days, char *out, unsigned cap)
{
    int y, m, d;
    gw_mockapim_date_civil(days, &y, &m, &d);
    snprintf(out, cap, "%04d-%02d-%02d", y, m, d);
    return out;
}

char *gw_mockapim_date_dms(long days, char *out, unsigned cap)
{
    int y, m, d;
    gw_mockapim_date_civil(days, &y, &m, &d);
    snprintf(out, cap, "%02d-%s-%04d", d, month_abbr[m - 1], y);
    return out;
}

char *gw_mockapim_date_timestamp(long long unix_s, char *out, unsigned cap)
{
    long days = gw_mockapim_date_ist_days(unix_s);
    long long t = unix_s + GW_MOCKAPIM_IST_OFFSET_S;
    long long sod = t % 86400;
    if (sod < 0)
        sod += 86400;
    int y, m, d;
    gw_mockapim_date_civil(days, &y, &m, &d);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d+05:30", y, m, d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60));
    return out;
}

int gw_mockapim_time_parse(const char *s, int *out_minutes)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return GW_EINVAL;
    int h = digits(s, 2), mi = digits(s + 3, 2);
    if (h < 0 || mi < 0 || h > 23 || mi > 59)
        return GW_EINVAL;
    *out_minutes = h * 60 + mi;
    return GW_OK;
}
