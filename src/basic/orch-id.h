/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ORCH_JOB_ID_LEN 26 /* "job_YYYYMMDD_HHMMSS_xxxxxx" */

/* A job id for @now_us (microseconds since the epoch, UTC) with a random
 * 24-bit suffix from @rand (or g_random when NULL). */
char *orch_job_id_new (gint64 now_us, GRand *rand);

/* TRUE only for strings of exactly the shape orch_job_id_new() makes, so an
 * id is always safe as an object path element, a unit name and a file name. */
gboolean orch_job_id_is_valid (const char *id);

#define ORCH_SCHEDULE_ID_LEN 28 /* "sched_YYYYMMDD_HHMMSS_xxxxxx" */

/* The same for schedules: "sched_" instead of "job_". */
char *orch_schedule_id_new (gint64 now_us, GRand *rand);
gboolean orch_schedule_id_is_valid (const char *id);
#define ORCH_GROUP_ID_LEN 28 /* "group_YYYYMMDD_HHMMSS_xxxxxx" */

/* The same for job groups: "group_" instead of "job_". */
char *orch_group_id_new (gint64 now_us, GRand *rand);
gboolean orch_group_id_is_valid (const char *id);

G_END_DECLS
