/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-job.h"
#include "orch-scrape.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OrchSampler OrchSampler;

/* What a group's autoscaler holds near its target (autoscale "metric"). */
typedef enum {
  ORCH_GROUP_METRIC_CPU_PERCENT,     /* per replica, from the sampler */
  ORCH_GROUP_METRIC_MEMORY_BYTES,    /* per replica, from the sampler */
  ORCH_GROUP_METRIC_CPU_PRESSURE,    /* per replica cgroup: cpu.pressure some avg10 */
  ORCH_GROUP_METRIC_MEMORY_PRESSURE, /* per replica cgroup: memory.pressure some avg10 */
  ORCH_GROUP_METRIC_FILE,            /* a number each replica writes to $ORCH_METRIC_FILE */
  ORCH_GROUP_METRIC_PROMETHEUS,      /* the group's total, scraped from "url" */
} OrchGroupMetric;

/* The "metric" of autoscale settings @as (already checked against
 * orch_autoscale_field_types), and for prometheus its scraper from
 * "url" and "series" (required then, refused otherwise). */
gboolean orch_group_metric_parse (GVariant *as, OrchGroupMetric *ret, OrchScrape **ret_scrape,
                                  GError **error);
const char *orch_group_metric_to_string (OrchGroupMetric m);
/* The most one replica can show (saturation), 0 for none. */
double orch_group_metric_ceiling (OrchGroupMetric m);

/* Replica @replica's figure (its job @job), not for prometheus.  FALSE
 * when there is none: no sample, no pressure file (a backend without
 * cgroups), no file, a file older than @max_age_us or not a number. */
gboolean orch_group_metric_read (OrchGroupMetric m, OrchJob *job, OrchSampler *sampler,
                                 const char *dir, guint replica, gint64 max_age_us, double *ret);

/* The directory replicas of group @id write their figures to, created
 * (mode 1777, so a replica running as any user can): under
 * $RUNTIME_DIRECTORY (systemd's) or $XDG_RUNTIME_DIR/orchestrator. */
char *orch_group_metric_dir (const char *id, GError **error);
/* Removes it and the files in it. */
void orch_group_metric_dir_remove (const char *dir);

/* The largest file read; longer is not a number. */
#define ORCH_GROUP_METRIC_FILE_MAX 64

G_END_DECLS
