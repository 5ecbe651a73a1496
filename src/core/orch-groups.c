/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-groups.h"
#include "orch-group-metrics.h"
#include "orch-sampler.h"

#include "basic/orch-autoscale.h"
#include "orch-group-forecast.h"
#include "basic/orch-error.h"
#include "basic/orch-id.h"
#include "basic/orch-vardict.h"

#include <glib/gi18n.h>
#include <string.h>

#define TICK_MS 500
#define MAX_REPLICAS 1000
#define BACKOFF_CAP_US (60 * G_USEC_PER_SEC)
/* A replica that ends sooner than this after it started counts as a
 * failure to start (backoff), not as a job that ran and ended. */
#define QUICK_EXIT_US (10 * G_USEC_PER_SEC)
/* The record's "decisions": the latest scalings, newest last. */
#define MAX_DECISIONS 32

typedef struct {
  OrchGroups *owner;
  char *id;
  char *name;
  GVariant *template; /* a{sv}, validated */
  guint desired;
  guint max_unavailable;
  guint generation;  /* bumped by a new template */
  GPtrArray *slots;  /* char * job id or NULL, index = replica */
  GArray *slot_gen;  /* guint: the template generation of each slot */
  gint64 created_at; /* real time, µs */
  /* autoscale, when autoscaler != NULL */
  OrchAutoscaler *autoscaler;
  GVariant *autoscale; /* the options as given */
  OrchGroupMetric metric;
  OrchScrape *scrape; /* metric prometheus */
  char *metric_dir;   /* metric file: where replicas write */
  gint64 period_us;
  gint64 next_decision; /* monotonic */
  GVariant *last_scale; /* a{sv} or NULL */
  GVariant *last_decision;
  GPtrArray *decisions;        /* a{sv}: the scalings, oldest first, MAX_DECISIONS */
  OrchGroupForecast *forecast; /* autoscale proactive */
  gint64 forecast_for;         /* the next_decision it was asked for */
  /* replicas that cannot start */
  guint failures;
  gint64 next_attempt; /* monotonic */
  char *error;
} Group;

struct _OrchGroups {
  const OrchConfig *config;
  OrchManager *manager;
  OrchState *state;
  OrchGroupsChangedFunc changed;
  gpointer user_data;
  OrchSampler *sampler; /* for pressure; NULL: none measured */
  GHashTable *groups;   /* id -> Group */
  GRand *rand;
  guint timer;
};

static void
group_free (Group *gr)
{
  g_free (gr->id);
  g_free (gr->name);
  g_clear_pointer (&gr->template, g_variant_unref);
  g_ptr_array_unref (gr->slots);
  g_array_unref (gr->slot_gen);
  g_clear_pointer (&gr->autoscaler, orch_autoscaler_free);
  g_clear_pointer (&gr->autoscale, g_variant_unref);
  g_clear_pointer (&gr->scrape, orch_scrape_free);
  g_free (gr->metric_dir);
  g_clear_pointer (&gr->last_scale, g_variant_unref);
  g_clear_pointer (&gr->last_decision, g_variant_unref);
  g_ptr_array_unref (gr->decisions);
  g_clear_pointer (&gr->forecast, orch_group_forecast_free);
  g_free (gr->error);
  g_free (gr);
}

static Group *
group_new (OrchGroups *g, const char *id)
{
  Group *gr = g_new0 (Group, 1);

  gr->owner = g;
  gr->id = g_strdup (id);
  gr->slots = g_ptr_array_new_with_free_func (g_free);
  gr->slot_gen = g_array_new (FALSE, TRUE, sizeof (guint));
  gr->decisions = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  gr->max_unavailable = 1;
  return gr;
}

static void
slot_set (Group *gr, guint i, const char *job_id)
{
  if (i >= gr->slots->len)
    {
      g_ptr_array_set_size (gr->slots, i + 1);
      g_array_set_size (gr->slot_gen, i + 1);
    }
  g_free (gr->slots->pdata[i]);
  gr->slots->pdata[i] = g_strdup (job_id);
}

static OrchJob *
slot_job (Group *gr, guint i)
{
  const char *id = i < gr->slots->len ? gr->slots->pdata[i] : NULL;

  return id ? orch_manager_lookup (gr->owner->manager, id, NULL) : NULL;
}

static gboolean
job_is_live (const OrchJob *job)
{
  return job && (job->state == ORCH_JOB_STARTING || job->state == ORCH_JOB_RUNNING);
}

/* ---- records ---- */

/* Keeps @decision (a scaling, the autoscaler's or by hand) in the
 * bounded history; the oldest goes. */
static void
note_decision (Group *gr, GVariant *decision)
{
  if (gr->decisions->len >= MAX_DECISIONS)
    g_ptr_array_remove_range (gr->decisions, 0, gr->decisions->len - MAX_DECISIONS + 1);
  g_ptr_array_add (gr->decisions, g_variant_ref_sink (decision));
}

