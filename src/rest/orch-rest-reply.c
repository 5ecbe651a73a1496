/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-rest-reply.h"
#include "orch-rest-json.h"

#include "client/orch-client.h"

#include <glib/gi18n.h>
#include <string.h>

void
orch_rest_respond (SoupServerMessage *msg, guint status, const char *content_type, const char *body)
{
  soup_server_message_set_status (msg, status, NULL);
  /* set_response appends; an early refusal finds the prefilled error there
   * (orch-rest-server.c). */
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body, strlen (body));
}

void
orch_rest_respond_json (SoupServerMessage *msg, guint status, const char *json)
{
  orch_rest_respond (msg, status, "application/json; charset=utf-8", json);
}

/* @body handed to libsoup as it is, not copied: a job list is large. */
void
orch_rest_respond_take (SoupServerMessage *msg, guint status, const char *content_type,
                        GString *body)
{
  gsize len = body->len;

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_TAKE,
                                    g_string_free (body, FALSE), len);
}

void
orch_rest_respond_json_take (SoupServerMessage *msg, guint status, GString *json)
{
  orch_rest_respond_take (msg, status, "application/json; charset=utf-8", json);
}

void
orch_rest_respond_bytes (SoupServerMessage *msg, guint status, const char *content_type,
                         GBytes *body)
{
  SoupMessageBody *out = soup_server_message_get_response_body (msg);

  soup_server_message_set_status (msg, status, NULL);
  soup_message_body_truncate (out);
  soup_message_body_append_bytes (out, body);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Content-Type",
                                content_type);
}

void
orch_rest_respond_http_error (SoupServerMessage *msg, guint status, OrchError code,
                              const char *message)
{
  g_autofree char *json = orch_rest_error_json (orch_error_to_short_name (code), message);

  /* Each cause of a 503 is brief: a flood, a bus coming back. */
  if (status == 503)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "1");
  orch_rest_respond_json (msg, status, json);
}

void
orch_rest_respond_error (SoupServerMessage *msg, OrchError code, const char *message)
{
  orch_rest_respond_http_error (msg, orch_error_to_http_status (code), code, message);
}

void
orch_rest_respond_no_bus (SoupServerMessage *msg)
{
  orch_rest_respond_error (
      msg, ORCH_ERROR_UNAVAILABLE,
      _("orchestrator-rest lost the bus and is connecting again; try again shortly"));
}

void
orch_rest_respond_timeout (SoupServerMessage *msg)
{
  orch_rest_respond_error (
      msg, ORCH_ERROR_TIMEOUT,
      _("orchestratord did not answer in time; a change asked for may still happen"));
}

void
orch_rest_respond_gerror (SoupServerMessage *msg, GError *error)
{
  OrchError code = orch_client_error_code (error);

  /* Where GDBus has no words a user can act on, the shim's own. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    orch_rest_respond_timeout (msg);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    orch_rest_respond_no_bus (msg);
  else if (code == ORCH_ERROR_UNAVAILABLE)
    orch_rest_respond_error (msg, code, _("orchestratord is not running on the bus"));
  else
    {
      g_dbus_error_strip_remote_error (error);
      orch_rest_respond_error (msg, code, error->message);
    }
}
