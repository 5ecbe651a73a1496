/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-group-metrics.h"
#include "orch-sampler.h"

#include "basic/orch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
  const char *name;
  double ceiling;
} metrics[] = {
  /* A CPU-bound single-threaded replica cannot show more than one CPU. */
  [ORCH_GROUP_METRIC_CPU_PERCENT] = { "cpu_percent", 100 },
  [ORCH_GROUP_METRIC_MEMORY_BYTES] = { "memory_bytes", 0 },
  /* A stall share cannot pass 100 %. */
  [ORCH_GROUP_METRIC_CPU_PRESSURE] = { "cpu_pressure", 100 },
  [ORCH_GROUP_METRIC_MEMORY_PRESSURE] = { "memory_pressure", 100 },
  [ORCH_GROUP_METRIC_FILE] = { "file", 0 },
  [ORCH_GROUP_METRIC_PROMETHEUS] = { "prometheus", 0 },
};

const char *
orch_group_metric_to_string (OrchGroupMetric m)
{
  return metrics[m].name;
}

double
orch_group_metric_ceiling (OrchGroupMetric m)
{
  return metrics[m].ceiling;
}

gboolean
orch_group_metric_parse (GVariant *as, OrchGroupMetric *ret, OrchScrape **ret_scrape,
                         GError **error)
{
  const char *name = "cpu_percent", *url = NULL, *series = NULL;
  gsize m;

  g_variant_lookup (as, "metric", "&s", &name);
  for (m = 0; m < G_N_ELEMENTS (metrics); m++)
    if (strcmp (metrics[m].name, name) == 0)
      break;
  if (m == G_N_ELEMENTS (metrics))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _ ("autoscale: metric “%s” is not one of cpu_percent, memory_bytes, "
                      "cpu_pressure, memory_pressure, file, prometheus"),
                   name);
      return FALSE;
    }
  g_variant_lookup (as, "url", "&s", &url);
  g_variant_lookup (as, "series", "&s", &series);
  *ret_scrape = NULL;
  if (m == ORCH_GROUP_METRIC_PROMETHEUS)
    {
      if (url == NULL || series == NULL)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("autoscale: metric prometheus needs “url” and “series”"));
          return FALSE;
        }
      *ret_scrape = orch_scrape_new (url, series, error);
      if (*ret_scrape == NULL)
        return FALSE;
    }
  else if (url || series)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("autoscale: “url” and “series” are for metric prometheus only"));
      return FALSE;
    }
  *ret = (OrchGroupMetric) m;
  return TRUE;
}

/* A small regular file holding one number, written within @max_age_us.
 * Non-blocking: a FIFO or a device put there is not a number. */
static gboolean
read_number_file (const char *path, gint64 max_age_us, double *ret)
{
  char buf[ORCH_GROUP_METRIC_FILE_MAX + 1];
  struct stat st;
  ssize_t n;
  char *end;
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  double v;

  if (fd < 0)
    return FALSE;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) ||
      g_get_real_time () -
              ((gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000) >
          max_age_us)
    {
      close (fd);
      return FALSE;
    }
  n = read (fd, buf, sizeof buf);
  close (fd);
  if (n <= 0 || n > ORCH_GROUP_METRIC_FILE_MAX)
    return FALSE;
  buf[n] = '\0';
  v = g_ascii_strtod (g_strstrip (buf), &end);
  if (end == buf || *end != '\0' || !isfinite (v) || v < 0)
    return FALSE;
  *ret = v;
  return TRUE;
}

static gboolean
read_pressure (OrchSampler *sampler, OrchJob *job, const char *key, double *ret)
{
  g_autoptr(GVariant) rec = NULL;

  if (sampler == NULL)
    return FALSE;
  rec = orch_sampler_get_job (sampler, job->id, NULL);
  return rec && g_variant_lookup (rec, key, "d", ret);
}

gboolean
orch_group_metric_read (OrchGroupMetric m, OrchJob *job, OrchSampler *sampler, const char *dir,
                        guint replica, gint64 max_age_us, double *ret)
{
  switch (m)
    {
    case ORCH_GROUP_METRIC_CPU_PERCENT:
      *ret = job->cpu_percent;
      return TRUE;
    case ORCH_GROUP_METRIC_MEMORY_BYTES:
      *ret = (double) job->memory_bytes;
      return TRUE;
    case ORCH_GROUP_METRIC_CPU_PRESSURE:
      return read_pressure (sampler, job, "cpu_pressure_some_avg10", ret);
    case ORCH_GROUP_METRIC_MEMORY_PRESSURE:
      return read_pressure (sampler, job, "memory_pressure_some_avg10", ret);
    case ORCH_GROUP_METRIC_FILE:
      {
        char index[16];
        g_autofree char *path = NULL;

        if (dir == NULL)
          return FALSE;
        g_snprintf (index, sizeof index, "%u", replica);
        path = g_build_filename (dir, index, NULL);
        return read_number_file (path, max_age_us, ret);
      }
    case ORCH_GROUP_METRIC_PROMETHEUS:
    default:
      return FALSE;
    }
}

char *
orch_group_metric_dir (const char *id, GError **error)
{
  const char *rd = g_getenv ("RUNTIME_DIRECTORY");
  g_autofree char *base = NULL;
  g_autofree char *dir = NULL;
  int errsv;

  /* systemd's RuntimeDirectory= may list several: the first is ours. */
  if (rd && *rd)
    base = g_strndup (rd, strcspn (rd, ":"));
  else
    base = g_build_filename (g_get_user_runtime_dir (), "orchestrator", NULL);
  dir = g_build_filename (base, "groups", id, NULL);
  if (g_mkdir_with_parents (dir, 0755) < 0 || chmod (dir, 01777) < 0)
    {
      errsv = errno;
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("autoscale: cannot make the metric directory %s: %s"), dir,
                   g_strerror (errsv));
      return NULL;
    }
  return g_steal_pointer (&dir);
}

void
orch_group_metric_dir_remove (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}