static GVariant *
decisions_variant (Group *gr)
{
  return g_variant_new_array (G_VARIANT_TYPE_VARDICT, (GVariant **) gr->decisions->pdata,
                              gr->decisions->len);
}

static GVariant *
slots_variant (Group *gr)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; i < gr->slots->len; i++)
    g_variant_builder_add (&b, "s", gr->slots->pdata[i] ? (char *) gr->slots->pdata[i] : "");
  return g_variant_builder_end (&b);
}

static void
count_replicas (Group *gr, guint *live, guint *running)
{
  *live = *running = 0;
  for (guint i = 0; i < gr->slots->len; i++)
    {
      OrchJob *job = slot_job (gr, i);
      if (job_is_live (job))
        {
          (*live)++;
          *running += job->state == ORCH_JOB_RUNNING;
        }
    }
}

/* @durable: what the state keeps (no live counts). */
static GVariant *
group_record (Group *gr, gboolean durable)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (gr->id));
  g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (gr->name ? gr->name : ""));
  g_variant_builder_add (&b, "{sv}", "template", gr->template);
  g_variant_builder_add (&b, "{sv}", "desired", g_variant_new_uint32 (gr->desired));
  g_variant_builder_add (&b, "{sv}", "max_unavailable", g_variant_new_uint32 (gr->max_unavailable));
  g_variant_builder_add (&b, "{sv}", "generation", g_variant_new_uint32 (gr->generation));
  g_variant_builder_add (&b, "{sv}", "replicas", slots_variant (gr));
  g_variant_builder_add (&b, "{sv}", "replica_generations",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, gr->slot_gen->data,
                                                    gr->slot_gen->len, sizeof (guint32)));
  g_variant_builder_add (&b, "{sv}", "created_at", g_variant_new_uint64 (gr->created_at));
  if (gr->autoscale)
    g_variant_builder_add (&b, "{sv}", "autoscale", gr->autoscale);
  if (gr->last_scale)
    g_variant_builder_add (&b, "{sv}", "last_scale", gr->last_scale);
  g_variant_builder_add (&b, "{sv}", "decisions", decisions_variant (gr));
  if (!durable)
    {
      guint live, running;

      count_replicas (gr, &live, &running);
      g_variant_builder_add (&b, "{sv}", "running", g_variant_new_uint32 (running));
      g_variant_builder_add (&b, "{sv}", "live", g_variant_new_uint32 (live));
      if (gr->last_decision)
        g_variant_builder_add (&b, "{sv}", "last_decision", gr->last_decision);
      if (gr->error)
        g_variant_builder_add (&b, "{sv}", "error", g_variant_new_string (gr->error));
    }
  return g_variant_builder_end (&b);
}

static gboolean
persist (Group *gr, GError **error)
{
  g_autoptr(GVariant) rec = NULL;

  if (!gr->owner->state)
    return TRUE;
  rec = g_variant_ref_sink (group_record (gr, TRUE));
  return orch_state_save_group (gr->owner->state, gr->id, rec, error);
}

/* The one place a group's events leave the core: GroupChanged now, the
 * event stream (Jobs.JobEvent / GetEvents) when it lands. */
static void
emit (Group *gr, const char *event, GVariant *data)
{
  g_autoptr(GVariant) owned = NULL;

  if (data == NULL)
    data = owned = g_variant_ref_sink (group_record (gr, FALSE));
  else
    owned = g_variant_ref_sink (data);
  if (gr->owner->changed)
    gr->owner->changed (gr->id, event, data, gr->owner->user_data);
}

/* ---- options ---- */

/* autoscale's keys: orch_autoscale_field_types (basic), which the REST
 * shim reads too. */

/* proactive, proactive_horizon_s: only for the metrics the sampler keeps
 * a history of (what the forecaster fits). */
