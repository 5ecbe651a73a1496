/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-rest-prometheus.h"

#include <errno.h>
#include <string.h>

/* Appends @n bytes of @s: a copy where @out has room (the common case
 * for an exposition sized up front), GString's append where it must grow. */
static inline void
put (GString *out, const char *s, gsize n)
{
  if (out->len + n < out->allocated_len)
    {
      memcpy (out->str + out->len, s, n);
      out->len += n;
      out->str[out->len] = '\0';
    }
  else
    g_string_append_len (out, s, (gssize) n);
}

#define PUT_LITERAL(out, lit) put ((out), (lit), sizeof (lit) - 1)

static void
prom_label_value (GString *out, const char *v)
{
  while (*v)
    {
      gsize plain = strcspn (v, "\\\"\n");

      put (out, v, plain);
      v += plain;
      if (*v == '\n')
        PUT_LITERAL (out, "\\n");
      else if (*v)
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, *v);
        }
      if (*v)
        v++;
    }
}

static void
prom_metric (GString *out, const char *name, const char *type, const char *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A sample value and the line's end.  %.17g round-trips any double; an
 * integer below 2^53 (bytes, counts: most of an exposition) prints the
 * same digits by hand, for a fraction of printf's cost. */
static void
prom_value (GString *out, double d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  PUT_LITERAL (out, "} ");
  if (d >= 1 && d < 9007199254740992.0 && d == (double) (guint64) d)
    {
      char *end = buf + sizeof buf, *p = end;
      for (guint64 u = (guint64) d; u; u /= 10)
        *--p = (char) ('0' + u % 10);
      put (out, p, (gsize) (end - p));
    }
  else
    {
      g_ascii_formatd (buf, sizeof buf, "%.17g", d);
      put (out, buf, strlen (buf));
    }
  g_string_append_c (out, '\n');
}

/* A number in a variant, whichever of the widths the daemon sends. */
static gboolean
prom_number (GVariant *v, double *ret)
{
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

/* A figure of @dict as a sample value; FALSE when missing or not a number. */
static gboolean
prom_figure (GVariant *dict, const char *key, double *ret)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (dict, key, NULL);

  return prom_number (v, ret);
}

static const struct {
  const char *key, *name, *type, *help;
} system_figures[ORCH_REST_PROM_SYSTEM_FIGURES] = {
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

void
orch_rest_prom_system_from_variant (OrchRestPromSystem *system, GVariant *dict)
{
  memset (system, 0, sizeof *system);
  for (gsize i = 0; i < G_N_ELEMENTS (system_figures); i++)
    system->has[i] = prom_figure (dict, system_figures[i].key, &system->figure[i]);
}

/* A variant's number as prom_number reads it, where it lies in @m (at
 * the variant); anything else is skipped.  1 if a number was read. */
static int
prom_read_number (sd_bus_message *m, double *ret)
{
  const char *contents;
  char type;
  int r = sd_bus_message_peek_type (m, &type, &contents);
  union {
    guint32 u;
    guint64 t;
    double d;
  } v;

  if (r <= 0 || type != 'v' || (r = sd_bus_message_enter_container (m, 'v', contents)) < 0)
    return r < 0 ? r : -EBADMSG;
  if (strchr ("udt", contents[0]) == NULL || contents[1] != '\0')
    r = sd_bus_message_skip (m, contents);
  else if ((r = sd_bus_message_read_basic (m, contents[0], &v)) >= 0)
    {
      *ret = contents[0] == 'd' ? v.d : contents[0] == 't' ? (double) v.t : v.u;
      r = 1;
    }
  if (r < 0)
    return r;
  return sd_bus_message_exit_container (m) < 0 ? -EBADMSG : r;
}

int
orch_rest_prom_system_from_message (OrchRestPromSystem *system, sd_bus_message *m)
{
  int r = sd_bus_message_enter_container (m, 'a', "{sv}");

  memset (system, 0, sizeof *system);
  while (r >= 0 && (r = sd_bus_message_enter_container (m, 'e', "sv")) > 0)
    {
      const char *key;
      gsize i = 0;

      if ((r = sd_bus_message_read_basic (m, 's', &key)) < 0)
        return r;
      while (i < G_N_ELEMENTS (system_figures) && strcmp (key, system_figures[i].key) != 0)
        i++;
      if (i == G_N_ELEMENTS (system_figures))
        r = sd_bus_message_skip (m, "v");
      else if ((r = prom_read_number (m, &system->figure[i])) > 0)
        system->has[i] = TRUE;
      if (r < 0 || (r = sd_bus_message_exit_container (m)) < 0)
        return r;
    }
  return r < 0 ? r : sd_bus_message_exit_container (m);
}

static void
prom_system (GString *out, const OrchRestPromSystem *s)
{
  for (gsize i = 0; i < G_N_ELEMENTS (system_figures); i++)
    {
      if (!s->has[i])
        continue;
      prom_metric (out, system_figures[i].name, system_figures[i].type, system_figures[i].help);
      put (out, system_figures[i].name, strlen (system_figures[i].name));
      /* No labels: prom_value's "} " would not do. */
      g_string_append_printf (out, " %.17g\n", s->figure[i]);
    }
}

/* The job states, as JobState in data/openapi.json (the contract test
 * compares): each job has one orchestrator_job_state series per state,
 * 1 for the one it is in, as node_exporter's systemd unit states. */
const char *const orch_rest_prometheus_job_states[] = { "starting", "running", "stopping", "exited",
                                                        "failed",   "stopped", NULL };

/* What the exposition needs of a job record, read once from it (a
 * GVariant or a D-Bus message): the strings point into the record. */
typedef struct {
  const char *id, *name, *state;
  guint32 pid;
  double figure[3]; /* as figures[] in prom_jobs */
  gboolean has[3];
  gsize labels, labels_len; /* its {id="...",name="..." in prom_jobs' buffer */
} PromJob;

static const char *const prom_job_figure_keys[] = { "cpu_percent", "memory_bytes", "restarts" };

/* PromJob's strings and pid, then prom_job_figure_keys. */
const char *const orch_rest_prometheus_job_keys[] = { "id",       "name",        "state",
                                                      "pid",      "cpu_percent", "memory_bytes",
                                                      "restarts", NULL };

static gboolean
job_has_process (const PromJob *job)
{
  return job->pid > 0 &&
         g_strv_contains ((const char *const[]){ "starting", "running", "stopping", NULL },
                          job->state);
}

static void
prom_job_init (PromJob *job)
{
  *job = (PromJob){ .id = "", .name = "", .state = "" };
}

static void
prom_job_from_variant (PromJob *job, GVariant *v)
{
  prom_job_init (job);
  g_variant_lookup (v, "id", "&s", &job->id);
  g_variant_lookup (v, "name", "&s", &job->name);
  g_variant_lookup (v, "state", "&s", &job->state);
  g_variant_lookup (v, "pid", "u", &job->pid);
  for (gsize f = 0; f < G_N_ELEMENTS (prom_job_figure_keys); f++)
    job->has[f] = prom_figure (v, prom_job_figure_keys[f], &job->figure[f]);
}

/* Each job's labels, escaped once into @labels: {id="...",name="... */
static void
prom_job_labels (GString *labels, PromJob *jobs, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      jobs[i].labels = labels->len;
      PUT_LITERAL (labels, "{id=\"");
      prom_label_value (labels, jobs[i].id);
      PUT_LITERAL (labels, "\",name=\"");
      prom_label_value (labels, jobs[i].name);
      g_string_append_c (labels, '"');
      jobs[i].labels_len = labels->len - jobs[i].labels;
    }
}

/* A job's series up to its last label: name{id="...",name="...". */
static void
prom_job_series (GString *out, const char *metric, gsize metric_len, const GString *labels,
                 const PromJob *job)
{
  put (out, metric, metric_len);
  put (out, labels->str + job->labels, job->labels_len);
}

/* Series keep one identity for a job's whole life, {id, name}: a state
 * change moves a value, never starts a new series, so rate() and alerts
 * hold.  Figures of a process (CPU, memory) exist only while it does. */
static void
prom_jobs (GString *out, PromJob *jobs, gsize n)
{
  static const struct {
    const char *name, *type, *help;
    gboolean process; /* only for a job that has a process */
  } figures[] = {
    { "orchestrator_job_cpu_percent", "gauge", "CPU use of the job, percent of one core.", TRUE },
    { "orchestrator_job_memory_bytes", "gauge", "Memory of the job.", TRUE },
    { "orchestrator_job_restarts_total", "counter", "Times the job was started again.", FALSE },
  };
  static const char up[] = "orchestrator_job_up", state_metric[] = "orchestrator_job_state";
  g_autoptr(GString) labels = g_string_sized_new (64 * n + 1);
  G_STATIC_ASSERT (G_N_ELEMENTS (figures) == G_N_ELEMENTS (prom_job_figure_keys));

  prom_job_labels (labels, jobs, n);
  /* Room for the whole exposition up front: ~10 series of a job. */
  {
    gsize len = out->len;
    g_string_set_size (out, len + 2048 + n * (10 * 48 + 10 * labels->len / MAX (n, 1)));
    g_string_truncate (out, len);
  }
  for (gsize f = 0; f < G_N_ELEMENTS (figures); f++)
    {
      gsize name_len = strlen (figures[f].name);
      prom_metric (out, figures[f].name, figures[f].type, figures[f].help);
      for (gsize i = 0; i < n; i++)
        {
          if (figures[f].process && (!job_has_process (&jobs[i]) || !jobs[i].has[f]))
            continue;
          prom_job_series (out, figures[f].name, name_len, labels, &jobs[i]);
          prom_value (out, jobs[i].has[f] ? jobs[i].figure[f] : 0);
        }
    }
  prom_metric (out, up, "gauge",
               "1 while the job has a process (starting, running or stopping), else 0.");
  for (gsize i = 0; i < n; i++)
    {
      prom_job_series (out, up, sizeof up - 1, labels, &jobs[i]);
      if (job_has_process (&jobs[i]))
        PUT_LITERAL (out, "} 1\n");
      else
        PUT_LITERAL (out, "} 0\n");
    }
  prom_metric (out, state_metric, "gauge", "1 for the state the job is in, 0 for the others.");
  for (gsize i = 0; i < n; i++)
    {
      const char *state = jobs[i].state;
      for (const char *const *s = orch_rest_prometheus_job_states; *s; s++)
        {
          prom_job_series (out, state_metric, sizeof state_metric - 1, labels, &jobs[i]);
          PUT_LITERAL (out, ",state=\"");
          put (out, *s, strlen (*s));
          if (strcmp (*s, state) == 0)
            PUT_LITERAL (out, "\"} 1\n");
          else
            PUT_LITERAL (out, "\"} 0\n");
        }
      /* A state this list does not know yet still shows. */
      if (!g_strv_contains (orch_rest_prometheus_job_states, state))
        {
          prom_job_series (out, state_metric, sizeof state_metric - 1, labels, &jobs[i]);
          PUT_LITERAL (out, ",state=\"");
          prom_label_value (out, state);
          PUT_LITERAL (out, "\"} 1\n");
        }
    }
}

void
orch_rest_prometheus_write (GString *out, const OrchRestPromSystem *system, GVariant *jobs)
{
  gsize n = g_variant_n_children (jobs);
  g_autofree PromJob *parsed = g_new (PromJob, n);
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  for (gsize i = 0; i < n; i++)
    {
      GVariant *job = g_variant_get_child_value (jobs, i);
      g_ptr_array_add (held, job); /* the strings live in it */
      prom_job_from_variant (&parsed[i], job);
    }
  prom_system (out, system);
  prom_jobs (out, parsed, n);
}

/* The rows of a Jobs.ListRows reply for orch_rest_prometheus_job_keys:
 * a struct a job, read once where it lies (issue 15: a dictionary of
 * variants a record was most of a scrape, on both sides of the bus). */
static int
prom_jobs_from_rows (GArray *jobs, sd_bus_message *m)
{
  int r = sd_bus_message_enter_container (m, 'v', "a" ORCH_REST_PROMETHEUS_ROW);

  if (r >= 0)
    r = sd_bus_message_enter_container (m, 'a', ORCH_REST_PROMETHEUS_ROW);
  while (r >= 0)
    {
      PromJob job;
      guint64 memory;
      guint32 restarts;
      prom_job_init (&job);
      r = sd_bus_message_read (m, ORCH_REST_PROMETHEUS_ROW, &job.id, &job.name, &job.state,
                               &job.pid, &job.figure[0], &memory, &restarts);
      if (r <= 0)
        break;
      job.figure[1] = (double) memory;
      job.figure[2] = restarts;
      job.has[0] = job.has[1] = job.has[2] = TRUE;
      g_array_append_val (jobs, job);
    }
  if (r < 0 || (r = sd_bus_message_exit_container (m)) < 0)
    return r;
  return sd_bus_message_exit_container (m);
}

gboolean
orch_rest_prometheus_write_message (GString *out, const OrchRestPromSystem *system,
                                    sd_bus_message *jobs)
{
  g_autoptr(GArray) parsed = g_array_new (FALSE, FALSE, sizeof (PromJob));

  if (prom_jobs_from_rows (parsed, jobs) < 0)
    return FALSE;
  prom_system (out, system);
  prom_jobs (out, (PromJob *) (void *) parsed->data, parsed->len);
  return TRUE;
}
