/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The proactive memory warning (memory_forecast events).  Cost: one
 * bounded history query and one fit of one memory series per running job
 * per round, spread over idle dispatches (tests/bench/bench-forecast-watch.sh
 * measures it: about 0.2 ms per job). */
#include "config.h"

#include "orch-forecast-watch.h"
#include "basic/orch-forecast.h"

#include <math.h>

/* Fewer samples than this make forecasts too noisy to warn on. */
#define MIN_SAMPLES 20

struct _OrchForecastWatch {
  OrchSampler *sampler;
  OrchManager *manager;
  guint warn_before_s;
  OrchForecastWarnFunc func;
  gpointer user_data;
  guint round_source;
  guint idle_source;
  GPtrArray *queue;   /* ids of this round still to look at */
  GHashTable *states; /* id -> OrchForecastWarnState */
};

static void
look_at (OrchForecastWatch *w, const char *id)
{
  g_autoptr(GError) error = NULL;
  OrchJob *job = orch_manager_lookup (w->manager, id, NULL);
  OrchForecastWarnState *st;
  OrchMemoryOutlook o;
  GVariantBuilder b;
  gint64 now = g_get_real_time ();
  double in_s;
  guint before;

  /* The job's own time (0: none for it), else the configured one. */
  before = job && job->spec->memory_warn_before_set ? job->spec->memory_warn_before_s
                                                    : w->warn_before_s;
  if (job == NULL || job->state != ORCH_JOB_RUNNING || before == 0)
    {
      g_hash_table_remove (w->states, id);
      return;
    }
  /* Twice the warning time: the hysteresis needs to see that far. */
  if (!orch_forecaster_memory_outlook (w->sampler, w->manager, id, 2 * before, MIN_SAMPLES, &o,
                                       &error))
    return;
  st = g_hash_table_lookup (w->states, id);
  if (st == NULL)
    {
      st = g_new0 (OrchForecastWarnState, 1);
      g_hash_table_insert (w->states, g_strdup (id), st);
    }
  if (o.exhaustion_at)
    in_s = MAX ((double) (o.exhaustion_at - now) / G_USEC_PER_SEC, 0);
  else
    in_s = o.searched_s >= 2.0 * before ? -1 : NAN;
  /* The host's free memory moves all the time: only an own limit that
   * changed re-arms. */
  if (!orch_forecast_warn_step (st, job->started_at, o.own_limit ? o.limit : 0, in_s, before))
    return;
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add_parsed (&b, "{'limit', <%t>}", (guint64) o.limit);
  g_variant_builder_add_parsed (&b, "{'limit_source', <%s>}", o.limit_source);
  g_variant_builder_add_parsed (&b, "{'memory_bytes', <%t>}", (guint64) o.memory_bytes);
  g_variant_builder_add_parsed (&b, "{'exhaustion_at', <%t>}", (guint64) o.exhaustion_at);
  g_variant_builder_add_parsed (&b, "{'confidence', <%d>}", o.confidence);
  g_variant_builder_add_parsed (&b, "{'warn_before_s', <%u>}", (guint32) before);
  g_variant_builder_add_parsed (&b, "{'method', <%s>}", o.method);
  /* Why it rises: a tested trend the forecast follows (as GetJobForecast says). */
  if (o.trend_per_s > 0)
    g_variant_builder_add_parsed (&b, "{'trend_per_s', <%d>}", o.trend_per_s);
  w->func (id, now, g_variant_builder_end (&b), w->user_data);
}

/* One job per dispatch, at low priority: bus requests and the sampler's
 * tick go first. */
static gboolean
idle_cb (gpointer data)
{
  OrchForecastWatch *w = data;
  g_autofree char *id = NULL;

  if (w->queue->len == 0)
    {
      w->idle_source = 0;
      return G_SOURCE_REMOVE;
    }
  id = g_ptr_array_steal_index (w->queue, w->queue->len - 1);
  look_at (w, id);
  return G_SOURCE_CONTINUE;
}

static gboolean
round_cb (gpointer data)
{
  OrchForecastWatch *w = data;
  g_autoptr(GPtrArray) jobs = orch_manager_list (w->manager, "running", NULL, NULL);
  GHashTableIter it;
  gpointer key;

  /* A round still under way (many jobs) is not stacked on. */
  if (w->queue->len > 0 || jobs == NULL)
    return G_SOURCE_CONTINUE;
  for (guint i = 0; i < jobs->len; i++)
    g_ptr_array_add (w->queue, g_strdup (((OrchJob *) jobs->pdata[i])->id));
  /* Jobs gone since the last round take their state with them. */
  g_hash_table_iter_init (&it, w->states);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      OrchJob *job = orch_manager_lookup (w->manager, key, NULL);

      if (job == NULL || job->state != ORCH_JOB_RUNNING)
        g_hash_table_iter_remove (&it);
    }
  if (w->queue->len > 0 && w->idle_source == 0)
    w->idle_source = g_idle_add_full (G_PRIORITY_LOW, idle_cb, w, NULL);
  return G_SOURCE_CONTINUE;
}

OrchForecastWatch *
orch_forecast_watch_new (OrchSampler *s, OrchManager *m, guint warn_before_s, guint interval_s,
                         OrchForecastWarnFunc func, gpointer user_data)
{
  OrchForecastWatch *w;

  w = g_new0 (OrchForecastWatch, 1);
  w->sampler = s;
  w->manager = m;
  w->warn_before_s = warn_before_s;
  w->func = func;
  w->user_data = user_data;
  w->queue = g_ptr_array_new_with_free_func (g_free);
  w->states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  w->round_source = g_timeout_add_seconds (MAX (interval_s, 1), round_cb, w);
  return w;
}

void
orch_forecast_watch_free (OrchForecastWatch *w)
{
  if (w == NULL)
    return;
  if (w->round_source)
    g_source_remove (w->round_source);
  if (w->idle_source)
    g_source_remove (w->idle_source);
  g_ptr_array_unref (w->queue);
  g_hash_table_unref (w->states);
  g_free (w);
}
