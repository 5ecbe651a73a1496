/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-rest-access.h"
#include "orch-rest-reply.h"

#include <glib/gi18n.h>
#include <string.h>

/* Constant time in the token's content: every byte is compared. */
static gboolean
token_equal (const char *token, const char *have, gsize n_have)
{
  gsize want = strlen (token);
  guint diff = 0;

  for (gsize i = 0; i < want; i++)
    diff |= (guint) (token[i] ^ (i < n_have ? have[i] : 0));
  return diff == 0 && n_have == want;
}

static gboolean
authorized (SoupServerMessage *msg, const char *token)
{
  const char *h = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                "Authorization");

  if (token == NULL)
    return TRUE;
  if (h == NULL || g_ascii_strncasecmp (h, "Bearer ", 7) != 0)
    return FALSE;
  return token_equal (token, h + 7, strlen (h + 7));
}

/* A browser's WebSocket cannot send Authorization, and a token in the
 * URL would land in access logs and history; what it can send is a list
 * of subprotocols, which stays in the handshake's headers. */
static gboolean
authorized_by_protocol (SoupServerMessage *msg, const char *token)
{
  const char *h = soup_message_headers_get_list (soup_server_message_get_request_headers (msg),
                                                 "Sec-WebSocket-Protocol");
  gsize prefix = strlen (ORCH_REST_WS_TOKEN_PREFIX);
  gboolean ok = FALSE;
  GSList *list;

  if (h == NULL)
    return FALSE;
  list = soup_header_parse_list (h);
  for (GSList *l = list; l; l = l->next)
    {
      const char *p = l->data;
      if (strncmp (p, ORCH_REST_WS_TOKEN_PREFIX, prefix) == 0)
        ok |= token_equal (token, p + prefix, strlen (p + prefix));
    }
  soup_header_free_list (list);
  return ok;
}

gboolean
orch_rest_access_token_fits_protocol (const char *token)
{
  /* RFC 9110 tchar: a subprotocol is a token. */
  for (const char *p = token; *p; p++)
    if (!g_ascii_isalnum (*p) && strchr ("!#$%&'*+-.^_`|~", *p) == NULL)
      return FALSE;
  return TRUE;
}

static gboolean
refuse (SoupServerMessage *msg)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "WWW-Authenticate",
                                "Bearer");
  orch_rest_respond_http_error (msg, 401, ORCH_ERROR_PERMISSION_DENIED,
                                _("a valid bearer token is required"));
  return FALSE;
}

gboolean
orch_rest_access_check_ws_token (SoupServerMessage *msg, const char *token)
{
  if (authorized (msg, token) || authorized_by_protocol (msg, token))
    return TRUE;
  return refuse (msg);
}

gboolean
orch_rest_access_check_token (SoupServerMessage *msg, const char *token)
{
  if (authorized (msg, token))
    return TRUE;
  return refuse (msg);
}

static const char *
cors_origin (SoupServerMessage *msg, const char *const *origins)
{
  const char *origin = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     "Origin");

  if (origin == NULL)
    return NULL;
  for (const char *const *o = origins; *o; o++)
    if (strcmp (*o, "*") == 0 || strcmp (*o, origin) == 0)
      return origin;
  return NULL;
}

void
orch_rest_access_cors_headers (SoupServerMessage *msg, const char *const *origins)
{
  SoupMessageHeaders *out = soup_server_message_get_response_headers (msg);
  const char *origin = cors_origin (msg, origins);

  if (origins[0] == NULL)
    return;
  soup_message_headers_append (out, "Vary", "Origin");
  if (origin)
    soup_message_headers_replace (out, "Access-Control-Allow-Origin", origin);
}

void
orch_rest_access_cors_preflight (SoupServerMessage *msg, const char *const *origins)
{
  SoupMessageHeaders *out = soup_server_message_get_response_headers (msg);

  if (cors_origin (msg, origins) == NULL)
    {
      orch_rest_respond_error (msg, ORCH_ERROR_PERMISSION_DENIED,
                               _("this origin is not allowed ([rest] cors_origins)"));
      return;
    }
  soup_message_headers_replace (out, "Access-Control-Allow-Methods", "GET, POST, DELETE, PATCH");
  soup_message_headers_replace (out, "Access-Control-Allow-Headers", "Authorization, Content-Type");
  soup_message_headers_replace (out, "Access-Control-Max-Age", "600");
  soup_server_message_set_status (msg, 204, NULL);
}
