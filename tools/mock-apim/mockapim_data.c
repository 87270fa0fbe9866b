/*
 * tools/mock-apim/mockapim_data.c
 * The static demo world. Customers, vehicles and the Pune/Mumbai/Bangalore/Delhi dealers are
 * those of the prior Python mock (same ids, names, phone numbers, services); dealers gain
 * coordinates, a bay count (slot capacity) and DMS dealer/location codes, and the dealers that
 * the DMS swagger uses in its examples (10744/OKF, 10741/GTK, ...) are added so that the DMS
 * API and the service-booking API describe one world. Nothing here changes at run time.
 */
#include "mockapim_data.h"

#include "core/err.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ALL_SVC (GW_MOCKAPIM_SVC_REGULAR | GW_MOCKAPIM_SVC_EXPRESS | GW_MOCKAPIM_SVC_BODY_REPAIR)
#define REG_EXP (GW_MOCKAPIM_SVC_REGULAR | GW_MOCKAPIM_SVC_EXPRESS)

static const struct gw_mockapim_customer customers[] = {
    {"CUST001234", "Rahul Sharma", "9876543210", "rahul.sharma@email.com",
     "Flat 302, Green Valley Apartments, Hinjewadi", "Pune"},
    {"CUST001235", "Priya Patel", "9876543211", "priya.patel@email.com",
     "House 45, Sector 7, Baner", "Pune"},
    {"CUST001236", "Amit Kumar", "9876543212", "amit.kumar@email.com",
     "B-201, Tech Park Residency, Whitefield", "Bangalore"},
    {"CUST001237", "Demo User", "9123456789", "demo@msil.com", "Demo Address, Hinjewadi", "Pune"},
    {"CUST001238", "Vinod Khanna", "9811122233", "vinod.khanna@email.com",
     "C-14, Okhla Phase 2", "Delhi"},
};

static const struct gw_mockapim_vehicle vehicles[] = {
    {"VEH001234", "MH12AB1234", "Maruti Suzuki Swift", "ZXI+", "Pearl White", 2023, "Petrol",
     "2025-07-15", "2026-01-15", 18500, "CUST001234", "SWF", "SWFZXP1", "PET"},
    {"VEH001235", "MH12CD5678", "Maruti Suzuki Baleno", "Alpha", "Nexa Blue", 2024, "Petrol",
     "2025-10-20", "2026-04-20", 8200, "CUST001235", "BLN", "BLNALP1", "PET"},
    {"VEH001236", "MH14EF9012", "Maruti Suzuki Brezza", "ZXI+ AT", "Splendid Silver", 2022,
     "Petrol", "2025-09-10", "2026-03-10", 32000, "CUST001234", "BRZ", "BRZZXA1", "PET"},
    {"VEH001237", "KA01MN3456", "Maruti Suzuki Ertiga", "VXI CNG", "Auburn Red", 2023,
     "Petrol + CNG", "2025-11-05", "2026-05-05", 25000, "CUST001236", "ERT", "ERTVXC1", "CNG"},
    {"VEH001238", "DL8CAB7890", "Maruti Suzuki Dzire", "ZXI", "Magma Grey", 2024, "Petrol",
     "2025-12-01", "2026-06-01", 5500, "CUST001237", "DZR", "DZRZXI1", "PET"},
    {"VEH001239", "DL3CCA1985", "Maruti Suzuki XL6", "Alpha", "Arctic White", 2021, "Petrol",
     "2025-08-25", "2026-02-25", 65000, "CUST001238", "XL", "XLA4AZ1", "PET"},
    {"VEH001240", "HR26DC5156", "Maruti Suzuki Wagon R", "VXI", "Poolside Blue", 2020, "Petrol",
     "2025-06-30", "2025-12-30", 41000, "CUST001238", "WGR", "WGRVXI1", "PET"},
};

