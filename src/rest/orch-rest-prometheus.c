/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-rest-prometheus.h"

#include <string.h>

static void
prom_label_value (GString *out, const char *v)
{
  for (const char *p = v; *p; p++)
    {
      if (*p == '\\' || *p == '"')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, *p);
        }
      else if (*p == '\n')
        g_string_append (out, "\\n");
      else
        g_string_append_c (out, *p);
    }
}

static void
prom_metric (GString *out, const char *name, const char *type, const char *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A figure of @dict as a sample value; FALSE when missing or not a number. */
static gboolean
prom_figure (GVariant *dict, const char *key, double *ret)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (dict, key, NULL);

  if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    *ret = g_variant_get_double (v);
  else if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64))
    *ret = (double) g_variant_get_uint64 (v);
  else if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    *ret = g_variant_get_uint32 (v);
  else
    return FALSE;
  return TRUE;
}

/* A job's series up to its last label: name{id="...",name="...". */
static void
prom_job_series (GString *out, const char *metric, GVariant *job)
{
  const char *id = "", *name = "";

  g_variant_lookup (job, "id", "&s", &id);
  g_variant_lookup (job, "name", "&s", &name);
  g_string_append_printf (out, "%s{id=\"", metric);
  prom_label_value (out, id);
  g_string_append (out, "\",name=\"");
  prom_label_value (out, name);
  g_string_append_c (out, '"');
}

static void
prom_system (GString *out, GVariant *s)
{
  static const struct {
    const char *key, *name, *type, *help;
  } figures[] = {
    { "cpu_percent", "orchestrator_system_cpu_percent", "gauge",
      "Busy CPU time, percent of all CPUs." },
    { "memory_total", "orchestrator_system_memory_total_bytes", "gauge", "Physical memory." },
    { "memory_available", "orchestrator_system_memory_available_bytes", "gauge",
      "Memory available for new work." },
    { "memory_used", "orchestrator_system_memory_used_bytes", "gauge",
      "Total minus available memory." },
    { "swap_used", "orchestrator_system_swap_used_bytes", "gauge", "Swap in use." },
    { "load_1", "orchestrator_system_load1", "gauge", "Load average over 1 minute." },
    { "load_5", "orchestrator_system_load5", "gauge", "Load average over 5 minutes." },
    { "load_15", "orchestrator_system_load15", "gauge", "Load average over 15 minutes." },
    { "uptime_s", "orchestrator_system_uptime_seconds", "gauge", "Time since boot." },
    { "disk_used", "orchestrator_system_root_fs_used_bytes", "gauge", "Used space on /." },
    { "disk_total", "orchestrator_system_root_fs_size_bytes", "gauge", "Size of /." },
    { "net_bytes_recv", "orchestrator_system_network_receive_bytes_total", "counter",
      "Bytes received, all interfaces but lo." },
    { "net_bytes_sent", "orchestrator_system_network_transmit_bytes_total", "counter",
      "Bytes sent, all interfaces but lo." },
    { "process_count", "orchestrator_system_processes", "gauge", "Processes." },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (figures); i++)
    {
      double d;
      if (!prom_figure (s, figures[i].key, &d))
        continue;
      prom_metric (out, figures[i].name, figures[i].type, figures[i].help);
      g_string_append_printf (out, "%s %.17g\n", figures[i].name, d);
    }
}

/* The job states, as JobState in data/openapi.json (the contract test
 * compares): each job has one orchestrator_job_state series per state,
 * 1 for the one it is in, as node_exporter's systemd unit states. */
const char *const orch_rest_prometheus_job_states[] = { "starting", "running", "stopping", "exited",
                                                        "failed",   "stopped", NULL };

static gboolean
job_has_process (GVariant *job)
{
  const char *state = "";
  guint32 pid = 0;

  g_variant_lookup (job, "state", "&s", &state);
  g_variant_lookup (job, "pid", "u", &pid);
  return pid > 0 &&
         g_strv_contains ((const char *const[]){ "starting", "running", "stopping", NULL }, state);
}

/* Series keep one identity for a job's whole life, {id, name}: a state
 * change moves a value, never starts a new series, so rate() and alerts
 * hold.  Figures of a process (CPU, memory) exist only while it does. */
static void
prom_jobs (GString *out, GVariant *jobs)
{
  static const struct {
    const char *key, *name, *type, *help;
    gboolean process; /* only for a job that has a process */
  } figures[] = {
    { "cpu_percent", "orchestrator_job_cpu_percent", "gauge",
      "CPU use of the job, percent of one core.", TRUE },
    { "memory_bytes", "orchestrator_job_memory_bytes", "gauge", "Memory of the job.", TRUE },
    { "restarts", "orchestrator_job_restarts_total", "counter", "Times the job was started again.",
      FALSE },
  };
  gsize n = g_variant_n_children (jobs);

  for (gsize f = 0; f < G_N_ELEMENTS (figures); f++)
    {
      prom_metric (out, figures[f].name, figures[f].type, figures[f].help);
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) job = g_variant_get_child_value (jobs, i);
          double d = 0;
          if (figures[f].process &&
              (!job_has_process (job) || !prom_figure (job, figures[f].key, &d)))
            continue;
          prom_figure (job, figures[f].key, &d);
          prom_job_series (out, figures[f].name, job);
          g_string_append_printf (out, "} %.17g\n", d);
        }
    }
  prom_metric (out, "orchestrator_job_up", "gauge",
               "1 while the job has a process (starting, running or stopping), else 0.");
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) job = g_variant_get_child_value (jobs, i);
      prom_job_series (out, "orchestrator_job_up", job);
      g_string_append_printf (out, "} %d\n", job_has_process (job));
    }
  prom_metric (out, "orchestrator_job_state", "gauge",
               "1 for the state the job is in, 0 for the others.");
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) job = g_variant_get_child_value (jobs, i);
      const char *state = "";
      g_variant_lookup (job, "state", "&s", &state);
      for (const char *const *s = orch_rest_prometheus_job_states; *s; s++)
        {
          prom_job_series (out, "orchestrator_job_state", job);
          g_string_append_printf (out, ",state=\"%s\"} %d\n", *s, strcmp (*s, state) == 0);
        }
      /* A state this list does not know yet still shows. */
      if (!g_strv_contains (orch_rest_prometheus_job_states, state))
        {
          prom_job_series (out, "orchestrator_job_state", job);
          g_string_append (out, ",state=\"");
          prom_label_value (out, state);
          g_string_append (out, "\"} 1\n");
        }
    }
}

void
orch_rest_prometheus_write (GString *out, GVariant *system, GVariant *jobs)
{
  prom_system (out, system);
  prom_jobs (out, jobs);
}
