/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-backend.h"
#include "basic/orch-error.h"
#include "basic/orch-proc.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <signal.h>

/* Plain children: the job is its process group (the child called setsid()).
 * A process that leaves the group escapes; that is the price of no cgroups. */

static gboolean
none_check_spec (OrchBackend *b, const OrchSpec *spec, GError **error)
{
  OrchLimits limits;

  orch_limits_set_in_spec (spec, &limits);
  if (limits.mask)
    {
      g_set_error (
          error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
          _("spec field “%s” needs the systemd or cgroupfs backend; this daemon runs the none backend"),
          orch_limit_info (orch_limits_missing_controller (&limits, NULL))->key);
      return FALSE;
    }
  return TRUE;
}

static void
none_attach (OrchBackend *b, OrchJob *job, pid_t pid, OrchBackendAttachFunc done, gpointer data)
{
  g_free (job->unit);
  job->unit = g_strdup ("");
  g_free (job->cgroup);
  job->cgroup = g_strdup ("");
  done (job, NULL, data);
}

static int
none_kill (OrchBackend *b, OrchJob *job, int sig)
{
  if (job->pid <= 0)
    return -ESRCH;
  /* The child made itself leader of its own group, so pgid == pid. */
  if (kill (-job->pid, sig) < 0)
    return -errno;
  return 0;
}

static int
none_is_empty (OrchBackend *b, OrchJob *job)
{
  int r;

  if (job->pid <= 0)
    return 1;
  if (kill (-job->pid, 0) < 0)
    return errno == ESRCH ? 1 : -errno;
  /* kill() also reaches zombies, and orphans of the job wait as zombies
   * until init reaps them (seen: about a second here), so look closer. */
  r = orch_proc_pgrp_has_live (NULL, job->pid);
  return r < 0 ? r : !r;
}

static char *
none_events_path (OrchBackend *b, OrchJob *job)
{
  return NULL;
}

static void
none_forget (OrchBackend *b, OrchJob *job)
{
}

static void
none_free (OrchBackend *b)
{
  g_free (b);
}

static const OrchBackendOps none_ops = {
  .name = "none",
  .check_spec = none_check_spec,
  .attach = none_attach,
  .kill = none_kill,
  .is_empty = none_is_empty,
  .events_path = none_events_path,
  .forget = none_forget,
  .free = none_free,
};

OrchBackend *
orch_backend_none_new (void)
{
  OrchBackend *b = g_new0 (OrchBackend, 1);

  b->ops = &none_ops;
  return b;
}
