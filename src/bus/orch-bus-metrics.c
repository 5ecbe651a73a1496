/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-bus-metrics.h"
#include "orch-bus-error.h"
#include "orch-bus-variant.h"

#include "basic/orch-error.h"
#include "core/orch-sd-bus.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <math.h>

struct _OrchBusMetrics {
  sd_bus *bus;
  OrchSampler *sampler;
  sd_bus_slot *slot;
};

static int
method_get_system (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusMetrics *self = userdata;

  return orch_bus_reply_variant (m, orch_sampler_get_system (self->sampler));
}

static int
method_get_system_detailed (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusMetrics *self = userdata;

  return orch_bus_reply_variant (m, orch_sampler_get_system_detailed (self->sampler));
}

/* @rows as aa{sv} (timestamp t, then each known value d), written straight
 * into the reply: the same bytes as orch_history_rows() would give, without
 * a GVariant per value. */
static int
reply_history (sd_bus_message *m, const OrchHistoryRows *rows)
{
  g_autoptr(sd_bus_message) reply = NULL;
  int r = sd_bus_message_new_method_return (m, &reply);

  if (r >= 0)
    r = sd_bus_message_open_container (reply, 'a', "a{sv}");
  for (guint i = 0; r >= 0 && i < rows->n; i++)
    {
      r = sd_bus_message_open_container (reply, 'a', "{sv}");
      if (r >= 0)
        r = sd_bus_message_append (reply, "{sv}", "timestamp", "t",
                                   (uint64_t) g_array_index (rows->times, gint64, i));
      for (guint k = 0; r >= 0 && k < rows->n_keys; k++)
        {
          double v = g_array_index (rows->values, double, i * rows->n_keys + k);
          if (!isnan (v))
            r = sd_bus_message_append (reply, "{sv}", rows->keys[k], "d", v);
        }
      if (r >= 0)
        r = sd_bus_message_close_container (reply);
    }
  if (r >= 0)
    r = sd_bus_message_close_container (reply);
  if (r >= 0)
    r = sd_bus_send (NULL, reply, NULL);
  return r;
}

static int
method_get_system_history (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusMetrics *self = userdata;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = NULL;
  OrchHistoryRows rows;
  int r = orch_bus_read_argument (m, &options, ret_error);

  if (r < 0)
    return r;
  if (!orch_sampler_query_system_history (self->sampler, options, &rows, &error))
    return orch_bus_set_gerror (ret_error, error);
  r = reply_history (m, &rows);
  orch_history_rows_clear (&rows);
  return r;
}

static int
method_get_job (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusMetrics *self = userdata;
  g_autoptr(GError) error = NULL;
  const char *id;
  GVariant *v;
  int r = sd_bus_message_read (m, "s", &id);

  if (r < 0)
    return r;
  v = orch_sampler_get_job (self->sampler, id, &error);
  if (v == NULL)
    return orch_bus_set_gerror (ret_error, error);
  return orch_bus_reply_variant (m, v);
}

static int
method_get_job_history (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusMetrics *self = userdata;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = NULL;
  OrchHistoryRows rows;
  const char *id;
  int r = sd_bus_message_read (m, "s", &id);

  if (r >= 0)
    r = orch_bus_read_argument (m, &options, ret_error);
  if (r < 0)
    return r;
  if (!orch_sampler_query_job_history (self->sampler, id, options, &rows, &error))
    return orch_bus_set_gerror (ret_error, error);
  r = reply_history (m, &rows);
  orch_history_rows_clear (&rows);
  return r;
}

static int
method_get_process (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusMetrics *self = userdata;
  g_autoptr(GError) error = NULL;
  uint32_t pid;
  GVariant *v;
  int r = sd_bus_message_read (m, "u", &pid);

  if (r < 0)
    return r;
  v = orch_sampler_get_process (self->sampler, pid, &error);
  if (v == NULL)
    return orch_bus_set_gerror (ret_error, error);
  return orch_bus_reply_variant (m, v);
}

static int
method_get_process_history (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusMetrics *self = userdata;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = NULL;
  GVariant *rows;
  uint32_t pid;
  int r = sd_bus_message_read (m, "u", &pid);

  if (r >= 0)
    r = orch_bus_read_argument (m, &options, ret_error);
  if (r < 0)
    return r;
  rows = orch_sampler_get_process_history (self->sampler, pid, options, &error);
  if (rows == NULL)
    return orch_bus_set_gerror (ret_error, error);
  return orch_bus_reply_variant (m, rows);
}

