/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-backend.h"
#include "basic/orch-cgroup.h"
#include "basic/orch-error.h"

#include <glib/gi18n.h>
#include <string.h>

const char *
orch_backend_name (OrchBackend *b)
{
  return b->ops->name;
}

gboolean
orch_backend_check_limits (OrchBackend *b, const OrchLimits *l, GError **error)
{
  const char *const *have = NULL;
  const char *what = NULL;
  int missing;

  if (b->ops->controllers)
    have = b->ops->controllers (b);
  if (b->ops->set_limits && have == NULL)
    return TRUE;
  missing = orch_limits_missing_controller (l, have);
  if (missing >= 0)
    what = orch_limit_info (missing)->controller;
  else
    missing = orch_backend_limit_missing (b, l, &what);
  if (missing < 0)
    return TRUE;
  g_set_error (
      error, ORCH_ERROR, ORCH_ERROR_INVALID_STATE,
      _("limit “%s” needs the cgroup “%s” controller, which backend %s does not have here"),
      orch_limit_info (missing)->key, what, b->ops->name);
  return FALSE;
}

int
orch_backend_limit_missing (OrchBackend *b, const OrchLimits *l, const char **ret_what)
{
  for (guint i = 0; b->ops->limit_missing && i < ORCH_LIMIT_N; i++)
    if ((l->mask & (1u << i)) && (*ret_what = b->ops->limit_missing (b, i)))
      return (int) i;
  return -1;
}

char *
orch_backend_memory_events_path (OrchBackend *b, OrchJob *job)
{
  return b->ops->memory_events_path ? b->ops->memory_events_path (b, job) : NULL;
}

void
orch_backend_free (OrchBackend *b)
{
  if (b)
    b->ops->free (b);
}

static char *
default_cgroup_root (const OrchConfig *config)
{
  const char *mount;

  if (config->cgroup_root && config->cgroup_root[0])
    return g_strdup (config->cgroup_root);
  if (orch_cgroup_v2_mount (&mount) < 0)
    return NULL;
  return g_build_filename (mount, "orchestrator", NULL);
}

OrchBackend *
orch_backend_new (const OrchConfig *config, gboolean systemd_user, char **why, GError **error)
{
  const char *want = config->backend;
  g_autofree char *root = NULL;
  g_autoptr(GError) sd_error = NULL;
  g_autoptr(GError) cg_error = NULL;
  OrchBackend *b;

  if (strcmp (want, "none") == 0)
    {
      *why = g_strdup (_("backend none: asked for in the configuration"));
      return orch_backend_none_new ();
    }

  if (strcmp (want, "systemd") == 0 || strcmp (want, "auto") == 0)
    {
      b = orch_backend_systemd_new (systemd_user, &sd_error);
      if (b)
        {
          *why = g_strdup (_("backend systemd: the service manager answers"));
          return b;
        }
      if (strcmp (want, "systemd") == 0)
        {
          g_propagate_error (error, g_steal_pointer (&sd_error));
          return NULL;
        }
    }

  root = default_cgroup_root (config);
  if (root == NULL)
    g_set_error (&cg_error, ORCH_ERROR, ORCH_ERROR_FAILED, _("no cgroup2 hierarchy is mounted"));
  else
    {
      b = orch_backend_cgroupfs_new (root, &cg_error);
      if (b)
        {
          *why = sd_error
                     ? g_strdup_printf (_("backend cgroupfs in %s (systemd: %s)"), root, sd_error->message)
                     : g_strdup_printf (_("backend cgroupfs in %s"), root);
          return b;
        }
    }
  if (strcmp (want, "cgroupfs") == 0)
    {
      g_propagate_error (error, g_steal_pointer (&cg_error));
      return NULL;
    }

  *why = g_strdup_printf (_("backend none: systemd: %s; cgroupfs: %s"),
                          sd_error ? sd_error->message : "-", cg_error->message);
  return orch_backend_none_new ();
}