static gboolean
parse_proactive (GVariant *as, OrchGroupMetric m, OrchAutoscaleSettings *s, GError **error)
{
  guint32 u;

  g_variant_lookup (as, "proactive", "b", &s->proactive);
  if (g_variant_lookup (as, "proactive_horizon_s", "u", &u))
    s->proactive_horizon_us = (gint64) u * G_USEC_PER_SEC;
  if (s->proactive && m != ORCH_GROUP_METRIC_CPU_PERCENT && m != ORCH_GROUP_METRIC_MEMORY_BYTES)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("autoscale: “proactive” needs metric cpu_percent or memory_bytes, not %s"),
                   orch_group_metric_to_string (m));
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_autoscale (Group *gr, GVariant *as, GError **error)
{
  OrchAutoscaleSettings s;
  double target = 0, d;
  guint32 min = 1, max = 0, u;
  OrchGroupMetric m;
  g_autoptr(OrchScrape) scrape = NULL;

  if (!orch_vardict_check (as, "autoscale", orch_autoscale_field_types, error))
    return FALSE;
  if (!orch_group_metric_parse (as, &m, &scrape, error))
    return FALSE;
  if (!g_variant_lookup (as, "target", "d", &target) || !g_variant_lookup (as, "max", "u", &max))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("autoscale: “target” and “max” are required"));
      return FALSE;
    }
  g_variant_lookup (as, "min", "u", &min);
  orch_autoscale_settings_init (&s, target, min, max);
  if (max > MAX_REPLICAS)
    s.max_replicas = G_MAXUINT; /* refused by the check below, naming max */
  if (g_variant_lookup (as, "scale_down_window_s", "u", &u))
    s.down_window_us = (gint64) u * G_USEC_PER_SEC;
  if (g_variant_lookup (as, "scale_up_window_s", "u", &u))
    s.up_window_us = (gint64) u * G_USEC_PER_SEC;
  if (g_variant_lookup (as, "tolerance", "d", &d))
    s.tolerance = d;
  if (g_variant_lookup (as, "up_tolerance", "d", &d))
    s.up_tolerance = d;
  if (g_variant_lookup (as, "scale_up_pods", "u", &u))
    s.up_pods = u;
  if (g_variant_lookup (as, "scale_up_percent", "d", &d))
    s.up_percent = d;
  if (g_variant_lookup (as, "scale_down_pods", "u", &u))
    s.down_pods = u;
  if (g_variant_lookup (as, "scale_down_percent", "d", &d))
    s.down_percent = d;
  if (g_variant_lookup (as, "rate_period_s", "u", &u))
    s.up_period_us = s.down_period_us = (gint64) u * G_USEC_PER_SEC;
  if (g_variant_lookup (as, "lead_s", "u", &u))
    s.lead_us = (gint64) u * G_USEC_PER_SEC;
  if (g_variant_lookup (as, "trend_window_s", "u", &u))
    s.trend_window_us = (gint64) u * G_USEC_PER_SEC;
  if (g_variant_lookup (as, "noise_headroom", "d", &d))
    s.noise_headroom = d;
  if (!parse_proactive (as, m, &s, error))
    return FALSE;
  s.ceiling = orch_group_metric_ceiling (m);
  if (s.max_replicas > MAX_REPLICAS)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("autoscale: “max” must be at most %u"), MAX_REPLICAS);
      return FALSE;
    }
  if (!orch_autoscale_settings_check (&s, error))
    return FALSE;
  u = 5000;
  g_variant_lookup (as, "period_ms", "u", &u);
  if (u < 100 || u > 3600 * 1000)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("autoscale: “period_ms” must be between 100 and 3600000"));
      return FALSE;
    }
  g_clear_pointer (&gr->autoscaler, orch_autoscaler_free);
  gr->autoscaler = orch_autoscaler_new (&s);
  g_clear_pointer (&gr->forecast, orch_group_forecast_free);
  if (s.proactive)
    gr->forecast = orch_group_forecast_new (gr->id, orch_group_metric_to_string (m),
                                            (guint32) (s.proactive_horizon_us / G_USEC_PER_SEC));
  gr->metric = m;
  g_clear_pointer (&gr->scrape, orch_scrape_free);
  gr->scrape = g_steal_pointer (&scrape);
  g_clear_pointer (&gr->metric_dir, g_free);
  if (m == ORCH_GROUP_METRIC_FILE && !(gr->metric_dir = orch_group_metric_dir (gr->id, error)))
    return FALSE;
  gr->period_us = (gint64) u * 1000;
  gr->next_decision = g_get_monotonic_time () + gr->period_us;
  g_clear_pointer (&gr->autoscale, g_variant_unref);
  gr->autoscale = g_variant_ref (as);
  return TRUE;
}

static gboolean
parse_template (OrchGroups *g, GVariant *tmpl, GError **error)
{
  if (!g_variant_is_of_type (tmpl, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("option “template” must be of type a{sv}"));
      return FALSE;
    }
  /* A retried Create is the group's, and the group restarts replicas
   * itself (with backoff): neither belongs to a replica. */
  g_autoptr(GVariant) rid = g_variant_lookup_value (tmpl, "request_id", NULL);
  g_autoptr(GVariant) restart = g_variant_lookup_value (tmpl, "restart", NULL);

  if (rid || restart)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _ ("template: “request_id” and “restart” are not allowed (the group "
                      "replaces replicas that end)"));
      return FALSE;
    }
  return orch_manager_check_spec (g->manager, tmpl, error);
}

static gboolean
check_replicas (OrchGroups *g, Group *gr, guint n, GError **error)
{
  guint max = MIN (MAX_REPLICAS, g->config->max_concurrent);

  if (n > max)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("replicas: %u is more than %u ([jobs] max_concurrent)"), n, max);
      return FALSE;
    }
  if (gr->autoscaler)
    {
      const OrchAutoscaleSettings *s = orch_autoscaler_get_settings (gr->autoscaler);
      if (n < s->min_replicas || n > s->max_replicas)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("replicas: %u is outside the autoscale range %u..%u"), n, s->min_replicas,
                       s->max_replicas);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- keeping the count ---- */

