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

/* The spec and the limits_changed event, in one transaction: both or
 * neither survive a crash. */
static gboolean
store_durably (OrchManager *m, OrchJob *job, const OrchLimits *l, OrchEvent **ret_event,
               GError **error)
{
  g_autofree char *key = NULL;
  gint64 now = now_us ();

  *ret_event = NULL;
  if (m->state == NULL)
    {
      if (m->events)
        {
          key = g_strdup_printf ("%s/limits_changed/%" G_GINT64_FORMAT, job->id, now);
          return orch_events_add (m->events, key, job->id, "limits_changed", now,
                                  orch_limits_to_variant (l), ret_event, error);
        }
      return TRUE;
    }
  if (!orch_state_begin (m->state, error))
    return FALSE;
  if (!orch_state_save_spec (m->state, job->id, job->spec, error))
    goto rollback;
  if (m->events)
    {
      key = g_strdup_printf ("%s/limits_changed/%" G_GINT64_FORMAT, job->id, now);
      if (!orch_events_add (m->events, key, job->id, "limits_changed", now,
                            orch_limits_to_variant (l), ret_event, error))
        goto rollback;
    }
  if (orch_state_commit (m->state, error))
    return TRUE;
rollback:
  g_clear_pointer (ret_event, orch_event_free);
  orch_state_rollback (m->state);
  return FALSE;
}

/* The group has the new limits: the spec takes them, durably. */
static void
store_limits (LimitsCall *c, Entry *e, gboolean in_group)
{
  OrchManager *m = c->m;
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchEvent) event = NULL;
  OrchLimits old;

  orch_limits_from_spec (e->job->spec, &old);
  old.mask = c->limits.mask;
  orch_limits_apply (&c->limits, e->job->spec);
  if (!store_durably (m, e->job, &c->limits, &event, &error))
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
  if (m->events)
    orch_events_emit (m->events, event);
  call_finish (c, e->job, NULL);
}

void
orch_manager_set_events (OrchManager *m, OrchEvents *events)
{
  m->events = events;
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

static void
reapplied (const GError *error, gpointer data)
{
  g_autofree char *id = data;

  if (error)
    g_warning ("job %s: cannot apply its stored limits again: %s", id, error->message);
}

/* A daemon killed between a SetLimits' change of the group and the
 * spec's commit leaves the group with limits the state does not have:
 * an adopted run gets the stored ones again (every limit the backend can
 * set, a removed one as removed). */
void
manager_reapply_limits (Entry *e)
{
  OrchBackend *b = e->m->backend;
  OrchLimits l;

  if (b->ops->set_limits == NULL)
    return;
  orch_limits_from_spec (e->job->spec, &l);
  for (guint i = 0; i < ORCH_LIMIT_N; i++)
    {
      OrchLimits one = { .mask = 1u << i };
      if (!orch_backend_check_limits (b, &one, NULL))
        l.mask &= ~(1u << i);
    }
  if (l.mask)
    b->ops->set_limits (b, e->job, &l, reapplied, g_strdup (e->job->id));
}