static const struct gw_mockapim_dealer dealers[] = {
    {"MSIL-PUNE-001", "Maruti Suzuki Arena - Hinjewadi",
     "Plot 45, Phase 1, Hinjewadi IT Park, Pune - 411057", "Pune", "Hinjewadi", "+91-20-67890123",
     "Mon-Sat 09:00-18:00", 18.5880, 73.7340, 4.5, ALL_SVC, 4, "11201", "HJW", "MAGIC", "411057"},
    {"MSIL-PUNE-002", "Maruti Suzuki NEXA - Baner", "Survey No. 132, Baner Road, Pune - 411045",
     "Pune", "Baner", "+91-20-67890124", "Mon-Sat 09:00-19:00", 18.5635, 73.7810, 4.7, REG_EXP,
     3, "11202", "BNR", "MAGIC", "411045"},
    {"MSIL-PUNE-003", "Maruti Suzuki Arena - Kharadi",
     "EON IT Park Road, Kharadi, Pune - 411014", "Pune", "Kharadi", "+91-20-67890125",
     "Mon-Sat 09:00-18:00", 18.5497, 73.9410, 4.3, ALL_SVC, 3, "11203", "KHR", "MAGIC",
     "411014"},
    {"MSIL-PUNE-004", "Maruti Suzuki Arena - Wakad", "Datta Mandir Road, Wakad, Pune - 411057",
     "Pune", "Wakad", "+91-20-67890126", "Mon-Sat 09:00-18:00", 18.6010, 73.7620, 4.4, REG_EXP,
     3, "11204", "WKD", "MAGIC", "411057"},
    {"MSIL-MUM-001", "Maruti Suzuki Arena - Andheri",
     "Andheri-Kurla Road, Andheri East, Mumbai - 400059", "Mumbai", "Andheri", "+91-22-67890127",
     "Mon-Sat 09:00-19:00", 19.1190, 72.8700, 4.6, ALL_SVC, 5, "11301", "AND", "PRISTINE",
     "400059"},
    {"MSIL-MUM-002", "Pristine Autotech - Malad", "Link Road, Malad West, Mumbai - 400064",
     "Mumbai", "Malad", "+91-22-67890131", "Mon-Sat 09:00-18:00", 19.1860, 72.8485, 4.2, ALL_SVC,
     3, "5303", "MLD", "PRISTINE", "400064"},
    {"MSIL-BLR-001", "Maruti Suzuki Arena - Whitefield",
     "ITPL Main Road, Whitefield, Bangalore - 560066", "Bangalore", "Whitefield",
     "+91-80-67890128", "Mon-Sat 09:00-18:00", 12.9750, 77.7280, 4.5, ALL_SVC, 4, "11401", "WTF",
     "MANDOVI", "560066"},
    {"MSIL-DEL-001", "Maruti Suzuki Arena - Dwarka", "Sector 12, Dwarka, New Delhi - 110075",
     "Delhi", "Dwarka", "+91-11-67890129", "Mon-Sat 09:00-18:00", 28.5823, 77.0500, 4.4, ALL_SVC,
     4, "11037", "DWK", "FSM", "110075"},
    {"MSIL-DEL-002", "Vipul Maruti - Okhla", "A-21, Okhla Industrial Area Phase 2, New Delhi - 110020",
     "Delhi", "Okhla", "+91-11-67890132", "Mon-Sat 09:00-18:00", 28.5300, 77.2710, 4.3, ALL_SVC,
     4, "10744", "OKF", "VIPUL", "110020"},
    {"MSIL-DEL-003", "Maruti Suzuki Arena - GT Karnal Road",
     "GT Karnal Road, Azadpur, New Delhi - 110033", "Delhi", "Azadpur", "+91-11-67890133",
     "Mon-Sat 09:00-18:00", 28.7100, 77.1750, 4.1, REG_EXP, 3, "10741", "GTK", "MAGIC",
     "110033"},
    {"MSIL-HYD-001", "Saboo RKS Motor - Nacharam",
     "Plot 7, IDA Nacharam, Hyderabad - 500076", "Hyderabad", "Nacharam", "+91-40-67890134",
     "Mon-Sat 09:00-18:00", 17.4300, 78.5580, 4.4, ALL_SVC, 3, "10266", "NCH", "SABOO",
     "500076"},
};