static void
stop_done (OrchJob *job, const GError *error, gpointer user_data)
{
  if (error && !g_error_matches (error, ORCH_ERROR, ORCH_ERROR_INVALID_STATE))
    g_debug ("group: stopping a replica: %s", error->message);
}

static void
stop_slot (Group *gr, guint i)
{
  g_autofree char *id = g_steal_pointer (&gr->slots->pdata[i]);
  OrchJob *job = id ? orch_manager_lookup (gr->owner->manager, id, NULL) : NULL;

  if (job_is_live (job))
    orch_manager_stop (gr->owner->manager, id, 0, 0, stop_done, NULL);
}

static GVariant *
replica_spec (Group *gr, guint i)
{
  GVariantBuilder b, env;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  g_autoptr(GVariant) old_env = g_variant_lookup_value (gr->template, "env",
                                                        G_VARIANT_TYPE ("a{ss}"));
  char index[16];

  g_snprintf (index, sizeof index, "%u", i);
  g_variant_builder_init (&env, G_VARIANT_TYPE ("a{ss}"));
  if (old_env)
    {
      const char *k, *v;
      g_variant_iter_init (&iter, old_env);
      while (g_variant_iter_next (&iter, "{&s&s}", &k, &v))
        if (strcmp (k, "ORCH_REPLICA") != 0 && strcmp (k, "ORCH_GROUP") != 0 &&
            strcmp (k, "ORCH_METRIC_FILE") != 0)
          g_variant_builder_add (&env, "{ss}", k, v);
    }
  g_variant_builder_add (&env, "{ss}", "ORCH_REPLICA", index);
  g_variant_builder_add (&env, "{ss}", "ORCH_GROUP", gr->id);
  if (gr->metric_dir)
    {
      g_autofree char *file = g_build_filename (gr->metric_dir, index, NULL);
      g_variant_builder_add (&env, "{ss}", "ORCH_METRIC_FILE", file);
    }
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, gr->template);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    if (strcmp (key, "env") != 0)
      g_variant_builder_add (&b, "{sv}", key, value);
  g_variant_builder_add (&b, "{sv}", "env", g_variant_builder_end (&env));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static void
note_failure (Group *gr, guint i, const char *message)
{
  gint64 delay = MIN (BACKOFF_CAP_US, (gint64) G_USEC_PER_SEC << MIN (gr->failures, 6));

  gr->failures++;
  gr->next_attempt = g_get_monotonic_time () + delay;
  g_free (gr->error);
  gr->error = g_strdup (message);
  emit (gr, "replica-failed",
        g_variant_new_parsed ("{'replica': <%u>, 'error': <%s>, 'retry_in_ms': <%t>}", i, message,
                              (guint64) (delay / 1000)));
}

/* Slots whose job has ended are free again; one that ended right after
 * it started is a failure to start. */
static gboolean
free_ended (Group *gr)
{
  gboolean any = FALSE;

  for (guint i = 0; i < gr->slots->len; i++)
    {
      OrchJob *job;

      if (!gr->slots->pdata[i])
        continue;
      job = slot_job (gr, i);
      if (job_is_live (job))
        continue;
      if (job && job->finished_at && job->started_at &&
          job->finished_at - job->started_at < QUICK_EXIT_US)
        {
          g_autofree char *msg = g_strdup_printf (
              _("replica %u (%s) ended %s right after it started"), i, job->id,
              orch_job_state_to_string (job->state));
          note_failure (gr, i, msg);
        }
      else if (job && job->error)
        note_failure (gr, i, job->error);
      g_clear_pointer (&gr->slots->pdata[i], g_free);
      any = TRUE;
    }
  return any;
}

static gboolean
start_replica (Group *gr, guint i)
{
  g_autoptr(GVariant) spec = replica_spec (gr, i);
  g_autoptr(GError) error = NULL;
  OrchJob *job;

  /* The slot's generation is durable before the job exists: a daemon
   * killed in between finds the job by its group_id. */
  slot_set (gr, i, NULL);
  g_array_index (gr->slot_gen, guint, i) = gr->generation;
  if (!persist (gr, &error))
    {
      note_failure (gr, i, error->message);
      return FALSE;
    }
  job = orch_manager_create_replica (gr->owner->manager, spec, gr->id, i, &error);
  if (job == NULL)
    {
      note_failure (gr, i, error->message);
      return FALSE;
    }
  slot_set (gr, i, job->id);
  if (!persist (gr, &error))
    g_warning ("group %s: %s", gr->id, error->message);
  g_clear_pointer (&gr->error, g_free);
  return TRUE;
}

