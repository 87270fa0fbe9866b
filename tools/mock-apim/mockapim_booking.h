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

int gw_mockapim_booking_resolve_customer(const struct gw_mockapim_env *env,
                                         const struct gw_mockapim_req *req,
                                         struct gw_mockapim_resp *resp);
int gw_mockapim_booking_resolve_vehicle(const struct gw_mockapim_env *env,
                                        const struct gw_mockapim_req *req,
                                        struct gw_mockapim_resp *resp);
int gw_mockapim_booking_nearby_dealers(const struct gw_mockapim_env *env,
                                       const struct gw_mockapim_req *req,
                                       struct gw_mockapim_resp *resp);
int gw_mockapim_booking_get_dealer(const struct gw_mockapim_env *env,
                                   const struct gw_mockapim_req *req,
                                   struct gw_mockapim_resp *resp);
int gw_mockapim_booking_slots(const struct gw_mockapim_env *env,
                              const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);
int gw_mockapim_booking_create(const struct gw_mockapim_env *env,
                               const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);
int gw_mockapim_booking_list(const struct gw_mockapim_env *env,
                             const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);
int gw_mockapim_booking_get(const struct gw_mockapim_env *env,
                            const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);
int gw_mockapim_booking_cancel(const struct gw_mockapim_env *env,
                               const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);

#endif