static const struct gw_mockapim_place places[] = {
    {"hinjewadi", "Hinjewadi, Pune", "Pune", 18.5913, 73.7389, false},
    {"hinjawadi", "Hinjewadi, Pune", "Pune", 18.5913, 73.7389, false},
    {"baner", "Baner, Pune", "Pune", 18.5590, 73.7868, false},
    {"kharadi", "Kharadi, Pune", "Pune", 18.5515, 73.9348, false},
    {"wakad", "Wakad, Pune", "Pune", 18.5987, 73.7688, false},
    {"aundh", "Aundh, Pune", "Pune", 18.5580, 73.8075, false},
    {"kothrud", "Kothrud, Pune", "Pune", 18.5074, 73.8077, false},
    {"viman nagar", "Viman Nagar, Pune", "Pune", 18.5679, 73.9143, false},
    {"hadapsar", "Hadapsar, Pune", "Pune", 18.5089, 73.9260, false},
    {"andheri", "Andheri, Mumbai", "Mumbai", 19.1136, 72.8697, false},
    {"malad", "Malad, Mumbai", "Mumbai", 19.1874, 72.8484, false},
    {"powai", "Powai, Mumbai", "Mumbai", 19.1176, 72.9060, false},
    {"bandra", "Bandra, Mumbai", "Mumbai", 19.0596, 72.8295, false},
    {"whitefield", "Whitefield, Bangalore", "Bangalore", 12.9698, 77.7500, false},
    {"koramangala", "Koramangala, Bangalore", "Bangalore", 12.9352, 77.6245, false},
    {"electronic city", "Electronic City, Bangalore", "Bangalore", 12.8399, 77.6770, false},
    {"dwarka", "Dwarka, Delhi", "Delhi", 28.5921, 77.0460, false},
    {"okhla", "Okhla, Delhi", "Delhi", 28.5355, 77.2750, false},
    {"azadpur", "Azadpur, Delhi", "Delhi", 28.7075, 77.1755, false},
    {"connaught place", "Connaught Place, Delhi", "Delhi", 28.6315, 77.2167, false},
    {"nacharam", "Nacharam, Hyderabad", "Hyderabad", 17.4295, 78.5620, false},
    {"pune", "Pune", "Pune", 18.5204, 73.8567, true},
    {"mumbai", "Mumbai", "Mumbai", 19.0760, 72.8777, true},
    {"bombay", "Mumbai", "Mumbai", 19.0760, 72.8777, true},
    {"bangalore", "Bangalore", "Bangalore", 12.9716, 77.5946, true},
    {"bengaluru", "Bangalore", "Bangalore", 12.9716, 77.5946, true},
    {"new delhi", "Delhi", "Delhi", 28.6139, 77.2090, true},
    {"delhi", "Delhi", "Delhi", 28.6139, 77.2090, true},
    {"hyderabad", "Hyderabad", "Hyderabad", 17.3850, 78.4867, true},
};

static const char *const slot_times[] = {"09:00", "09:30", "10:00", "10:30", "11:00",
                                         "11:30", "12:00", "14:00", "14:30", "15:00",
                                         "15:30", "16:00", "16:30", "17:00"};

static const struct gw_mockapim_dms_slot dms_slots[] = {
    {"0900-1100", "0900-0915"}, {"0900-1100", "0945-1000"}, {"0900-1100", "1030-1045"},
    {"1100-1300", "1100-1115"}, {"1100-1300", "1145-1200"}, {"1100-1300", "1230-1245"},
    {"1400-1600", "1400-1415"}, {"1400-1600", "1445-1500"}, {"1400-1600", "1530-1545"},
    {"1600-1800", "1600-1615"}, {"1600-1800", "1645-1700"}, {"1600-1800", "1730-1745"},
};

static const struct gw_mockapim_cancel_reason cancel_reasons[] = {
    {"RESCHEDULED", "Want to reschedule", "Customer wants a different date or time"},
    {"EMERGENCY", "Personal emergency", "Customer cannot come because of an emergency"},
    {"VEHICLE_NOT_READY", "Vehicle not ready", "Vehicle is not available on the day"},
    {"COST_CONCERN", "Cost concerns", "Customer is not comfortable with the estimate"},
    {"BOOKED_ELSEWHERE", "Booked at another dealer", "Service booked at another workshop"},
    {"TRAVEL", "Out of town", "Customer is travelling"},
    {"OTHER", "Other reasons", "Any other reason"},
};

