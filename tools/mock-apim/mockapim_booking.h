/*
 * tools/mock-apim/mockapim_booking.h
 * The service-booking API (/api/v1/...), written for MCP use: every operation is one tool of
 * the demo journey "book a service for MH12AB1234 tomorrow at 10 AM near Hinjewadi, Pune".
 *
 *   GET  /api/v1/customers/resolve?mobile=|customer_id=     resolveCustomer
 *   GET  /api/v1/vehicles/resolve?registration_number=      resolveVehicle
 *   GET  /api/v1/dealers/nearby?location=|latitude&longitude findNearbyDealers
 *   GET  /api/v1/dealers/{dealer_id}                        getDealer
 *   GET  /api/v1/dealers/{dealer_id}/slots?date=            getAvailableSlots
 *   POST /api/v1/bookings                                   createBooking (201; 409 when full)
 *   GET  /api/v1/bookings?customer_id=|mobile=|...          listBookings
 *   GET  /api/v1/bookings/{booking_id}                      getBooking (404 when unknown)
 *   POST /api/v1/bookings/{booking_id}/cancel               cancelBooking
 *
 * Status codes: 400 malformed input, 404 unknown customer/vehicle/dealer/booking/place,
 * 409 slot full, 422 well-formed but not allowed (past date, Sunday, service not offered,
 * idempotency key reused with another body). Errors are {"error":{"code","message","hint"}}.
 * Handlers are gw_mockapim_handler_fn (mockapim_req.h); auth is checked before them.
 */
#ifndef GW_MOCKAPIM_BOOKING_H
#define GW_MOCKAPIM_BOOKING_H

#include "mockapim_req.h"

/* How far ahead bookings may be made. */
#define GW_MOCKAPIM_BOOKING_HORIZON_DAYS 60

/* Every handler below is a gw_mockapim_handler_fn: it reads `req` (query, path params, JSON
 * body already parsed and size-limited by the app), fills `resp` with the status and body,
 * and returns GW_OK (database failures become a 500 response). Authentication has been
 * checked before. Handlers borrow everything and block only on the local database. */

/* resolveCustomer: query mobile | customer_id -> 200 customer, 400, 404, 422 mismatch. */
int gw_mockapim_booking_resolve_customer(const struct gw_mockapim_env *env,
                                         const struct gw_mockapim_req *req,
                                         struct gw_mockapim_resp *resp);
/* resolveVehicle: query registration_number -> 200 vehicle, 400, 404. */
int gw_mockapim_booking_resolve_vehicle(const struct gw_mockapim_env *env,
                                        const struct gw_mockapim_req *req,
                                        struct gw_mockapim_resp *resp);
/* findNearbyDealers: location | latitude+longitude, service_type, radius_km, limit -> 200
 * dealers nearest first (empty with a message when none is in the radius), 400, 404. */
int gw_mockapim_booking_nearby_dealers(const struct gw_mockapim_env *env,
                                       const struct gw_mockapim_req *req,
                                       struct gw_mockapim_resp *resp);
/* getDealer: params[0] = dealer_id -> 200 dealer, 404. */
int gw_mockapim_booking_get_dealer(const struct gw_mockapim_env *env,
                                   const struct gw_mockapim_req *req,
                                   struct gw_mockapim_resp *resp);
/* getAvailableSlots: params[0] = dealer_id, query date, service_type -> 200 slot list, 400,
 * 404, 422 (past, Sunday, too far, service not offered). */
int gw_mockapim_booking_slots(const struct gw_mockapim_env *env,
                              const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);
/* createBooking: JSON body, optional Idempotency-Key header -> 201 booking (+ Location), 200
 * idempotent replay, 400, 404, 409 SLOT_FULL, 422. Writes the database. */
int gw_mockapim_booking_create(const struct gw_mockapim_env *env,
                               const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);
/* listBookings: query customer_id, mobile, registration_number, status -> 200 list, 400. */
int gw_mockapim_booking_list(const struct gw_mockapim_env *env,
                             const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);
/* getBooking: params[0] = booking_id -> 200 booking, 404 (never a made-up success). */
int gw_mockapim_booking_get(const struct gw_mockapim_env *env,
                            const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);
/* cancelBooking: params[0] = booking_id, optional body {reason} -> 200 (also when already
 * cancelled), 404, 422 BOOKING_IN_PAST. Writes the database. */
int gw_mockapim_booking_cancel(const struct gw_mockapim_env *env,
                               const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);

#endif
