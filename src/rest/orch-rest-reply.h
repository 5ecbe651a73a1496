/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* How the shim answers, in one place: bodies as given, errors as
 * {"error": "<D-Bus error name tail>", "message": "..."}. */
void orch_rest_respond (SoupServerMessage *msg, guint status, const char *content_type,
                        const char *body);
void orch_rest_respond_json (SoupServerMessage *msg, guint status, const char *json);
/* A 503 also says when to try again (Retry-After). */
void orch_rest_respond_error (SoupServerMessage *msg, guint status, const char *tail,
                              const char *message);

/* A call to orchestratord that failed: the daemon's error says the status
 * (404 NotFound, 409 InvalidState ...); no bus, or no daemon on it, is
 * 503 Unavailable; no answer in time, 504 Timeout. */
void orch_rest_respond_call_error (SoupServerMessage *msg, GError *error);

/* Answers of the shim's own while orchestratord cannot be asked. */
void orch_rest_respond_no_bus (SoupServerMessage *msg);
void orch_rest_respond_timeout (SoupServerMessage *msg);

G_END_DECLS