static const struct gw_mockapim_advisor advisors[] = {
    {"0147", "Ravi Verma"},
    {"0152", "Sneha Kulkarni"},
    {"0163", "Imran Shaikh"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define AT(a, i) ((i) < COUNT(a) ? &(a)[i] : NULL)

size_t gw_mockapim_customer_count(void)
{
    return COUNT(customers);
}
const struct gw_mockapim_customer *gw_mockapim_customer_at(size_t i)
{
    return AT(customers, i);
}
size_t gw_mockapim_vehicle_count(void)
{
    return COUNT(vehicles);
}
const struct gw_mockapim_vehicle *gw_mockapim_vehicle_at(size_t i)
{
    return AT(vehicles, i);
}
size_t gw_mockapim_dealer_count(void)
{
    return COUNT(dealers);
}
const struct gw_mockapim_dealer *gw_mockapim_dealer_at(size_t i)
{
    return AT(dealers, i);
}
size_t gw_mockapim_dms_slot_count(void)
{
    return COUNT(dms_slots);
}
const struct gw_mockapim_dms_slot *gw_mockapim_dms_slot_at(size_t i)
{
    return AT(dms_slots, i);
}
size_t gw_mockapim_cancel_reason_count(void)
{
    return COUNT(cancel_reasons);
}
const struct gw_mockapim_cancel_reason *gw_mockapim_cancel_reason_at(size_t i)
{
    return AT(cancel_reasons, i);
}
size_t gw_mockapim_advisor_count(void)
{
    return COUNT(advisors);
}
const struct gw_mockapim_advisor *gw_mockapim_advisor_at(size_t i)
{
    return AT(advisors, i);
}

int gw_mockapim_mobile_normalise(const char *in, char *out, size_t cap)
{
    char d[32];
    size_t n = 0;
    if (!in || cap < 11)
        return GW_EINVAL;
    for (const char *p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (isdigit(c)) {
            if (n + 1 >= sizeof(d))
                return GW_EINVAL;
            d[n++] = (char)c;
        } else if (c == '+' && n == 0) {
            continue;
        } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
            return GW_EINVAL;
        }
    }
    d[n] = '\0';
    const char *p = d;
    if (n == 12 && d[0] == '9' && d[1] == '1')
        p = d + 2;
    else if (n == 11 && d[0] == '0')
        p = d + 1;
    else if (n != 10)
        return GW_EINVAL;
    if (p[0] < '6' || p[0] > '9')
        return GW_EINVAL;
    memcpy(out, p, 10);
    out[10] = '\0';
    return GW_OK;
}

int gw_mockapim_regno_normalise(const char *in, char *out, size_t cap)
{
    char r[16];
    size_t n = 0;
    if (!in || cap < 16)
        return GW_EINVAL;
    for (const char *p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ' || c == '-' || c == '.')
            continue;
        if (!isalnum(c) || n + 1 >= sizeof(r))
            return GW_EINVAL;
        r[n++] = (char)toupper(c);
    }
    r[n] = '\0';
    /* State series: AA 9[9] A[A[A]] 9999. */
    size_t i = 0, k;
    bool ok = false;
    if (n >= 8 && isalpha((unsigned char)r[0]) && isalpha((unsigned char)r[1])) {
        i = 2;
        for (k = 0; k < 2 && i < n && isdigit((unsigned char)r[i]); k++)
            i++;
        if (k >= 1) {
            size_t letters = 0;
            while (i < n && isalpha((unsigned char)r[i]) && letters < 3) {
                i++;
                letters++;
            }
            size_t dg = 0;
            while (i < n && isdigit((unsigned char)r[i])) {
                i++;
                dg++;
            }
            ok = letters >= 1 && dg == 4 && i == n;
        }
    }
    /* Bharat series: 99 BH 9999 A[A]. */
    if (!ok && (n == 9 || n == 10) && isdigit((unsigned char)r[0]) &&
        isdigit((unsigned char)r[1]) && r[2] == 'B' && r[3] == 'H') {
        ok = true;
        for (i = 4; i < 8; i++)
            ok = ok && isdigit((unsigned char)r[i]);
        for (i = 8; i < n; i++)
            ok = ok && isalpha((unsigned char)r[i]);
    }
    if (!ok)
        return GW_EINVAL;
    memcpy(out, r, n + 1);
    return GW_OK;
}

const struct gw_mockapim_customer *gw_mockapim_customer_by_mobile(const char *mobile10)
{
    for (size_t i = 0; mobile10 && i < COUNT(customers); i++)
        if (strcmp(customers[i].mobile, mobile10) == 0)
            return &customers[i];
    return NULL;
}

const struct gw_mockapim_customer *gw_mockapim_customer_by_id(const char *customer_id)
{
    for (size_t i = 0; customer_id && i < COUNT(customers); i++)
        if (strcasecmp(customers[i].customer_id, customer_id) == 0)
            return &customers[i];
    return NULL;
}

const struct gw_mockapim_vehicle *gw_mockapim_vehicle_by_regno(const char *regno)
{
    for (size_t i = 0; regno && i < COUNT(vehicles); i++)
        if (strcmp(vehicles[i].registration_number, regno) == 0)
            return &vehicles[i];
    return NULL;
}

const struct gw_mockapim_dealer *gw_mockapim_dealer_by_id(const char *dealer_id)
{
    for (size_t i = 0; dealer_id && i < COUNT(dealers); i++)
        if (strcasecmp(dealers[i].dealer_id, dealer_id) == 0)
            return &dealers[i];
    return NULL;
}

const struct gw_mockapim_dealer *gw_mockapim_dealer_by_dms(const char *dealer_code,
                                                           const char *loc_code)
{
    for (size_t i = 0; dealer_code && i < COUNT(dealers); i++)
        if (strcmp(dealers[i].dms_dealer_code, dealer_code) == 0 &&
            (!loc_code || strcasecmp(dealers[i].dms_loc_code, loc_code) == 0))
            return &dealers[i];
    return NULL;
}

/* Lower-cases text into out with every run of non-alphanumerics turned into one space and a
 * space at both ends, so that " name " substring tests match whole words only. */
static void words(const char *text, char *out, size_t cap)
{
    size_t n = 0;
    out[n++] = ' ';
    for (const char *p = text; *p && n + 2 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c))
            out[n++] = (char)tolower(c);
        else if (out[n - 1] != ' ')
            out[n++] = ' ';
    }
    if (out[n - 1] != ' ')
        out[n++] = ' ';
    out[n] = '\0';
}

