/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-config.h"
#include "orch-manager.h"
#include "orch-history.h"

#include <glib.h>

G_BEGIN_DECLS

/* One sampler on the main loop: each tick reads the system figures once
 * (files kept open, read with pread) and appends them to the history. */
typedef struct _OrchSampler OrchSampler;

typedef void (*OrchSampledFunc) (OrchSampler *s, gpointer user_data);

/* One figure of the system record. */
typedef struct {
  const char *key;
  char type;              /* 't' (guint64), 'u' (guint32) or 'd' (double) */
  union {
    guint64 t;
    guint32 u;
    double d;
  } v;
} OrchSampleField;

#define ORCH_SAMPLE_MAX_FIELDS 32

/* @proc_root: "/proc" but for tests.  @manager: whose jobs are sampled
 * (NULL: none).  @sampled runs after every tick, to read the new system
 * record (orch_sampler_system_fields, orch_sampler_get_system). */
OrchSampler *orch_sampler_new (const OrchConfig *config, const char *proc_root,
                               OrchManager *manager, OrchSampledFunc sampled,
                               gpointer user_data, GError **error);
void orch_sampler_free (OrchSampler *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchSampler, orch_sampler_free)

/* Takes a sample now (the timer does this every interval). */
void orch_sampler_tick (OrchSampler *s);

/* The latest system record, a{sv}. */
GVariant *orch_sampler_get_system (OrchSampler *s);
/* The same as plain fields, in the same order, into @fields; how many.
 * For the per-tick signal: no GVariant to build and take apart. */
guint orch_sampler_system_fields (OrchSampler *s, OrchSampleField fields[ORCH_SAMPLE_MAX_FIELDS]);
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
/* The same two as rows to write straight into a reply (orch-history.h). */
gboolean orch_sampler_query_system_history (OrchSampler *s, GVariant *options,
                                            OrchHistoryRows *rows, GError **error);
gboolean orch_sampler_query_job_history (OrchSampler *s, const char *id, GVariant *options,
                                         OrchHistoryRows *rows, GError **error);

/* Any process: see orch-proc-tracker.h. */
GVariant *orch_sampler_get_process (OrchSampler *s, guint32 pid, GError **error);
GVariant *orch_sampler_get_process_history (OrchSampler *s, guint32 pid, GVariant *options,
                                            GError **error);

guint orch_sampler_interval_ms (OrchSampler *s);
guint orch_sampler_history_size (OrchSampler *s);

G_END_DECLS
