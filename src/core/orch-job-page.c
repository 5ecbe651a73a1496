/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-job-page.h"
#include "orch-job.h"
#include "basic/orch-error.h"

#include <glib/gi18n.h>
#include <string.h>

gboolean
orch_job_page (GPtrArray *jobs, const char *after, guint32 limit, GError **error)
{
  guint start = 0;

  if (after && *after)
    {
      while (start < jobs->len && strcmp (((OrchJob *) jobs->pdata[start])->id, after) != 0)
        start++;
      if (start == jobs->len)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND,
                       _("filter “after”: no job with id %s in this list"), after);
          return FALSE;
        }
      start++;
    }
  if (start > 0)
    g_ptr_array_remove_range (jobs, 0, start);
  if (limit > 0 && jobs->len > limit)
    g_ptr_array_set_size (jobs, limit);
  return TRUE;
}
