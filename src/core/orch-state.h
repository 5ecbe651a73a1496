/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-job.h"

#include <glib.h>

G_BEGIN_DECLS

/* The daemon's durable state: one SQLite database (WAL) under the state
 * directory, opened once, holding every job record.  A record is written
 * before the change it carries is announced, so a daemon killed at any
 * moment finds every job again. */
typedef struct _OrchState OrchState;

#define ORCH_STATE_SCHEMA_VERSION 5

/* Takes the state directory @dir (made if missing) for this process: an
 * exclusive lock on @dir/lock that holds while the returned fd is open,
 * so two daemons never write one database or one exit directory.  -1 and
 * @error (naming the other daemon's pid) if another process holds it. */
int orch_state_lock_dir (const char *dir, GError **error);

/* Opens (creating, migrating) @dir/orchestrator.db.  A database that cannot
 * be read is moved aside as orchestrator.db.corrupt-TIMESTAMP, said so in
 * the log, and an empty one takes its place. */
OrchState *orch_state_open (const char *dir, GError **error);
void orch_state_free (OrchState *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchState, orch_state_free)

/* Where a corrupt database was moved, NULL if none was (for the log and
 * tests). */
const char *orch_state_moved_aside (OrchState *s);

/* Inserts or replaces @job's record; @auto_restarts is the restart
 * policy's count, which the record does not show. */
gboolean orch_state_save (OrchState *s, const OrchJob *job, guint auto_restarts, GError **error);
/* The first save of a job the daemon just created: the INSERT alone (the
 * UPDATE orch_state_save() tries first would find nothing). */
gboolean
orch_state_save_new (OrchState *s, const OrchJob *job, guint auto_restarts, GError **error);
gboolean orch_state_delete (OrchState *s, const char *id, GError **error);
/* Replaces the stored spec of record @id (its limits changed). */
gboolean orch_state_save_spec (OrchState *s, const char *id, const OrchSpec *spec, GError **error);

/* Group commit: the job records written in one pass of the main loop
 * go in one transaction (orch-manager.c).  Any other write, or an explicit
 * transaction, first calls the flush function, which ends the group
 * (orch_state_group_end) and tells what it holds, so nothing else ever
 * lands in a group's transaction unknowingly. */
typedef void (*OrchStateFlushFunc) (gpointer user_data);
void orch_state_set_flush_func (OrchState *s, OrchStateFlushFunc func, gpointer user_data);
/* Ends the open group, if any (through the flush function); tables kept
 * by other files (orch-events.c) call it before they write. */
void orch_state_flush (OrchState *s);
/* FALSE (nothing begun) where a transaction is already open. */
gboolean orch_state_group_begin (OrchState *s);
gboolean
orch_state_group_save (OrchState *s, const OrchJob *job, guint auto_restarts, GError **error);
/* COMMIT (@commit) or ROLLBACK; FALSE if nothing was committed. */
gboolean orch_state_group_end (OrchState *s, gboolean commit, GError **error);

/* Groups the writes in between into one transaction (one commit for the
 * restore of a thousand records instead of a thousand). */
gboolean orch_state_begin (OrchState *s, GError **error);
/* The database, for the tables other files own (orch-events.c). */
struct sqlite3 *orch_state_db (OrchState *s);
gboolean orch_state_commit (OrchState *s, GError **error);
/* Ends a transaction begun with orch_state_begin() without its writes. */
void orch_state_rollback (OrchState *s);

typedef struct {
  OrchJob *job;
  guint auto_restarts;
  char *backend;       /* the backend that ran it */
} OrchStateRecord;

void orch_state_record_free (OrchStateRecord *r);

/* Every record, oldest first (OrchStateRecord, owned by the array).
 * Records that do not parse are skipped with a warning. */
GPtrArray *orch_state_load (OrchState *s, GError **error);

/* Schedules (orch-scheduler.c): each one an a{sv} record under its id. */
gboolean orch_state_save_schedule (OrchState *s, const char *id, GVariant *record, GError **error);
gboolean orch_state_delete_schedule (OrchState *s, const char *id, GError **error);
/* One stored schedule record (a{sv}, full reference); NOT_FOUND if none. */
GVariant *orch_state_load_schedule (OrchState *s, const char *id, GError **error);
/* Every stored schedule record (GVariant a{sv}, owned by the array). */
GPtrArray *orch_state_load_schedules (OrchState *s, GError **error);
/* Job groups: one a{sv} record each (core/orch-groups.c), replaced
 * whole; every record, by id. */
gboolean orch_state_save_group (OrchState *s, const char *id, GVariant *record, GError **error);
gboolean orch_state_delete_group (OrchState *s, const char *id, GError **error);
GPtrArray *orch_state_load_groups (OrchState *s, GError **error);

G_END_DECLS
