/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-id.h"

#include <string.h>

char *
orch_job_id_new (gint64 now_us, GRand *rand)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (now_us / G_USEC_PER_SEC);
  guint32 suffix = (rand ? g_rand_int (rand) : g_random_int ()) & 0xffffff;
  g_autofree char *stamp = g_date_time_format (dt, "%Y%m%d_%H%M%S");

  return g_strdup_printf ("job_%s_%06x", stamp, suffix);
}

gboolean
orch_job_id_is_valid (const char *id)
{
  static const char shape[] = "job_DDDDDDDD_DDDDDD_XXXXXX";

  G_STATIC_ASSERT (sizeof shape - 1 == ORCH_JOB_ID_LEN);

  if (id == NULL || strnlen (id, ORCH_JOB_ID_LEN + 1) != ORCH_JOB_ID_LEN)
    return FALSE;

  for (gsize i = 0; i < ORCH_JOB_ID_LEN; i++)
    {
      char c = id[i];
      switch (shape[i])
        {
        case 'D':
          if (!g_ascii_isdigit (c))
            return FALSE;
          break;
        case 'X':
          if (!g_ascii_isdigit (c) && !(c >= 'a' && c <= 'f'))
            return FALSE;
          break;
        default:
          if (c != shape[i])
            return FALSE;
        }
    }
  return TRUE;
}

char *
orch_group_id_new (gint64 now_us, GRand *rand)
{
  g_autofree char *job = orch_job_id_new (now_us, rand);

  return g_strconcat ("group_", job + strlen ("job_"), NULL);
}

gboolean
orch_group_id_is_valid (const char *id)
{
  g_autofree char *job = NULL;

  if (id == NULL || !g_str_has_prefix (id, "group_"))
    return FALSE;
  job = g_strconcat ("job_", id + strlen ("group_"), NULL);
  return orch_job_id_is_valid (job);
}
