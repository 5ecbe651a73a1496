/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-id.h"

#include <string.h>

static char *
id_new (const char *prefix, gint64 now_us, GRand *rand)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (now_us / G_USEC_PER_SEC);
  guint32 suffix = (rand ? g_rand_int (rand) : g_random_int ()) & 0xffffff;
  g_autofree char *stamp = g_date_time_format (dt, "%Y%m%d_%H%M%S");

  return g_strdup_printf ("%s_%s_%06x", prefix, stamp, suffix);
}

char *
orch_job_id_new (gint64 now_us, GRand *rand)
{
  return id_new ("job", now_us, rand);
}

char *
orch_schedule_id_new (gint64 now_us, GRand *rand)
{
  return id_new ("sched", now_us, rand);
}

static gboolean
id_has_shape (const char *id, const char *shape, gsize len)
{
  if (id == NULL || strnlen (id, len + 1) != len)
    return FALSE;

  for (gsize i = 0; i < len; i++)
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

gboolean
orch_job_id_is_valid (const char *id)
{
  static const char shape[] = "job_DDDDDDDD_DDDDDD_XXXXXX";

  G_STATIC_ASSERT (sizeof shape - 1 == ORCH_JOB_ID_LEN);
  return id_has_shape (id, shape, ORCH_JOB_ID_LEN);
}

gboolean
orch_schedule_id_is_valid (const char *id)
{
  static const char shape[] = "sched_DDDDDDDD_DDDDDD_XXXXXX";

  G_STATIC_ASSERT (sizeof shape - 1 == ORCH_SCHEDULE_ID_LEN);
  return id_has_shape (id, shape, ORCH_SCHEDULE_ID_LEN);
}

char *
orch_group_id_new (gint64 now_us, GRand *rand)
{
  return id_new ("group", now_us, rand);
}

gboolean
orch_group_id_is_valid (const char *id)
{
  static const char shape[] = "group_DDDDDDDD_DDDDDD_XXXXXX";

  G_STATIC_ASSERT (sizeof shape - 1 == ORCH_GROUP_ID_LEN);
  return id_has_shape (id, shape, ORCH_GROUP_ID_LEN);
}
