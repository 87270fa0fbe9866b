/*
 * tools/mock-apim/mockapim_date.h
 * Calendar arithmetic for the mock: civil dates as day numbers, IST "today", and the two date
 * spellings the APIs use (ISO "2026-03-02" for the service-booking API and the DMS calendar,
 * "02-MAR-2026" for DMS bookings).
 *
 * Dates are plain day counts since 1970-01-01 (proleptic Gregorian), so comparisons and
 * "tomorrow" are integer arithmetic. "Now" is Indian Standard Time (UTC+05:30, no DST): the
 * dealers and the MSIL APIs live there, and a fixed offset keeps tests independent of the
 * machine's time zone. Pure functions, thread-safe; no gmtime/localtime (banned).
 */
#ifndef GW_MOCKAPIM_DATE_H
#define GW_MOCKAPIM_DATE_H

#include <stdbool.h>

#define GW_MOCKAPIM_IST_OFFSET_S 19800 /* +05:30 */

/* Day number of y-m-d (m 1..12, d 1..31). No validation: see gw_mockapim_date_valid. */
long gw_mockapim_date_days(int y, int m, int d);

/* Inverse of gw_mockapim_date_days. */
void gw_mockapim_date_civil(long days, int *out_y, int *out_m, int *out_d);

/* True when y-m-d names a real day between years 1970 and 9999. */
bool gw_mockapim_date_valid(int y, int m, int d);

/* 0 = Sunday ... 6 = Saturday. */
int gw_mockapim_date_weekday(long days);

/* English day name ("Monday") of a day number. */
const char *gw_mockapim_date_dayname(long days);

/* IST day number and minute of day (0..1439) of a Unix time. */
long gw_mockapim_date_ist_days(long long unix_s);
int gw_mockapim_date_ist_minute(long long unix_s);

/* Parses exactly "YYYY-MM-DD". GW_OK with *out_days, or GW_EINVAL (wrong shape or no such day). */
int gw_mockapim_date_parse_iso(const char *s, long *out_days);

/* Parses "DD-MMM-YYYY" (month name case-insensitive, e.g. 25-JUL-2022), GW_EINVAL otherwise. */
int gw_mockapim_date_parse_dms(const char *s, long *out_days);

/* Either spelling: ISO first, then DMS. */
int gw_mockapim_date_parse_any(const char *s, long *out_days);

/* Writes "YYYY-MM-DD" (out needs 11 bytes) / "DD-MON-YYYY" upper case (12 bytes). Return out. */
char *gw_mockapim_date_iso(long days, char *out, unsigned cap);
char *gw_mockapim_date_dms(long days, char *out, unsigned cap);

/* Writes the IST timestamp "YYYY-MM-DDTHH:MM:SS+05:30" of a Unix time (out needs 26 bytes). */
char *gw_mockapim_date_timestamp(long long unix_s, char *out, unsigned cap);

/* Parses "HH:MM" (00:00..23:59) into minutes of the day; GW_EINVAL otherwise. */
int gw_mockapim_time_parse(const char *s, int *out_minutes);

#endif