static void
reconcile (Group *gr)
{
  gboolean changed = free_ended (gr);
  guint live = 0, running;
  gint64 now = g_get_monotonic_time ();

  count_replicas (gr, &live, &running);
  /* Too many: the highest indexes go. */
  for (guint i = gr->slots->len; live > gr->desired && i-- > 0;)
    if (gr->slots->pdata[i])
      {
        stop_slot (gr, i);
        live--;
        changed = TRUE;
      }
  /* A rollout: old replicas go while no more than max_unavailable of the
   * desired are not running; the loop below starts their successors. */
  if (live == gr->desired)
    {
      guint unavailable = gr->desired - MIN (running, gr->desired);
      for (guint i = 0; i < gr->slots->len && unavailable < gr->max_unavailable; i++)
        if (gr->slots->pdata[i] && g_array_index (gr->slot_gen, guint, i) != gr->generation)
          {
            OrchJob *job = slot_job (gr, i);
            if (job && job->state != ORCH_JOB_RUNNING)
              continue;
            stop_slot (gr, i);
            live--;
            unavailable++;
            changed = TRUE;
          }
    }
  /* Too few: the lowest free indexes, unless backing off. */
  for (guint i = 0; live < gr->desired && now >= gr->next_attempt; i++)
    if (i >= gr->slots->len || !gr->slots->pdata[i])
      {
        if (!start_replica (gr, i))
          break;
        live++;
        changed = TRUE;
      }
  if (changed)
    {
      g_autoptr(GError) error = NULL;
      if (!persist (gr, &error))
        g_warning ("group %s: %s", gr->id, error->message);
      emit (gr, "changed", NULL);
    }
}

/* ---- the autoscaler ---- */

static void
autoscale (Group *gr, gint64 now)
{
  OrchAutoscaleInput in = { .current = gr->desired };
  OrchAutoscaleDecision d;
  gint64 real_now = g_get_real_time ();
  /* cpu_percent needs two samples of a job */
  gint64 settle = 2 * (gint64) gr->owner->config->sample_interval_ms * 1000;
  g_autoptr(GError) error = NULL;

  /* A scrape in the last half period: fresh for the decision. */
  if (gr->scrape && now >= gr->next_decision - MIN (gr->period_us / 2, G_USEC_PER_SEC))
    orch_scrape_start (gr->scrape, (guint) MIN (gr->period_us / 1000, 5000));
  /* The forecast likewise, off this tick: one fit a period at most. */
  if (gr->forecast && gr->forecast_for != gr->next_decision &&
      now >= gr->next_decision - MIN (gr->period_us / 2, G_USEC_PER_SEC))
    {
      gr->forecast_for = gr->next_decision;
      orch_group_forecast_request (gr->forecast, gr->owner->sampler, gr->owner->manager, gr->owner);
    }
  if (now < gr->next_decision)
    return;
  gr->next_decision = now + gr->period_us;
  /* One a loaded daemon could not make in time is used a while longer. */
  if (gr->forecast)
    in.has_forecast = orch_group_forecast_latest (gr->forecast, now, 3 * gr->period_us,
                                                  &in.forecast_sum);
  if (gr->scrape)
    {
      /* The group's total: every live replica shares it. */
      double v;
      guint live, running;
      count_replicas (gr, &live, &running);
      if (orch_scrape_latest (gr->scrape, 2 * gr->period_us + G_USEC_PER_SEC, &v))
        {
          in.measured = MIN (running, gr->desired);
          in.value_sum = in.measured ? v : 0;
        }
    }
  else
    for (guint i = 0; i < gr->slots->len; i++)
      {
        OrchJob *job = slot_job (gr, i);
        double v;
        if (!job || job->state != ORCH_JOB_RUNNING || real_now - job->started_at < settle)
          continue;
        if (!orch_group_metric_read (gr->metric, job, gr->owner->sampler, gr->metric_dir, i,
                                     3 * gr->period_us + 10 * G_USEC_PER_SEC, &v))
          continue;
        in.measured++;
        in.value_sum += v;
      }
  orch_autoscaler_decide (gr->autoscaler, now, &in, &d);
  g_clear_pointer (&gr->last_decision, g_variant_unref);
  gr->last_decision = g_variant_ref_sink (orch_autoscale_decision_to_variant (&d));
  if (d.to == gr->desired)
    return;
  gr->desired = d.to;
  g_clear_pointer (&gr->last_scale, g_variant_unref);
  gr->last_scale = g_variant_ref_sink (g_variant_new_parsed (
      "{'time': <%t>, 'from': <%u>, 'to': <%u>, 'reason': <%s>}", (guint64) real_now, d.from, d.to,
      orch_autoscale_reason_to_string (d.reason)));
  {
    GVariantBuilder b;
    GVariantIter iter;
    const char *key;
    GVariant *value;
    g_autoptr(GVariant) scaled = NULL;

    /* the decision, with the wall-clock time and the metric */
    g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
    g_variant_iter_init (&iter, gr->last_decision);
    while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
      if (strcmp (key, "time") != 0)
        g_variant_builder_add (&b, "{sv}", key, value);
    g_variant_builder_add (&b, "{sv}", "time", g_variant_new_uint64 (real_now));
    g_variant_builder_add (&b, "{sv}", "metric",
                           g_variant_new_string (orch_group_metric_to_string (gr->metric)));
    if (gr->forecast)
      g_variant_builder_add (&b, "{sv}", "forecast_cost_us",
                             g_variant_new_int64 (orch_group_forecast_cost_us (gr->forecast)));
    scaled = g_variant_ref_sink (g_variant_builder_end (&b));
    note_decision (gr, scaled);
    if (!persist (gr, &error))
      g_warning ("group %s: %s", gr->id, error->message);
    emit (gr, "scaled", scaled);
  }
  reconcile (gr);
}