/* True when the word sequence `name` appears in the normalised text w. */
static bool names_place(const char *w, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof(pat), " %s ", name);
    return strstr(w, pat) != NULL;
}

const struct gw_mockapim_place *gw_mockapim_place_find(const char *text)
{
    char w[512];
    const struct gw_mockapim_place *city = NULL, *area = NULL;
    if (!text)
        return NULL;
    words(text, w, sizeof(w));
    for (size_t i = 0; i < COUNT(places); i++)
        if (places[i].is_city && !city && names_place(w, places[i].name))
            city = &places[i];
    for (size_t i = 0; i < COUNT(places); i++) {
        if (places[i].is_city || !names_place(w, places[i].name))
            continue;
        if (!area || (city && strcmp(places[i].city, city->city) == 0 &&
                      strcmp(area->city, city->city) != 0))
            area = &places[i];
    }
    return area ? area : city;
}

const char *gw_mockapim_place_cities(void)
{
    return "Pune, Mumbai, Bangalore, Delhi, Hyderabad";
}

double gw_mockapim_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2.0 * 6371.0 * atan2(sqrt(a), sqrt(1.0 - a));
}

unsigned gw_mockapim_service_parse(const char *name)
{
    if (!name)
        return 0;
    if (strcasecmp(name, "regular") == 0)
        return GW_MOCKAPIM_SVC_REGULAR;
    if (strcasecmp(name, "express") == 0)
        return GW_MOCKAPIM_SVC_EXPRESS;
    if (strcasecmp(name, "body_repair") == 0)
        return GW_MOCKAPIM_SVC_BODY_REPAIR;
    return 0;
}

const char *gw_mockapim_service_duration(unsigned svc)
{
    switch (svc) {
    case GW_MOCKAPIM_SVC_EXPRESS:
        return "60-90 minutes";
    case GW_MOCKAPIM_SVC_BODY_REPAIR:
        return "2-3 days";
    default:
        return "3-4 hours";
    }
}

size_t gw_mockapim_slot_count(void)
{
    return COUNT(slot_times);
}

const char *gw_mockapim_slot_time(size_t i)
{
    return i < COUNT(slot_times) ? slot_times[i] : NULL;
}

int gw_mockapim_slot_index(const char *hhmm)
{
    for (size_t i = 0; hhmm && i < COUNT(slot_times); i++)
        if (strcmp(slot_times[i], hhmm) == 0)
            return (int)i;
    return -1;
}

uint64_t gw_mockapim_fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

int gw_mockapim_slot_seeded(const char *key, const char *date_iso, const char *slot,
                            int capacity)
{
    char buf[160];
    if (capacity <= 1)
        return 0;
    snprintf(buf, sizeof(buf), "%s|%s|%s", key, date_iso, slot);
    return (int)(gw_mockapim_fnv1a(buf) % (uint64_t)capacity);
}

int gw_mockapim_dms_slot_index(const char *slot_code, const char *slot_time_code)
{
    for (size_t i = 0; slot_code && slot_time_code && i < COUNT(dms_slots); i++)
        if (strcmp(dms_slots[i].slot_code, slot_code) == 0 &&
            strcmp(dms_slots[i].slot_time_code, slot_time_code) == 0)
            return (int)i;
    return -1;
}
