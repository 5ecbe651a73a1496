/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* The Prometheus text exposition format, version 0.0.4. */
#define ORCH_REST_PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The system's figures an exposition shows (Metrics.GetSystem's a{sv}):
 * a figure missing there is left out. */
#define ORCH_REST_PROM_SYSTEM_FIGURES 14
typedef struct {
  double figure[ORCH_REST_PROM_SYSTEM_FIGURES];
  gboolean has[ORCH_REST_PROM_SYSTEM_FIGURES];
} OrchRestPromSystem;

void orch_rest_prom_system_from_variant (OrchRestPromSystem *system, GVariant *dict);
/* The same from a GetSystem reply read where it lies (at its a{sv});
 * negative errno when it is not one. */
int orch_rest_prom_system_from_message (OrchRestPromSystem *system, sd_bus_message *m);

/* GET /metrics: @system and @jobs (Jobs.List's aa{sv}) as the exposition,
 * appended to @out.  A job's CPU and memory only show while it has a
 * process. */
void orch_rest_prometheus_write (GString *out, const OrchRestPromSystem *system, GVariant *jobs);
/* The same from a Jobs.ListRows reply for orch_rest_prometheus_job_keys,
 * read where it lies; FALSE (and @out unchanged) when @jobs is not one. */
gboolean orch_rest_prometheus_write_message (GString *out, const OrchRestPromSystem *system,
                                             sd_bus_message *jobs);

/* The job states with a series of orchestrator_job_state each, NULL-ended. */
extern const char *const orch_rest_prometheus_job_states[];

/* The record keys the exposition reads (Jobs.ListRows' `keys`), and the
 * row the daemon sends for them: their types, in their order. */
extern const char *const orch_rest_prometheus_job_keys[];
#define ORCH_REST_PROMETHEUS_ROW "(sssudtu)"

G_END_DECLS