static gboolean
tick (gpointer data)
{
  OrchGroups *g = data;
  g_autofree gpointer *ids = NULL;
  guint n;
  gint64 now = g_get_monotonic_time ();

  /* ids first: a callback may not remove a group, but be safe */
  /* No group, no wakeups: the timer starts again with the next one. */
  if (g_hash_table_size (g->groups) == 0)
    {
      g->timer = 0;
      return G_SOURCE_REMOVE;
    }
  ids = g_hash_table_get_keys_as_array (g->groups, &n);
  for (guint i = 0; i < n; i++)
    {
      Group *gr = g_hash_table_lookup (g->groups, ids[i]);
      if (!gr)
        continue;
      if (gr->autoscaler)
        autoscale (gr, now);
      reconcile (gr);
    }
  return G_SOURCE_CONTINUE;
}

/* ---- public ---- */

static void
ensure_timer (OrchGroups *g)
{
  if (!g->timer)
    g->timer = g_timeout_add (TICK_MS, tick, g);
}

OrchGroups *
orch_groups_new (const OrchConfig *config, OrchManager *manager, OrchState *state,
                 OrchGroupsChangedFunc changed, gpointer user_data)
{
  OrchGroups *g = g_new0 (OrchGroups, 1);

  g->config = config;
  g->manager = manager;
  g->state = state;
  g->changed = changed;
  g->user_data = user_data;
  g->groups = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) group_free);
  g->rand = g_rand_new ();
  return g;
}

void
orch_groups_free (OrchGroups *g)
{
  if (!g)
    return;
  if (g->timer)
    g_source_remove (g->timer);
  g_hash_table_unref (g->groups);
  g_rand_free (g->rand);
  g_free (g);
}

void
orch_groups_set_sampler (OrchGroups *g, OrchSampler *sampler)
{
  g->sampler = sampler;
}

gboolean
orch_groups_exists (OrchGroups *g, const char *id)
{
  return id && g_hash_table_contains (g->groups, id);
}

static Group *
lookup (OrchGroups *g, const char *id, GError **error)
{
  Group *gr;

  /* As for jobs: a malformed id is the caller's mistake, not a miss. */
  if (!orch_group_id_is_valid (id))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a job group id (group_YYYYMMDD_HHMMSS_xxxxxx)"), id ? id : "");
      return NULL;
    }
  gr = g_hash_table_lookup (g->groups, id);
  if (!gr)
    g_set_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND, _("no job group “%s”"), id);
  return gr;
}

static const char *const create_keys[] = { "template",        "a{sv}", "replicas", "u",
                                           "max_unavailable", "u",     "name",     "s",
                                           "autoscale",       "a{sv}", NULL };

char *
orch_groups_create (OrchGroups *g, GVariant *options, GError **error)
{
  g_autoptr(GVariant) tmpl = NULL, as = NULL;
  g_autofree char *id = NULL;
  Group *gr;
  guint32 replicas = 1, u;
  const char *name = NULL;

  if (!orch_vardict_check (options, "option", create_keys, error))
    return NULL;
  tmpl = g_variant_lookup_value (options, "template", G_VARIANT_TYPE_VARDICT);
  if (!tmpl)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("option “template” is required"));
      return NULL;
    }
  if (!parse_template (g, tmpl, error))
    return NULL;
  do
    {
      g_free (id);
      id = orch_group_id_new (g_get_real_time (), g->rand);
    }
  while (g_hash_table_contains (g->groups, id));
  gr = group_new (g, id);
  gr->template = g_variant_ref (tmpl);
  gr->created_at = g_get_real_time ();
  if (g_variant_lookup (options, "name", "&s", &name))
    gr->name = g_strdup (name);
  if (g_variant_lookup (options, "max_unavailable", "u", &u))
    gr->max_unavailable = u;
  as = g_variant_lookup_value (options, "autoscale", G_VARIANT_TYPE_VARDICT);
  if (as && !parse_autoscale (gr, as, error))
    {
      group_free (gr);
      return NULL;
    }
  if (!g_variant_lookup (options, "replicas", "u", &replicas) && gr->autoscaler)
    replicas = orch_autoscaler_get_settings (gr->autoscaler)->min_replicas;
  if (gr->max_unavailable == 0 || !check_replicas (g, gr, replicas, error))
    {
      if (gr->max_unavailable == 0)
        g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                     _("option “max_unavailable” must be at least 1"));
      group_free (gr);
      return NULL;
    }
  gr->desired = replicas;
  if (!persist (gr, error))
    {
      group_free (gr);
      return NULL;
    }
  g_hash_table_insert (g->groups, gr->id, gr);
  ensure_timer (g);
  emit (gr, "added", NULL);
  reconcile (gr);
  return g_steal_pointer (&id);
}

