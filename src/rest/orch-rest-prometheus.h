/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The Prometheus text exposition format, version 0.0.4. */
#define ORCH_REST_PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* GET /metrics: @system (Metrics.GetSystem's a{sv}) and @jobs (Jobs.List's
 * aa{sv}) as the exposition, appended to @out.  A figure missing from
 * @system is left out; one missing from a job shows 0. */
void orch_rest_prometheus_write (GString *out, GVariant *system, GVariant *jobs);

G_END_DECLS
