/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* One page of a job list (Jobs.List's "after" and "limit"), so that a
 * client with thousands of jobs asks for them a page at a time. */
#include <glib.h>

G_BEGIN_DECLS

/* Cuts @jobs (OrchJob *, in list order, not owned: no free function) down to the jobs after the one
 * whose id is @after (NULL or "": from the start), at most @limit of them
 * (0: all).  Fails, leaving @jobs as it was, when no job has id @after. */
gboolean orch_job_page (GPtrArray *jobs, const char *after, guint32 limit, GError **error);

G_END_DECLS