GVariant *
orch_groups_get (OrchGroups *g, const char *id, GError **error)
{
  Group *gr = lookup (g, id, error);

  return gr ? group_record (gr, FALSE) : NULL;
}

static int
cmp_group (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(Group *const *) a)->id, (*(Group *const *) b)->id);
}

GVariant *
orch_groups_list (OrchGroups *g)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  GVariantBuilder b;
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, g->groups);
  while (g_hash_table_iter_next (&it, NULL, &v))
    g_ptr_array_add (all, v);
  g_ptr_array_sort (all, cmp_group);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < all->len; i++)
    g_variant_builder_add_value (&b, group_record (all->pdata[i], FALSE));
  return g_variant_builder_end (&b);
}

static const char *const update_keys[] = { "template", "a{sv}", "max_unavailable", "u", "autoscale",
                                           "a{sv}",    NULL };

gboolean
orch_groups_update (OrchGroups *g, const char *id, GVariant *options, GError **error)
{
  Group *gr = lookup (g, id, error);
  g_autoptr(GVariant) tmpl = NULL, as = NULL;
  guint32 u;

  if (!gr || !orch_vardict_check (options, "option", update_keys, error))
    return FALSE;
  tmpl = g_variant_lookup_value (options, "template", G_VARIANT_TYPE_VARDICT);
  if (tmpl && !parse_template (g, tmpl, error))
    return FALSE;
  if (g_variant_lookup (options, "max_unavailable", "u", &u) && u == 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("option “max_unavailable” must be at least 1"));
      return FALSE;
    }
  as = g_variant_lookup_value (options, "autoscale", G_VARIANT_TYPE_VARDICT);
  if (as)
    {
      /* checked on a scratch group so a bad one changes nothing */
      Group *scratch = group_new (g, id);
      gboolean ok = parse_autoscale (scratch, as, error);
      if (ok)
        {
          g_clear_pointer (&gr->autoscaler, orch_autoscaler_free);
          g_clear_pointer (&gr->autoscale, g_variant_unref);
          gr->autoscaler = g_steal_pointer (&scratch->autoscaler);
          gr->autoscale = g_steal_pointer (&scratch->autoscale);
          gr->metric = scratch->metric;
          g_clear_pointer (&gr->scrape, orch_scrape_free);
          gr->scrape = g_steal_pointer (&scratch->scrape);
          if (gr->metric_dir && !scratch->metric_dir)
            orch_group_metric_dir_remove (gr->metric_dir);
          g_free (gr->metric_dir);
          gr->metric_dir = g_steal_pointer (&scratch->metric_dir);
          gr->period_us = scratch->period_us;
          gr->next_decision = scratch->next_decision;
          gr->desired = CLAMP (gr->desired,
                               orch_autoscaler_get_settings (gr->autoscaler)->min_replicas,
                               orch_autoscaler_get_settings (gr->autoscaler)->max_replicas);
        }
      group_free (scratch);
      if (!ok)
        return FALSE;
    }
  if (g_variant_lookup (options, "max_unavailable", "u", &u))
    gr->max_unavailable = u;
  if (tmpl)
    {
      g_clear_pointer (&gr->template, g_variant_unref);
      gr->template = g_variant_ref (tmpl);
      gr->generation++;
    }
  if (!persist (gr, error))
    return FALSE;
  emit (gr, "changed", NULL);
  reconcile (gr);
  return TRUE;
}

gboolean
orch_groups_scale (OrchGroups *g, const char *id, guint replicas, GError **error)
{
  Group *gr = lookup (g, id, error);
  g_autoptr(GVariant) scale = NULL, old_scale = NULL;
  guint from;

  if (!gr || !check_replicas (g, gr, replicas, error))
    return FALSE;
  from = gr->desired;
  scale = g_variant_ref_sink (
      g_variant_new_parsed ("{'time': <%t>, 'from': <%u>, 'to': <%u>, 'reason': <'manual'>}",
                            (guint64) g_get_real_time (), from, replicas));
  gr->desired = replicas;
  old_scale = g_steal_pointer (&gr->last_scale);
  gr->last_scale = g_variant_ref (scale);
  note_decision (gr, scale);
  if (!persist (gr, error))
    {
      /* As it was: nothing changed. */
      gr->desired = from;
      g_clear_pointer (&gr->last_scale, g_variant_unref);
      gr->last_scale = g_steal_pointer (&old_scale);
      g_ptr_array_remove_index (gr->decisions, gr->decisions->len - 1);
      return FALSE;
    }
  if (gr->autoscaler)
    orch_autoscaler_note_manual (gr->autoscaler, g_get_monotonic_time (), from, replicas);
  gr->failures = 0;
  gr->next_attempt = 0;
  reconcile (gr);
  emit (gr, "changed", NULL);
  return TRUE;
}

static const char *const remove_keys[] = { NULL };

