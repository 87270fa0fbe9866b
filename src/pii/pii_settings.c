/*
 * src/pii/pii_settings.c
 * The GW_PII_* settings: which detectors run, which fields are masked or dropped, extra
 * patterns. The pseudonym key itself is key material handled by the app (GW_PII_KEY or a key
 * file under GW_DATA_DIR), see docs/audit.md.
 */
#include "pii/pii.h"

const struct gw_setting_def gw_pii_settings[] = {
    {"GW_PII_KEY", GW_SET_SECRET, "", 0, 0, NULL, "PII masking",
     "Key of the keyed pseudonyms (HMAC-SHA256) that replace personal data in the audit trail, "
     "logs and traces: at least 16 bytes, given as 64 hex characters or any text of >= 32 "
     "characters. Empty: a random key is created once in `GW_DATA_DIR/audit/pii.key` (keep it: "
     "the same value keeps the same pseudonym only under the same key). Replicas must share it."},
    {"GW_PII_VEHICLE", GW_SET_BOOL, "true", 0, 0, NULL, "PII masking",
     "Mask Indian vehicle registration numbers (MH12AB1234, 22BH1234AB): a registration "
     "identifies its owner. `false` keeps them in clear in the audit trail, logs and traces."},
    {"GW_PII_MASK_FIELDS", GW_SET_STRING,
     "aadhaar,aadhaar_number,pan,pan_number,mobile,mobile_number,phone,phone_number,email,"
     "email_address,card_number,account_number,customer_name,full_name,first_name,last_name,"
     "date_of_birth,dob,address",
     0, 0, NULL, "PII masking",
     "JSON field names (compared lower-case without _ and -) whose whole value is replaced by "
     "a pseudonym in audited arguments, whatever it looks like."},
    {"GW_PII_REDACT_FIELDS", GW_SET_STRING,
     "password,passwd,secret,token,access_token,refresh_token,id_token,api_key,apikey,"
     "authorization,otp,pin,cvv,cvc,client_secret",
     0, 0, NULL, "PII masking",
     "Field names whose value is dropped (\"[redacted]\", no pseudonym): secrets."},
    {"GW_PII_PATTERNS", GW_SET_STRING, "", 0, 0, NULL, "PII masking",
     "Extra patterns to mask: `name=regex` entries separated by `;` (PCRE2 syntax; `name` "
     "becomes the pseudonym's type), e.g. `custid=CUST[0-9]{8}`."},
    GW_SETTINGS_END};

void gw_pii_options_from_settings(struct gw_pii_options *o, const struct gw_settings *s)
{
    o->key = NULL;
    o->key_len = 0;
    o->vehicle = gw_settings_bool(s, "GW_PII_VEHICLE");
    o->mask_fields = gw_settings_str(s, "GW_PII_MASK_FIELDS");
    o->redact_fields = gw_settings_str(s, "GW_PII_REDACT_FIELDS");
    o->patterns = gw_settings_str(s, "GW_PII_PATTERNS");
}
