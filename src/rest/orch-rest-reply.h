/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-error.h"

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* How the shim answers, in one place: bodies as given, errors as
 * {"error": "<short name>", "message": "..."} with the status of the
 * error table (orch-error.c). */
void orch_rest_respond (SoupServerMessage *msg, guint status, const char *content_type,
                        const char *body);
void orch_rest_respond_json (SoupServerMessage *msg, guint status, const char *json);
void orch_rest_respond_take (SoupServerMessage *msg, guint status, const char *content_type,
                             GString *body);
void orch_rest_respond_json_take (SoupServerMessage *msg, guint status, GString *json);
/* @body shared, not copied: an answer kept for many requests. */
void orch_rest_respond_bytes (SoupServerMessage *msg, guint status, const char *content_type,
                              GBytes *body);

/* @error, the shim's own or a failed call's to orchestratord: its code
 * (orch_client_error_code) says the status and the name, so the daemon's
 * NotFound is 404, malformed JSON 400, a bad value 422; no bus, or no
 * daemon on it, is 503 Unavailable; no answer in time, 504 Timeout. */
void orch_rest_respond_gerror (SoupServerMessage *msg, GError *error);
/* An error the shim finds itself, by its code.  A 503 also says when to
 * try again (Retry-After). */
void orch_rest_respond_error (SoupServerMessage *msg, OrchError code, const char *message);
/* The same with a status of HTTP's own that says more than the code's:
 * 401 no token, 405 wrong method, 413 and 431 too large, 503 a flood. */
void orch_rest_respond_http_error (SoupServerMessage *msg, guint status, OrchError code,
                                   const char *message);

/* Answers of the shim's own while orchestratord cannot be asked. */
void orch_rest_respond_no_bus (SoupServerMessage *msg);
void orch_rest_respond_timeout (SoupServerMessage *msg);

G_END_DECLS
