/*
 * tools/mock-apim/mockapim_dms.h
 * The MSIL DMS appointment API, as the real swagger (dms-preprod-swagger.json, Swagger 2.0,
 * basePath /dms) declares it: same paths, methods, parameter locations and body shapes, and
 * the {"data","error","errors"} envelope of its Success/Error definitions.
 *
 *   POST   /dms/v1/api/common/msil/dms/appointment-booking             body appointmentbook
 *   POST   /dms/v1/api/common/msil/dms/appointment-booking-hyperlocal  body HyperLocal
 *   POST   /dms/v1/api/common/msil/dms/update-appointment-booking      body UpdateBook
 *   DELETE /dms/v1/api/common/msil/dms/cancel-appointment-booking      query appointmentNo,
 *                                              dealerCode, locCd, userId, cancelReason
 *   GET    .../appointment-cancel-reasons?pmc&reasonType
 *   GET    .../appointment-remainder?source
 *   GET    .../service-appointments?regNo[&dealerMapCd&locCd]
 *   GET    .../service-booking-calendar?parentGroup&date&dealerMapCd&locCd[&saCd&slotCd&EV_TRAINED]
 *   GET    .../service-details?fuelType&model&variantCd&city&channel&serviceType&subServiceType
 *   GET    .../nearest-dealers?latitude&longitude&distance          (api key only, as the spec)
 *   GET    .../service-advisor-list[?dealerMapCd&locCd]
 *
 * Failure model (documented in docs/mock-apim.md): a malformed request (missing required
 * parameter or field, wrong type, over maxLength, unparsable date) is HTTP 400 with the Error
 * envelope; a business failure (unknown appointment or dealer, past date, Sunday, slot full,
 * already cancelled) is HTTP 200 with "error": true and errors[], as the swagger's Success
 * definition allows ("Returns false in case of success and true in case of failure").
 * "data" carries objects/arrays (the swagger types it as a string placeholder shared by all
 * 50 operations; a string could not carry an appointment number).
 */
#ifndef GW_MOCKAPIM_DMS_H
#define GW_MOCKAPIM_DMS_H

#include "mockapim_req.h"

/* Every handler below is a gw_mockapim_handler_fn (see mockapim_booking.h for the contract);
 * the inputs and the `data` of each are listed in the table above and in docs/mock-apim.md. */

/* appointment-booking / -hyperlocal: validate, check date, dealer, slot and capacity, store. */
int gw_mockapim_dms_book(const struct gw_mockapim_env *env, const struct gw_mockapim_req *req,
                         struct gw_mockapim_resp *resp);
int gw_mockapim_dms_book_hyperlocal(const struct gw_mockapim_env *env,
                                    const struct gw_mockapim_req *req,
                                    struct gw_mockapim_resp *resp);
/* update-appointment-booking: change slot/SA/odometer/extras of a live appointment. */
int gw_mockapim_dms_update(const struct gw_mockapim_env *env, const struct gw_mockapim_req *req,
                           struct gw_mockapim_resp *resp);
/* cancel-appointment-booking: all five query parameters required. */
int gw_mockapim_dms_cancel(const struct gw_mockapim_env *env, const struct gw_mockapim_req *req,
                           struct gw_mockapim_resp *resp);
/* Reference data and reads: cancel reasons, reminders (marks them sent), the appointments of
 * a vehicle, the slot calendar, service cost, nearest dealers, service advisors. */
int gw_mockapim_dms_cancel_reasons(const struct gw_mockapim_env *env,
                                   const struct gw_mockapim_req *req,
                                   struct gw_mockapim_resp *resp);
int gw_mockapim_dms_reminder(const struct gw_mockapim_env *env,
                             const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);
int gw_mockapim_dms_list(const struct gw_mockapim_env *env, const struct gw_mockapim_req *req,
                         struct gw_mockapim_resp *resp);
int gw_mockapim_dms_calendar(const struct gw_mockapim_env *env,
                             const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);
int gw_mockapim_dms_service_details(const struct gw_mockapim_env *env,
                                    const struct gw_mockapim_req *req,
                                    struct gw_mockapim_resp *resp);
int gw_mockapim_dms_nearest_dealers(const struct gw_mockapim_env *env,
                                    const struct gw_mockapim_req *req,
                                    struct gw_mockapim_resp *resp);
int gw_mockapim_dms_advisors(const struct gw_mockapim_env *env,
                             const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp);
/* Any other path of the swagger: 501 with the Error envelope. */
int gw_mockapim_dms_not_implemented(const struct gw_mockapim_env *env,
                                    const struct gw_mockapim_req *req,
                                    struct gw_mockapim_resp *resp);

#endif
