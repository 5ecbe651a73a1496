/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for what callers send: the Create spec decoder, the
 * shim's JSON body decoder, Logs.Read's options, and the shim's route
 * matcher with its query strings, a schedule's calendar and cron
 * expressions.
 *
 * Input layout: byte 0 selects the decoder (modulo N_TARGETS); the rest
 * is its input.  See tests/fuzz/README and run-fuzz.sh. */
#include "basic/orch-calendar.h"
#include "basic/orch-cron.h"
#include "basic/orch-error.h"
#include "basic/orch-log-read.h"
#include "basic/orch-spec.h"
#include "rest/orch-rest-json.h"
#include "rest/orch-rest-routes.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep in sync with the seeds in run-fuzz.sh. */
enum {
  T_SPEC_SERIALIZED = 0, /* a{sv} as D-Bus/GVariant bytes, as the bus hands it over */
  T_SPEC_TEXT,           /* a{sv} in GVariant text */
  T_JSON_SPEC,           /* a POST /jobs/ body, then the spec decoder on the result */
  T_LOG_OPTIONS,         /* a{sv} options in GVariant text, NUL, then the log */
  T_ROUTE,               /* "METHOD\n/path?query" */
  T_CALENDAR,            /* a schedule's calendar expression */
  T_CRON,                /* a schedule's cron expression */
  N_TARGETS
};

#define FAIL(...)                                                              \
  do {                                                                         \
    fprintf (stderr, "fuzz-input: invariant violated: " __VA_ARGS__);          \
    fputc ('\n', stderr);                                                      \
    abort ();                                                                  \
  } while (0)

/* An error must be ours, with a message a user can read. */
static void
check_error (const char *what, const GError *error)
{
  if (error == NULL)
    FAIL ("%s failed without an error", what);
  if (error->domain != ORCH_ERROR)
    FAIL ("%s: error from another domain: %s", what, error->message);
  if (!g_utf8_validate (error->message, -1, NULL))
    FAIL ("%s: error message is not UTF-8", what);
}

/* GVariant text is only our way to write seeds; GLib's own parser turns
 * "\ud800" into a string it then refuses (a critical in GLib, not in
 * us), so such escapes are left out. */
static gboolean
text_is_usable (const char *text)
{
  return g_utf8_validate (text, -1, NULL) && strstr (text, "\\u") == NULL &&
         strstr (text, "\\U") == NULL;
}

static void
decode_spec (GVariant *v)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchSpec) spec = orch_spec_from_variant (v, &error);

  if (spec == NULL)
    {
      check_error ("orch_spec_from_variant", error);
      return;
    }
  if (spec->argv == NULL || spec->argv[0] == NULL || spec->name == NULL)
    FAIL ("a spec without command or name was accepted");
  /* What was accepted goes back out (job records) and must parse again. */
  {
    g_autoptr(GVariant) out = g_variant_ref_sink (orch_spec_to_variant (spec));
    g_autoptr(OrchSpec) again = orch_spec_from_variant (out, &error);
    if (again == NULL)
      FAIL ("orch_spec_to_variant output does not parse: %s", error->message);
  }
}

static void
fuzz_spec_serialized (const guint8 *data, size_t len)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, len);
  g_autoptr(GVariant) v = g_variant_ref_sink (
      g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));

  decode_spec (v);
}

static void
fuzz_spec_text (const guint8 *data, size_t len)
{
  g_autofree char *text = g_strndup ((const char *) data, len);
  g_autoptr(GVariant) v = NULL;

  if (!text_is_usable (text))
    return;
  v = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, NULL);
  if (v)
    decode_spec (v);
}

static void
fuzz_json_spec (const guint8 *data, size_t len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = orch_rest_object_from_json ((const char *) data, len,
                                                      orch_spec_field_types, &error);

  if (v == NULL)
    {
      check_error ("orch_rest_object_from_json", error);
      return;
    }
  g_variant_ref_sink (v);
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_VARDICT))
    FAIL ("orch_rest_object_from_json returned %s, not a{sv}", g_variant_get_type_string (v));
  decode_spec (v);
}

typedef struct {
  const guint8 *data;
  gsize len;
} Mem;

static gssize
mem_pread (void *buf, gsize count, guint64 offset, gpointer user_data)
{
  Mem *m = user_data;

  if (offset >= m->len)
    return 0;
  count = MIN (count, m->len - (gsize) offset);
  memcpy (buf, m->data + offset, count);
  return (gssize) count;
}

static void
fuzz_log_options (const guint8 *data, size_t len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autofree char *opts_text = NULL;
  g_autofree char *text = NULL;
  OrchLogReadOptions o;
  const char *stream = NULL;
  const guint8 *nul = memchr (data, '\0', len);
  guint64 next = 0;
  Mem log;

  if (nul == NULL)
    return;
  opts_text = g_strndup ((const char *) data, (gsize) (nul - data));
  if (!text_is_usable (opts_text))
    return;
  v = g_variant_parse (G_VARIANT_TYPE_VARDICT, opts_text, NULL, NULL, NULL);
  if (v == NULL)
    return;
  if (!orch_log_read_options_parse (v, 4096, &o, &stream, &error))
    {
      check_error ("orch_log_read_options_parse", error);
      return;
    }
  if (o.max_bytes < ORCH_LOG_READ_MIN_BYTES || o.max_bytes > 4096)
    FAIL ("max_bytes %u outside [%u, 4096]", o.max_bytes, ORCH_LOG_READ_MIN_BYTES);
  log.data = nul + 1;
  log.len = len - (gsize) (nul + 1 - data);
  if (!orch_log_read_with (mem_pread, &log, log.len, &o, &text, &next, &error))
    {
      check_error ("orch_log_read_with", error);
      return;
    }
  if (strlen (text) > o.max_bytes)
    FAIL ("read %zu bytes, more than max_bytes %u", strlen (text), o.max_bytes);
  if (!g_utf8_validate (text, -1, NULL))
    FAIL ("read text is not valid UTF-8");
  if (next > log.len && next != o.offset)
    FAIL ("next_offset %" G_GUINT64_FORMAT " beyond the end %zu", next, log.len);
}

