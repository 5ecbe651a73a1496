/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SetLimits: a running job's limits changed in its group, then in its
 * stored spec, so they hold after a restart of the job or the daemon. */
#include "config.h"

#include "orch-manager-private.h"
#include "basic/orch-error.h"

#include <glib/gi18n.h>

typedef struct {
  OrchManager *m;
  char *id;
  OrchLimits limits;
  OrchManagerDoneFunc done;
  gpointer data;
} LimitsCall;

static void
call_finish (LimitsCall *c, OrchJob *job, const GError *error)
{
  c->done (error ? NULL : job, error, c->data);
  g_free (c->id);
  g_free (c);
}

static void
ignore_result (const GError *error, gpointer data)
{
  if (error)
    g_warning ("cannot put the limits back: %s", error->message);
}

/* The group has the new limits: the spec takes them, durably. */
static void
store_limits (LimitsCall *c, Entry *e, gboolean in_group)
{
  OrchManager *m = c->m;
  g_autoptr(GError) error = NULL;
  OrchLimits old;

  orch_limits_from_spec (e->job->spec, &old);
  old.mask = c->limits.mask;
  orch_limits_apply (&c->limits, e->job->spec);
  if (m->state && !orch_state_save_spec (m->state, e->job->id, e->job->spec, &error))
    {
      /* Not durable, so not done: back to what the state still says. */
      orch_limits_apply (&old, e->job->spec);
      if (in_group)
        m->backend->ops->set_limits (m->backend, e->job, &old, ignore_result, NULL);
      call_finish (c, NULL, error);
      return;
    }
  if (m->cb.job_changed)
    m->cb.job_changed (e->job, m->cb_data);
  call_finish (c, e->job, NULL);
}

static void
group_changed (const GError *error, gpointer data)
{
  LimitsCall *c = data;
  g_autoptr(GError) gone = NULL;
  Entry *e;

  if (error)
    {
      call_finish (c, NULL, error);
      return;
    }
  e = g_hash_table_lookup (c->m->entries, c->id);
  if (e == NULL)
    {
      g_set_error (&gone, ORCH_ERROR, ORCH_ERROR_NOT_FOUND, _("no job with id %s"), c->id);
      call_finish (c, NULL, gone);
      return;
    }
  store_limits (c, e, TRUE);
}

void
orch_manager_set_limits (OrchManager *m, const char *id, GVariant *limits_v,
                         OrchManagerDoneFunc done, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  LimitsCall *c = g_new0 (LimitsCall, 1);
  OrchJob *job;
  Entry *e;

  c->m = m;
  c->id = g_strdup (id);
  c->done = done;
  c->data = user_data;
  /* Every limit is checked, against the backend too, before any is set. */
  if (!orch_limits_from_variant (limits_v, &c->limits, &error) ||
      !(job = orch_manager_lookup (m, id, &error)) ||
      !orch_backend_check_limits (m->backend, &c->limits, &error))
    {
      call_finish (c, NULL, error);
      return;
    }
  e = g_hash_table_lookup (m->entries, id);
  if (!orch_job_state_is_active (job->state))
    {
      /* No group: the next run starts with them. */
      store_limits (c, e, FALSE);
      return;
    }
  if (e->run.attaching || job->cgroup[0] == '\0')
    {
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_INVALID_STATE,
                   _("job %s is still starting; try again once it runs"), id);
      call_finish (c, NULL, error);
      return;
    }
  m->backend->ops->set_limits (m->backend, job, &c->limits, group_changed, c);
}
