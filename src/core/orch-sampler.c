/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sampler's life cycle and its tick; what a tick reads is in
 * orch-sampler-system.c and orch-sampler-jobs.c, what is served from it
 * in orch-sampler-records.c. */
#include "config.h"

#include "orch-sampler-private.h"

void
orch_sampler_tick (OrchSampler *s)
{
  orch_sampler_read_system (s);
  orch_sampler_sample_jobs (s);
  orch_proc_tracker_tick (s->procs);
  if (s->sampled)
    s->sampled (s, s->user_data);
}

static gboolean
tick_cb (gpointer data)
{
  orch_sampler_tick (data);
  return G_SOURCE_CONTINUE;
}

guint
orch_sampler_interval_ms (OrchSampler *s)
{
  return s->config->sample_interval_ms;
}

guint
orch_sampler_history_size (OrchSampler *s)
{
  return s->config->history_size;
}

OrchSampler *
orch_sampler_new (const OrchConfig *config, const char *proc_root, OrchManager *manager,
                  OrchSampledFunc sampled, gpointer user_data, GError **error)
{
  g_autoptr(OrchSampler) s = g_new0 (OrchSampler, 1);

  s->config = config;
  s->manager = manager;
  s->proc_root = g_strdup (proc_root ? proc_root : "/proc");
  s->sampled = sampled;
  s->user_data = user_data;
  s->second_ticks = MAX (1, 1000 / MAX (config->sample_interval_ms, 1));
  orch_sampler_jobs_init (s);
  s->procs = orch_proc_tracker_new (config, s->proc_root);
  if (!orch_sampler_system_init (s, error))
    return NULL;
  s->timer = g_timeout_add (config->sample_interval_ms, tick_cb, s);
  return g_steal_pointer (&s);
}

void
orch_sampler_free (OrchSampler *s)
{
  if (s == NULL)
    return;
  if (s->timer)
    g_source_remove (s->timer);
  orch_sampler_jobs_clear (s);
  orch_sampler_system_clear (s);
  g_clear_pointer (&s->procs, orch_proc_tracker_free);
  g_free (s->proc_root);
  g_free (s);
}
