/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-exit-record.h"
#include "basic/orch-proc.h"
#include "orch-job.h"

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef enum {
  ORCH_ADOPT_YES,       /* the job's monitor is alive and ours */
  ORCH_ADOPT_GONE,      /* nothing of the run is left */
  ORCH_ADOPT_STRANGER,  /* the pid lives, but is someone else now */
} OrchAdoptVerdict;

/* Whether the run recorded in @job can be supervised again: the monitor's
 * pid alive with the recorded start time, the job's pid too if it still
 * lives, and (with cgroups) the monitor still in the job's cgroup.  @why
 * says why not. */
OrchAdoptVerdict orch_reconcile_check (const OrchJob *job, char **why);

G_END_DECLS
