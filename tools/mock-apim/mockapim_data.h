/*
 * tools/mock-apim/mockapim_data.h
 * The mock's demo world: customers, vehicles, dealers (with DMS codes and coordinates), place
 * names, slot grids, service types, DMS cancel reasons and service advisors.
 *
 * All of it is static, compiled-in data, identical in every process: "pre-booked" slot
 * occupancy comes from an FNV-1a hash of (dealer, date, slot), never from rand() or a salted
 * hash (the prior mock's hash() seeding changed per process). Bookings made at run time live in
 * the database (mockapim_db.h); this module only answers "what exists" and normalises inputs.
 * Pure functions over const tables; thread-safe.
 */
#ifndef GW_MOCKAPIM_DATA_H
#define GW_MOCKAPIM_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Service types of the service-booking API, as a bit set on dealers. */
enum gw_mockapim_service {
    GW_MOCKAPIM_SVC_REGULAR = 1,
    GW_MOCKAPIM_SVC_EXPRESS = 2,
    GW_MOCKAPIM_SVC_BODY_REPAIR = 4
};

struct gw_mockapim_customer {
    const char *customer_id, *name, *mobile, *email, *address, *city;
};

struct gw_mockapim_vehicle {
    const char *vehicle_id, *registration_number, *model, *variant, *color;
    int year;
    const char *fuel_type, *last_service_date, *next_service_due;
    int odometer_km;
    const char *owner_customer_id;
    const char *model_code, *variant_code, *fuel_code; /* DMS codes */
};

struct gw_mockapim_dealer {
    const char *dealer_id; /* service-booking id, e.g. MSIL-PUNE-001 */
    const char *name, *address, *city, *area, *phone, *opening_hours;
    double latitude, longitude, rating;
    unsigned services;  /* enum gw_mockapim_service bits */
    int bays;           /* capacity of each slot */
    const char *dms_dealer_code, *dms_loc_code, *parent_group, *pin_code;
};

struct gw_mockapim_place {
    const char *name; /* lower case, words separated by one space */
    const char *display;
    const char *city;
    double latitude, longitude;
    bool is_city;
};

struct gw_mockapim_dms_slot {
    const char *slot_code;      /* "1100-1300" */
    const char *slot_time_code; /* "1230-1245" */
};

struct gw_mockapim_cancel_reason {
    const char *code, *reason, *description;
};

struct gw_mockapim_advisor {
    const char *sa_code, *name;
};

/* Table access: the number of entries, and entry i (NULL when i is out of range). The
 * returned pointers are to static data: valid for the life of the process. */
size_t gw_mockapim_customer_count(void);
const struct gw_mockapim_customer *gw_mockapim_customer_at(size_t i);
size_t gw_mockapim_vehicle_count(void);
const struct gw_mockapim_vehicle *gw_mockapim_vehicle_at(size_t i);
size_t gw_mockapim_dealer_count(void);
const struct gw_mockapim_dealer *gw_mockapim_dealer_at(size_t i);
size_t gw_mockapim_dms_slot_count(void);
const struct gw_mockapim_dms_slot *gw_mockapim_dms_slot_at(size_t i);
size_t gw_mockapim_cancel_reason_count(void);
const struct gw_mockapim_cancel_reason *gw_mockapim_cancel_reason_at(size_t i);
size_t gw_mockapim_advisor_count(void);
const struct gw_mockapim_advisor *gw_mockapim_advisor_at(size_t i);

/* Normalises an Indian mobile number: drops spaces, dashes, dots, parentheses, a "+91"/"91"
 * country prefix (12 digits) or a trunk "0" (11 digits); the rest must be 10 digits starting
 * 6-9. Writes the 10 digits to out (>= 11 bytes). GW_OK or GW_EINVAL. */
int gw_mockapim_mobile_normalise(const char *in, char *out, size_t cap);

/* Normalises a registration number: upper case, spaces/dashes/dots removed; must then read
 * like MH12AB1234 (state, 1-2 digits, 1-3 letters, 4 digits) or a BH-series 22BH1234AA.
 * out needs >= 16 bytes. GW_OK or GW_EINVAL. */
int gw_mockapim_regno_normalise(const char *in, char *out, size_t cap);

/* Lookups by exact (normalised) key; NULL when unknown. Customer ids match case-insensitively. */
const struct gw_mockapim_customer *gw_mockapim_customer_by_mobile(const char *mobile10);
const struct gw_mockapim_customer *gw_mockapim_customer_by_id(const char *customer_id);
const struct gw_mockapim_vehicle *gw_mockapim_vehicle_by_regno(const char *regno);
const struct gw_mockapim_dealer *gw_mockapim_dealer_by_id(const char *dealer_id);
/* DMS lookup: dealer code plus location code (loc may be NULL to match the code alone). */
const struct gw_mockapim_dealer *gw_mockapim_dealer_by_dms(const char *dealer_code,
                                                           const char *loc_code);

/* Finds the most specific known place named in free text such as "Hinjewadi, Pune" or
 * "near baner pune": an area wins over a city; among areas, one in a city also named wins.
 * NULL when no known place is named. */
const struct gw_mockapim_place *gw_mockapim_place_find(const char *text);

/* Comma-separated list of the known city names, for hints ("Pune, Mumbai, ..."). */
const char *gw_mockapim_place_cities(void);

/* Great-circle distance in km (haversine, mean Earth radius). */
double gw_mockapim_distance_km(double lat1, double lon1, double lat2, double lon2);

/* Service type name ("regular", "express", "body_repair") to its bit, 0 when unknown; and
 * the display of its typical duration. */
unsigned gw_mockapim_service_parse(const char *name);
const char *gw_mockapim_service_duration(unsigned svc);

/* The service-booking slot grid: start times "HH:MM", 30 minutes each. */
size_t gw_mockapim_slot_count(void);
const char *gw_mockapim_slot_time(size_t i);
/* Index of a start time in the grid, or -1. */
int gw_mockapim_slot_index(const char *hhmm);

/* Deterministic pre-booked count of a slot, in [0, capacity - 1] (every slot keeps at least one
 * place before run-time bookings): FNV-1a of "key|date|slot" modulo capacity. */
int gw_mockapim_slot_seeded(const char *key, const char *date_iso, const char *slot,
                            int capacity);

/* Capacity of one DMS slot time (the same at every DMS location). */
#define GW_MOCKAPIM_DMS_SLOT_CAPACITY 3

/* Index of a (slotCode, slotTimeCode) pair in the DMS grid, or -1. */
int gw_mockapim_dms_slot_index(const char *slot_code, const char *slot_time_code);

/* 64-bit FNV-1a of a NUL-terminated string (exposed for tests and stable ids). */
uint64_t gw_mockapim_fnv1a(const char *s);

#endif
