/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-history.h"
#include "basic/orch-error.h"
#include "basic/orch-vardict.h"

#include <glib/gi18n.h>
#include <math.h>

/* The options' values, checked. */
static gboolean
read_options (GVariant *options, guint64 *since, guint32 *limit, guint32 *step_s, GError **error)
{
  if (!orch_vardict_check (options, _("option"),
                           (const char *const[]){ "since", "t", "limit", "u", "step_s", "u", NULL },
                           error))
    return FALSE;
  g_variant_lookup (options, "since", "t", since);
  g_variant_lookup (options, "limit", "u", limit);
  g_variant_lookup (options, "step_s", "u", step_s);
  if (*since > (guint64) G_MAXINT64 || *step_s > 7 * 24 * 3600)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, _("option “%s”: out of range"),
                   *since > (guint64) G_MAXINT64 ? "since" : "step_s");
      return FALSE;
    }
  return TRUE;
}

gboolean
orch_history_query (OrchRing *ring, const char *const *keys, guint n_keys, GVariant *options,
                    OrchHistoryRows *rows, GError **error)
{
  guint64 since = 0;
  guint32 limit = 0, step_s = 0;

  if (!read_options (options, &since, &limit, &step_s, error))
    return FALSE;
  rows->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  rows->values = g_array_new (FALSE, FALSE, sizeof (double));
  rows->keys = keys;
  rows->n_keys = n_keys;
  rows->n = ring ? orch_ring_query (ring, (gint64) since, limit, step_s, rows->times, rows->values)
                 : 0;
  return TRUE;
}

void
orch_history_rows_clear (OrchHistoryRows *rows)
{
  g_clear_pointer (&rows->times, g_array_unref);
  g_clear_pointer (&rows->values, g_array_unref);
  rows->n = 0;
}

GVariant *
orch_history_rows_to_variant (const OrchHistoryRows *q)
{
  GVariantBuilder rows;

  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < q->n; i++)
    {
      GVariantBuilder row;
      g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&row, "{sv}", "timestamp",
                             g_variant_new_uint64 ((guint64) g_array_index (q->times, gint64, i)));
      for (guint k = 0; k < q->n_keys; k++)
        {
          double v = g_array_index (q->values, double, i * q->n_keys + k);
          /* Unknown stays out of the row rather than becoming a fake 0. */
          if (!isnan (v))
            g_variant_builder_add (&row, "{sv}", q->keys[k], g_variant_new_double (v));
        }
      g_variant_builder_add_value (&rows, g_variant_builder_end (&row));
    }
  return g_variant_builder_end (&rows);
}

GVariant *
orch_history_rows (OrchRing *ring, const char *const *keys, guint n_keys, GVariant *options,
                   GError **error)
{
  OrchHistoryRows q;
  GVariant *v;

  if (!orch_history_query (ring, keys, n_keys, options, &q, error))
    return NULL;
  v = orch_history_rows_to_variant (&q);
  orch_history_rows_clear (&q);
  return v;
}
