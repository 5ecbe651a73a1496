/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Who may use the API: the bearer token and the CORS origins, checked
 * before a request reaches its route. */

/* Whether @msg carries "Authorization: Bearer @token" (any request
 * does when @token is NULL); if not, answers 401 and returns FALSE. */
gboolean orch_rest_access_check_token (SoupServerMessage *msg, const char *token);

/* The WebSocket handshake: the same, or, for a browser, the token as one
 * of the offered subprotocols, "orchestrator.token.@token", beside
 * ORCH_REST_WS_PROTOCOL, the only one the server echoes. */
#define ORCH_REST_WS_PROTOCOL "orchestrator.v1"
#define ORCH_REST_WS_TOKEN_PREFIX "orchestrator.token."
gboolean orch_rest_access_check_ws_token (SoupServerMessage *msg, const char *token);
/* Whether @token can be sent as a subprotocol (RFC 9110 token chars). */
gboolean orch_rest_access_token_fits_protocol (const char *token);

/* CORS only for @origins ("*" for any; empty: no CORS headers at all),
 * so a browser page elsewhere gets nothing by default. */
void orch_rest_access_cors_headers (SoupServerMessage *msg, const char *const *origins);
/* Answers an OPTIONS preflight: 204, or 403 for an origin not allowed. */
void orch_rest_access_cors_preflight (SoupServerMessage *msg, const char *const *origins);

G_END_DECLS
