/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-config.h"
#include "orch-manager.h"

#include <glib.h>

G_BEGIN_DECLS

/* One sampler on the main loop: each tick reads the system figures once
 * (files kept open, read with pread) and appends them to the history. */
typedef struct _OrchSampler OrchSampler;

typedef void (*OrchSampledFunc) (GVariant *sample, gpointer user_data);

/* @proc_root: "/proc" but for tests.  @manager: whose jobs are sampled
 * (NULL: none).  @sampled runs after every tick with the new system record
 * (floating GVariant, a{sv}). */
OrchSampler *orch_sampler_new (const OrchConfig *config, const char *proc_root,
                               OrchManager *manager, OrchSampledFunc sampled,
                               gpointer user_data, GError **error);
void orch_sampler_free (OrchSampler *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchSampler, orch_sampler_free)

/* Takes a sample now (the timer does this every interval). */
void orch_sampler_tick (OrchSampler *s);

/* The latest system record, a{sv}. */
GVariant *orch_sampler_get_system (OrchSampler *s);
/* The latest sample with per-CPU, per-disk, per-interface figures, the
 * real mounts and pressure, a{sv}. */
GVariant *orch_sampler_get_system_detailed (OrchSampler *s);
/* options: since t (µs since the epoch), limit u, step_s u. */
GVariant *orch_sampler_get_system_history (OrchSampler *s, GVariant *options, GError **error);

/* The latest figures of job @id, a{sv}; NotFound for an unknown job. */
GVariant *orch_sampler_get_job (OrchSampler *s, const char *id, GError **error);
/* options: since t, limit u, step_s u. */
GVariant *orch_sampler_get_job_history (OrchSampler *s, const char *id, GVariant *options,
                                        GError **error);

/* Any process: see orch-proc-tracker.h. */
GVariant *orch_sampler_get_process (OrchSampler *s, guint32 pid, GError **error);
GVariant *orch_sampler_get_process_history (OrchSampler *s, guint32 pid, GVariant *options,
                                            GError **error);

guint orch_sampler_interval_ms (OrchSampler *s);
guint orch_sampler_history_size (OrchSampler *s);

G_END_DECLS
