/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-job.h"
#include "orch-state.h"

#include <glib.h>

G_BEGIN_DECLS

/* What happened to jobs, as a stream: exited, restarted, limits_changed
 * (and the resource events to come).  Kept bounded in the state database
 * (or in memory without one), each event once: its key says which
 * happening it is (job, kind, the run's start or the change's time), and
 * a second write of a key is ignored.  Events that follow from a record
 * (exited, restarted) are derived again from every record at start, so
 * one lost to a SIGKILL between the record's commit and its own is
 * written then, and none is written twice. */
typedef struct {
  guint64 seq; /* order of arrival, from 1 */
  char *id;
  char *kind;
  gint64 time;    /* µs since the epoch */
  GVariant *data; /* a{sv} */
} OrchEvent;

void orch_event_free (OrchEvent *ev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchEvent, orch_event_free)

typedef struct _OrchEvents OrchEvents;
typedef void (*OrchEventFunc) (const OrchEvent *ev, gpointer user_data);

/* @state may be NULL (memory only); @keep events are kept (newest). */
OrchEvents *orch_events_new (OrchState *state, guint keep);
void orch_events_free (OrchEvents *ev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchEvents, orch_events_free)

/* Who hears each new event (the bus: JobEvent). */
void orch_events_set_func (OrchEvents *ev, OrchEventFunc func, gpointer user_data);

/* Stores the event @key (unless it is there already) and tells the func:
 * the event, or NULL when it was known; @error when it could not be
 * stored.  @data: a{sv}, floating taken. */
gboolean orch_events_add (OrchEvents *ev, const char *key, const char *id, const char *kind,
                          gint64 time, GVariant *data, OrchEvent **ret_new, GError **error);
void orch_events_emit (OrchEvents *ev, const OrchEvent *event);

/* The events @job's record implies (exited, restarted, oom_kill), each
 * once. */
void orch_events_observe (OrchEvents *ev, const OrchJob *job);
/* The same for a job in the job records' group (orch-manager.c), before
 * it commits: written in its transaction; the new events are added to
 * @staged (of OrchEvent) for the caller to emit once the group has
 * committed.  Then orch_events_stage_end() says whether it did; the keys
 * of the last committed group are remembered, so the observation that
 * follows the job's announcement writes nothing again. */
void orch_events_stage (OrchEvents *ev, const OrchJob *job, GPtrArray *staged);
void orch_events_stage_end (OrchEvents *ev, gboolean committed);

/* Events after @since (seq), of job @id (NULL or "": all), oldest first,
 * at most @limit (0: all kept). */
GPtrArray *
orch_events_list (OrchEvents *ev, const char *id, guint64 since, guint limit, GError **error);

/* The event as a{sv}: seq, id, kind, time, data. */
GVariant *orch_event_to_variant (const OrchEvent *ev);

G_END_DECLS