gboolean
orch_groups_remove (OrchGroups *g, const char *id, GVariant *options, GError **error)
{
  Group *gr = lookup (g, id, error);

  if (!gr || !orch_vardict_check (options, "option", remove_keys, error))
    return FALSE;
  if (g->state && !orch_state_delete_group (g->state, id, error))
    return FALSE;
  for (guint i = 0; i < gr->slots->len; i++)
    stop_slot (gr, i);
  if (gr->metric_dir)
    orch_group_metric_dir_remove (gr->metric_dir);
  emit (gr, "removed", NULL);
  g_hash_table_remove (g->groups, id);
  return TRUE;
}

/* ---- restore ---- */

static Group *
group_from_record (OrchGroups *g, GVariant *rec)
{
  const char *id = NULL, *name = NULL;
  g_autoptr(GVariant) tmpl = NULL, slots = NULL, gens = NULL, as = NULL, decisions = NULL;
  g_autoptr(GError) error = NULL;
  Group *gr;
  guint64 created = 0;

  if (!g_variant_lookup (rec, "id", "&s", &id) || !orch_group_id_is_valid (id) ||
      !(tmpl = g_variant_lookup_value (rec, "template", G_VARIANT_TYPE_VARDICT)))
    return NULL;
  gr = group_new (g, id);
  gr->template = g_variant_ref (tmpl);
  if (g_variant_lookup (rec, "name", "&s", &name) && *name)
    gr->name = g_strdup (name);
  g_variant_lookup (rec, "desired", "u", &gr->desired);
  g_variant_lookup (rec, "max_unavailable", "u", &gr->max_unavailable);
  g_variant_lookup (rec, "generation", "u", &gr->generation);
  g_variant_lookup (rec, "created_at", "t", &created);
  gr->created_at = created;
  gr->last_scale = g_variant_lookup_value (rec, "last_scale", G_VARIANT_TYPE_VARDICT);
  decisions = g_variant_lookup_value (rec, "decisions", G_VARIANT_TYPE ("aa{sv}"));
  for (gsize i = 0; decisions && i < g_variant_n_children (decisions); i++)
    {
      g_autoptr(GVariant) one = g_variant_get_child_value (decisions, i);
      note_decision (gr, one);
    }
  slots = g_variant_lookup_value (rec, "replicas", G_VARIANT_TYPE_STRING_ARRAY);
  gens = g_variant_lookup_value (rec, "replica_generations", G_VARIANT_TYPE ("au"));
  if (slots)
    {
      gsize n, ng = 0;
      g_autofree const char **ids = g_variant_get_strv (slots, &n);
      const guint32 *gv = gens ? g_variant_get_fixed_array (gens, &ng, sizeof (guint32)) : NULL;
      for (gsize i = 0; i < n; i++)
        {
          slot_set (gr, i, *ids[i] ? ids[i] : NULL);
          g_array_index (gr->slot_gen, guint, i) = i < ng ? gv[i] : gr->generation;
        }
    }
  as = g_variant_lookup_value (rec, "autoscale", G_VARIANT_TYPE_VARDICT);
  if (as && !parse_autoscale (gr, as, &error))
    g_warning ("group %s: autoscale dropped: %s", id, error->message);
  return gr;
}

gboolean
orch_groups_restore (OrchGroups *g, GError **error)
{
  g_autoptr(GPtrArray) recs = NULL, jobs = NULL;

  if (!g->state)
    return TRUE;
  recs = orch_state_load_groups (g->state, error);
  if (!recs)
    return FALSE;
  for (guint i = 0; i < recs->len; i++)
    {
      Group *gr = group_from_record (g, recs->pdata[i]);
      if (!gr)
        {
          g_warning ("a job group record that does not parse was skipped");
          continue;
        }
      g_hash_table_insert (g->groups, gr->id, gr);
      ensure_timer (g);
    }
  /* A replica made just before the daemon died may be in the job records
   * and not yet in its group's: the job's group_id says whose it is.  Two
   * live jobs for one index: the one the group's record does not name
   * goes. */
  jobs = orch_manager_list (g->manager, NULL, NULL, NULL);
  for (guint i = 0; jobs && i < jobs->len; i++)
    {
      OrchJob *job = jobs->pdata[i];
      Group *gr;
      OrchJob *held;

      if (!job->spec->group_id || !job_is_live (job))
        continue;
      gr = g_hash_table_lookup (g->groups, job->spec->group_id);
      if (!gr)
        {
          /* its group was removed: the stop did not happen before */
          orch_manager_stop (g->manager, job->id, 0, 0, stop_done, NULL);
          continue;
        }
      held = slot_job (gr, job->spec->replica);
      if (held == job)
        continue;
      if (job_is_live (held))
        orch_manager_stop (g->manager, job->id, 0, 0, stop_done, NULL);
      else
        slot_set (gr, job->spec->replica, job->id);
    }
  {
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init (&it, g->groups);
    while (g_hash_table_iter_next (&it, NULL, &v))
      reconcile (v);
  }
  return TRUE;
}