static int
prop_interval (sd_bus *bus, const char *path, const char *interface, const char *property,
               sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  OrchBusMetrics *self = userdata;

  return sd_bus_message_append (reply, "u", orch_sampler_interval_ms (self->sampler));
}

static int
prop_history (sd_bus *bus, const char *path, const char *interface, const char *property,
              sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  OrchBusMetrics *self = userdata;

  return sd_bus_message_append (reply, "u", orch_sampler_history_size (self->sampler));
}

static const sd_bus_vtable metrics_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("GetSystem", SD_BUS_NO_ARGS, SD_BUS_RESULT ("a{sv}", sample),
                           method_get_system, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetSystemDetailed", SD_BUS_NO_ARGS, SD_BUS_RESULT ("a{sv}", sample),
                           method_get_system_detailed, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetSystemHistory", SD_BUS_ARGS ("a{sv}", options),
                           SD_BUS_RESULT ("aa{sv}", samples), method_get_system_history,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetProcess", SD_BUS_ARGS ("u", pid), SD_BUS_RESULT ("a{sv}", sample),
                           method_get_process, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetProcessHistory", SD_BUS_ARGS ("u", pid, "a{sv}", options),
                           SD_BUS_RESULT ("aa{sv}", samples), method_get_process_history,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetJob", SD_BUS_ARGS ("s", id), SD_BUS_RESULT ("a{sv}", sample),
                           method_get_job, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetJobHistory", SD_BUS_ARGS ("s", id, "a{sv}", options),
                           SD_BUS_RESULT ("aa{sv}", samples), method_get_job_history,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_SIGNAL_WITH_ARGS ("SystemSampled", SD_BUS_ARGS ("a{sv}", sample), 0),
  SD_BUS_PROPERTY ("SampleIntervalMs", "u", prop_interval, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("HistorySize", "u", prop_history, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_VTABLE_END
};

/* Every tick: the record appended field by field, with no GVariant built
 * and walked in between, and no format string parsed per field. */
static int
append_fields (sd_bus_message *m, const OrchSampleField *f, guint n)
{
  int r = sd_bus_message_open_container (m, 'a', "{sv}");

  for (guint i = 0; r >= 0 && i < n; i++)
    {
      const char sig[2] = { f[i].type == 't' || f[i].type == 'u' ? f[i].type : 'd', '\0' };

      r = sd_bus_message_open_container (m, 'e', "sv");
      if (r >= 0)
        r = sd_bus_message_append_basic (m, 's', f[i].key);
      if (r >= 0)
        r = sd_bus_message_open_container (m, 'v', sig);
      if (r >= 0)
        r = sd_bus_message_append_basic (m, sig[0], &f[i].v);
      if (r >= 0)
        r = sd_bus_message_close_container (m);
      if (r >= 0)
        r = sd_bus_message_close_container (m);
    }
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  return r;
}

void
orch_bus_metrics_sampled (OrchSampler *sampler, gpointer user_data)
{
  OrchBusMetrics *self = user_data;
  OrchSampleField fields[ORCH_SAMPLE_MAX_FIELDS];
  guint n = orch_sampler_system_fields (sampler, fields);
  g_autoptr(sd_bus_message) sig = NULL;
  int r;

  r = sd_bus_message_new_signal (self->bus, &sig, "/org/orchestrator", "org.orchestrator.Metrics",
                                 "SystemSampled");
  if (r >= 0)
    r = append_fields (sig, fields, n);
  if (r >= 0)
    r = sd_bus_send (self->bus, sig, NULL);
  if (r < 0)
    g_warning ("cannot emit SystemSampled: %s", g_strerror (-r));
}

OrchBusMetrics *
orch_bus_metrics_new (sd_bus *bus, GError **error)
{
  OrchBusMetrics *self = g_new0 (OrchBusMetrics, 1);
  int r;

  self->bus = sd_bus_ref (bus);
  r = sd_bus_add_object_vtable (bus, &self->slot, "/org/orchestrator", "org.orchestrator.Metrics",
                                metrics_vtable, self);
  if (!orch_bus_check_export (r, error))
    {
      orch_bus_metrics_free (self);
      return NULL;
    }
  return self;
}

void
orch_bus_metrics_set_sampler (OrchBusMetrics *self, OrchSampler *sampler)
{
  self->sampler = sampler;
}

void
orch_bus_metrics_free (OrchBusMetrics *self)
{
  if (self == NULL)
    return;
  sd_bus_slot_unref (self->slot);
  sd_bus_unref (self->bus);
  g_free (self);
}
