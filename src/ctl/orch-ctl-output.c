/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-ctl.h"
#include "orch-ctl-units.h"

#include "client/orch-client.h"

#include <string.h>

const char *
orch_ctl_sgr (OrchCtl *ctl, const char *sgr)
{
  static GHashTable *cache; /* interned "\e[..m" strings, for the process's life */
  char *s;

  if (!ctl->colour || sgr == NULL)
    return "";
  if (cache == NULL)
    cache = g_hash_table_new (g_str_hash, g_str_equal);
  s = g_hash_table_lookup (cache, sgr);
  if (s == NULL)
    {
      s = g_strdup_printf ("\033[%sm", sgr);
      g_hash_table_insert (cache, (char *) sgr, s);
    }
  return s;
}

const char *
orch_ctl_state_colour (const char *state)
{
  if (g_strcmp0 (state, "running") == 0)
    return ORCH_SGR_GREEN;
  if (g_strcmp0 (state, "failed") == 0)
    return ORCH_SGR_RED;
  if (g_strcmp0 (state, "starting") == 0 || g_strcmp0 (state, "stopping") == 0)
    return ORCH_SGR_YELLOW;
  return ORCH_SGR_DIM;
}

void
orch_ctl_print_json (GVariant *v)
{
  g_autofree char *json = orch_client_variant_to_json (v, TRUE);

  g_print ("%s\n", json);
}

const char *
orch_ctl_rec_str (GVariant *rec, const char *key)
{
  const char *s = NULL;

  if (!g_variant_lookup (rec, key, "&s", &s))
    return "";
  return s;
}

gboolean
orch_ctl_rec_has (GVariant *rec, const char *key)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (rec, key, NULL);

  return v != NULL;
}

gint64
orch_ctl_rec_i64 (GVariant *rec, const char *key, gint64 missing)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (rec, key, NULL);

  if (v == NULL)
    return missing;
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT32))
    return g_variant_get_int32 (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64))
    return (gint64) MIN (g_variant_get_uint64 (v), (guint64) G_MAXINT64);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    return g_variant_get_int64 (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    return (gint64) g_variant_get_double (v);
  return missing;
}

guint64
orch_ctl_rec_u64 (GVariant *rec, const char *key)
{
  gint64 v = orch_ctl_rec_i64 (rec, key, 0);

  return v > 0 ? (guint64) v : 0;
}

double
orch_ctl_rec_double (GVariant *rec, const char *key)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (rec, key, NULL);

  if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    return g_variant_get_double (v);
  return (double) orch_ctl_rec_i64 (rec, key, 0);
}

gboolean
orch_ctl_state_is_final (const char *state)
{
  return g_strv_contains ((const char *const[]){ "exited", "failed", "stopped", NULL }, state);
}

char *
orch_ctl_job_uptime (GVariant *rec, gint64 now_usec)
{
  const char *state = orch_ctl_rec_str (rec, "state");
  guint64 started = orch_ctl_rec_u64 (rec, "started_at");

  if (started == 0 || orch_ctl_state_is_final (state) || now_usec < (gint64) started)
    return g_strdup ("-");
  return orch_ctl_format_duration ((guint64) now_usec - started);
}

char *
orch_ctl_format_percent (GVariant *rec, const char *key)
{
  if (!orch_ctl_rec_has (rec, key))
    return g_strdup ("-");
  return g_strdup_printf ("%.1f", orch_ctl_rec_double (rec, key));
}

char *
orch_ctl_format_time (guint64 usec)
{
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_local ((gint64) (usec / G_USEC_PER_SEC));

  if (t == NULL || usec == 0)
    return g_strdup ("-");
  return g_date_time_format (t, "%Y-%m-%d %H:%M:%S %Z");
}
