/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-job-page.h"

guint
orch_job_page_start (GPtrArray *order, OrchJobPageSeq seq_of, guint64 after)
{
  guint lo = 0, hi = order->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (seq_of (order->pdata[mid]) <= after)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}
