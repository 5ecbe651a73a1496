/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-history.h"
#include "basic/orch-error.h"
#include "basic/orch-vardict.h"

#include <glib/gi18n.h>
#include <math.h>

GVariant *
orch_history_rows (OrchRing *ring, const char *const *keys, guint n_keys, GVariant *options,
                   GError **error)
{
  guint64 since = 0;
  guint32 limit = 0, step_s = 0;
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (double));
  GVariantBuilder rows;
  guint n;

  if (!orch_vardict_check (options, _("option"),
                           (const char *const[]){ "since", "t", "limit", "u", "step_s", "u", NULL },
                           error))
    return NULL;
  g_variant_lookup (options, "since", "t", &since);
  g_variant_lookup (options, "limit", "u", &limit);
  g_variant_lookup (options, "step_s", "u", &step_s);
  if (since > (guint64) G_MAXINT64 || step_s > 7 * 24 * 3600)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("option “%s”: out of range"), since > (guint64) G_MAXINT64 ? "since" : "step_s");
      return NULL;
    }

  n = orch_ring_query (ring, (gint64) since, limit, step_s, times, values);
  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < n; i++)
    {
      GVariantBuilder row;
      g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&row, "{sv}", "timestamp",
                             g_variant_new_uint64 ((guint64) g_array_index (times, gint64, i)));
      for (guint k = 0; k < n_keys; k++)
        {
          double v = g_array_index (values, double, i * n_keys + k);
          /* Unknown stays out of the row rather than becoming a fake 0. */
          if (!isnan (v))
            g_variant_builder_add (&row, "{sv}", keys[k], g_variant_new_double (v));
        }
      g_variant_builder_add_value (&rows, g_variant_builder_end (&row));
    }
  return g_variant_builder_end (&rows);
}
