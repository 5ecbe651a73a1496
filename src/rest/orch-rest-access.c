/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-rest-access.h"
#include "orch-rest-reply.h"

#include <glib/gi18n.h>
#include <string.h>

static gboolean
authorized (SoupServerMessage *msg, const char *token)
{
  const char *h = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                "Authorization");
  gsize want, have;
  guint diff = 0;

  if (token == NULL)
    return TRUE;
  if (h == NULL || g_ascii_strncasecmp (h, "Bearer ", 7) != 0)
    return FALSE;
  h += 7;
  want = strlen (token);
  have = strlen (h);
  /* Constant time in the token's content: every byte is compared. */
  for (gsize i = 0; i < want; i++)
    diff |= (guint) (token[i] ^ (i < have ? h[i] : 0));
  return diff == 0 && have == want;
}

gboolean
orch_rest_access_check_token (SoupServerMessage *msg, const char *token)
{
  if (authorized (msg, token))
    return TRUE;
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "WWW-Authenticate",
                                "Bearer");
  orch_rest_respond_http_error (msg, 401, ORCH_ERROR_PERMISSION_DENIED,
                                _("a valid bearer token is required"));
  return FALSE;
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
  soup_message_headers_replace (out, "Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE");
  soup_message_headers_replace (out, "Access-Control-Allow-Headers", "Authorization, Content-Type");
  soup_message_headers_replace (out, "Access-Control-Max-Age", "600");
  soup_server_message_set_status (msg, 204, NULL);
}