static const char *const query_types[] = {
  "state", "state", "s", "name", "name", "s", "since", "since", "t", "limit", "limit", "u",
  "stream", "stream", "s", "offset", "offset", "t", "tail", "tail_lines", "u",
  "max_bytes", "max_bytes", "u", "signal", "signal", "i", NULL
};

static void
fuzz_route (const guint8 *data, size_t len)
{
  g_autofree char *text = g_strndup ((const char *) data, len);
  char *nl = strchr (text, '\n');
  const char *method = "GET", *path = text;
  char *query;
  const OrchRoute *route = NULL;
  g_autofree char *param = NULL, *allow = NULL;

  if (nl)
    {
      *nl = '\0';
      method = text;
      path = nl + 1;
    }
  query = strchr (path, '?');
  if (query)
    *query++ = '\0';

  switch (orch_rest_route_match (method, path, &route, &param, &allow))
    {
    case ORCH_ROUTE_MATCH:
      /* HEAD is answered wherever GET is (RFC 9110), by the GET row. */
      if (route == NULL || (strcmp (route->method, method) != 0 &&
                            !(strcmp (method, "HEAD") == 0 && strcmp (route->method, "GET") == 0)))
        FAIL ("matched a route of another method");
      if (strchr (route->pattern, '{') && param == NULL)
        FAIL ("a route with a parameter matched without one");
      /* A parameter is one path segment: never a slash, never empty. */
      if (param && (param[0] == '\0' || strchr (param, '/')))
        FAIL ("parameter “%s” is not one segment", param);
      break;
    case ORCH_ROUTE_NO_METHOD:
      if (allow == NULL || allow[0] == '\0')
        FAIL ("405 without an Allow list");
      break;
    case ORCH_ROUTE_NO_PATH:
    default:
      break;
    }

  if (query)
    {
      g_autoptr(GHashTable) params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) opts = NULL;
      if (params == NULL)
        return;
      opts = orch_rest_options_from_query (params, query_types, &error);
      if (opts == NULL)
        check_error ("orch_rest_options_from_query", error);
      else
        g_variant_ref_sink (opts);
    }
}

/* A parsed expression normalizes to one that parses again, and its next
 * elapses go forward. */
static void
fuzz_schedule_expression (const uint8_t *data, size_t len, gboolean cron)
{
  g_autofree char *text = g_strndup ((const char *) data, len);
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchCalendar) cal = NULL;
  g_autoptr(OrchCron) cr = NULL;
  g_autofree char *normal = NULL;
  gint64 at = G_GINT64_CONSTANT (1700000000000000);

  if (cron)
    cr = orch_cron_parse (text, NULL, &error);
  else
    cal = orch_calendar_parse (text, &error);
  if (cal == NULL && cr == NULL)
    {
      check_error (cron ? "orch_cron_parse" : "orch_calendar_parse", error);
      return;
    }
  normal = cal ? orch_calendar_normalize (cal) : orch_cron_normalize (cr);
  if (!g_utf8_validate (normal, -1, NULL))
    FAIL ("normalized form is not UTF-8");
  for (int i = 0; i < 3; i++)
    {
      gint64 next;
      if (!(cal ? orch_calendar_next (cal, at, &next) : orch_cron_next (cr, at, &next)))
        break;
      if (next <= at)
        FAIL ("“%s”: next elapse %" G_GINT64_FORMAT " not after %" G_GINT64_FORMAT, text, next, at);
      at = next;
    }
  if (!cron)
    {
      g_autoptr(OrchCalendar) again = orch_calendar_parse (normal, &error);
      if (again == NULL)
        FAIL ("“%s” normalizes to “%s”, which does not parse: %s", text, normal, error->message);
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t len)
{
  if (len < 1)
    return 0;
  switch (data[0] % N_TARGETS)
    {
    case T_SPEC_SERIALIZED:
      fuzz_spec_serialized (data + 1, len - 1);
      break;
    case T_SPEC_TEXT:
      fuzz_spec_text (data + 1, len - 1);
      break;
    case T_JSON_SPEC:
      fuzz_json_spec (data + 1, len - 1);
      break;
    case T_LOG_OPTIONS:
      fuzz_log_options (data + 1, len - 1);
      break;
    case T_CALENDAR:
      fuzz_schedule_expression (data + 1, len - 1, FALSE);
      break;
    case T_CRON:
      fuzz_schedule_expression (data + 1, len - 1, TRUE);
      break;
    case T_ROUTE:
    default:
      fuzz_route (data + 1, len - 1);
      break;
    }
  return 0;
}
