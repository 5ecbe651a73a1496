/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-bus-forecast.h"
#include "orch-bus-error.h"
#include "orch-bus-variant.h"

#include "basic/orch-error.h"
#include "basic/orch-id.h"
#include "basic/orch-recommend-ahead.h"
#include "core/orch-forecaster.h"
#include "core/orch-sd-bus.h"

#include <glib/gi18n.h>

struct _OrchBusForecast {
  OrchSampler *sampler;
  OrchManager *manager;
  OrchBusAuth *auth;
  OrchGroups *groups; /* NULL until set: group ids are not found */
  guint32 recommend_interval_s;
  sd_bus_slot *metrics_slot;
  sd_bus_slot *jobs_slot;
};

/* @v, or @error when it is NULL. */
static int
reply (sd_bus_message *m, GVariant *v, GError *error, sd_bus_error *ret_error)
{
  if (v == NULL)
    return orch_bus_set_gerror (ret_error, error);
  return orch_bus_reply_variant (m, v);
}

/* The (s id, a{sv} options) arguments. */
static int
read_id_options (sd_bus_message *m, const char **id, GVariant **options, sd_bus_error *ret_error)
{
  int r = sd_bus_message_read (m, "s", id);

  return r < 0 ? r : orch_bus_read_argument (m, options, ret_error);
}

static int
method_get_job_forecast (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusForecast *self = userdata;
  g_autoptr(GError) error = NULL;
  GVariant *v;
  g_autoptr(GVariant) options = NULL;
  const char *id;
  int r = read_id_options (m, &id, &options, ret_error);

  if (r < 0)
    return r;
  if (self->groups && orch_group_id_is_valid (id))
    v = orch_forecaster_group (self->sampler, self->manager, self->groups, id, options, &error);
  else
    v = orch_forecaster_job (self->sampler, self->manager, id, options, &error);
  return reply (m, v, error, ret_error);
}

static int
method_get_system_forecast (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusForecast *self = userdata;
  g_autoptr(GError) error = NULL;
  GVariant *v;
  g_autoptr(GVariant) options = NULL;
  int r = orch_bus_read_argument (m, &options, ret_error);

  if (r < 0)
    return r;
  v = orch_forecaster_system (self->sampler, options, &error);
  return reply (m, v, error, ret_error);
}

static int
recommend (OrchBusForecast *self, sd_bus_message *m, const char *id, GVariant *options,
           sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  GVariant *v = orch_forecaster_recommend (self->sampler, self->manager, id, options,
                                           self->recommend_interval_s, &error);

  return reply (m, v, error, ret_error);
}

static int
recommend_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  const char *id;
  int r = sd_bus_message_read (m, "s", &id);

  return r < 0 ? r : recommend (userdata, m, id, NULL, ret_error);
}

ORCH_BUS_GATED (method_get_recommendation, OrchBusForecast, ORCH_ACCESS_READ, recommend_authorized)

/* GetRecommendation with options: the interval a caller re-applies the
 * limits at is the caller's to choose, not the daemon's. */
static int
recommend_with_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GVariant) options = NULL;
  const char *id;
  int r = read_id_options (m, &id, &options, ret_error);

  return r < 0 ? r : recommend (userdata, m, id, options, ret_error);
}

ORCH_BUS_GATED (method_get_recommendation_with, OrchBusForecast, ORCH_ACCESS_READ,
                recommend_with_authorized)

static const sd_bus_vtable metrics_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("GetJobForecast", SD_BUS_ARGS ("s", id, "a{sv}", options),
                           SD_BUS_RESULT ("a{sv}", forecast), method_get_job_forecast,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetSystemForecast", SD_BUS_ARGS ("a{sv}", options),
                           SD_BUS_RESULT ("a{sv}", forecast), method_get_system_forecast,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_VTABLE_END
};

static const sd_bus_vtable jobs_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("GetRecommendation", SD_BUS_ARGS ("s", id),
                           SD_BUS_RESULT ("a{sv}", recommendation), method_get_recommendation,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetRecommendationWith", SD_BUS_ARGS ("s", id, "a{sv}", options),
                           SD_BUS_RESULT ("a{sv}", recommendation), method_get_recommendation_with,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_VTABLE_END
};

OrchBusForecast *
orch_bus_forecast_new (sd_bus *bus, OrchSampler *sampler, OrchManager *manager, OrchBusAuth *auth,
                       GError **error)
{
  OrchBusForecast *self = g_new0 (OrchBusForecast, 1);
  int r;

  self->sampler = sampler;
  self->manager = manager;
  self->auth = auth;
  self->recommend_interval_s = (guint32) ORCH_RECOMMEND_INTERVAL_S;
  r = sd_bus_add_object_vtable (bus, &self->metrics_slot, "/org/orchestrator",
                                "org.orchestrator.Metrics", metrics_vtable, self);
  if (r >= 0)
    r = sd_bus_add_object_vtable (bus, &self->jobs_slot, "/org/orchestrator",
                                  "org.orchestrator.Jobs", jobs_vtable, self);
  if (!orch_bus_check_export (r, error))
    {
      orch_bus_forecast_free (self);
      return NULL;
    }
  return self;
}

void
orch_bus_forecast_free (OrchBusForecast *self)
{
  if (self == NULL)
    return;
  sd_bus_slot_unref (self->metrics_slot);
  sd_bus_slot_unref (self->jobs_slot);
  g_free (self);
}

void
orch_bus_forecast_set_groups (OrchBusForecast *self, OrchGroups *groups)
{
  self->groups = groups;
}

void
orch_bus_forecast_set_recommend_interval (OrchBusForecast *self, guint32 interval_s)
{
  self->recommend_interval_s = interval_s;
}
