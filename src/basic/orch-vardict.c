/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-vardict.h"
#include "orch-error.h"

#include <glib/gi18n.h>
#include <string.h>

gboolean
orch_vardict_check (GVariant *dict, const char *what, const char *const *allowed, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (!g_variant_is_of_type (dict, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("%s: expected a{sv}"), what);
      return FALSE;
    }
  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr(GVariant) v = value;
      const char *const *a;

      for (a = allowed; *a; a += 2)
        if (strcmp (a[0], key) == 0)
          break;
      if (*a == NULL)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("unknown %s “%s”"), what, key);
          return FALSE;
        }
      if (!g_variant_is_of_type (v, G_VARIANT_TYPE (a[1])))
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("%s “%s” must be of type %s, not %s"), what, key, a[1],
                       g_variant_get_type_string (v));
          return FALSE;
        }
    }
  return TRUE;
}
