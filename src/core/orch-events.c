/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-events.h"
#include "basic/orch-error.h"

#include <glib/gi18n.h>
#include <sqlite3.h>
#include <string.h>

/* A run's OOM kills told as events: the latest this many. */
#define OOM_EVENTS_MAX 16

struct _OrchEvents {
  OrchState *state; /* NULL: memory only */
  guint keep;
  GPtrArray *memory; /* OrchEvent, without a state */
  GHashTable *keys;  /* without a state: the keys in memory */
  guint64 last_seq;
  /* With a state: statements kept prepared, and the rows the table has
   * (-1: not counted yet), so the bound costs no walk of the kept ones. */
  sqlite3_stmt *insert;
  sqlite3_stmt *trim;
  gint64 rows;
  /* Keys the last committed group wrote (orch_events_stage): the
   * observation that follows each of its jobs' announcements, in the same
   * flush, finds them here without a statement.  Emptied when the next
   * group is staged; a later observation asks the table, as before. */
  GHashTable *staged_keys;
  GPtrArray *staging; /* the group being written: its new keys */
  OrchEventFunc func;
  gpointer func_data;
};

void
orch_event_free (OrchEvent *ev)
{
  if (ev == NULL)
    return;
  g_free (ev->id);
  g_free (ev->kind);
  g_clear_pointer (&ev->data, g_variant_unref);
  g_free (ev);
}

static OrchEvent *
event_new (guint64 seq, const char *id, const char *kind, gint64 time, GVariant *data)
{
  OrchEvent *e = g_new0 (OrchEvent, 1);

  e->seq = seq;
  e->id = g_strdup (id);
  e->kind = g_strdup (kind);
  e->time = time;
  e->data = g_variant_ref_sink (data);
  return e;
}

OrchEvents *
orch_events_new (OrchState *state, guint keep)
{
  OrchEvents *ev = g_new0 (OrchEvents, 1);

  ev->state = state;
  ev->keep = MAX (keep, 1);
  ev->memory = g_ptr_array_new_with_free_func ((GDestroyNotify) orch_event_free);
  ev->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ev->rows = -1;
  ev->staged_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return ev;
}

void
orch_events_free (OrchEvents *ev)
{
  if (ev == NULL)
    return;
  g_ptr_array_unref (ev->memory);
  g_hash_table_unref (ev->keys);
  g_hash_table_unref (ev->staged_keys);
  g_clear_pointer (&ev->staging, g_ptr_array_unref);
  /* Before the state: it closes the database (orch-daemon.c). */
  g_clear_pointer (&ev->insert, sqlite3_finalize);
  g_clear_pointer (&ev->trim, sqlite3_finalize);
  g_free (ev);
}

void
orch_events_set_func (OrchEvents *ev, OrchEventFunc func, gpointer user_data)
{
  ev->func = func;
  ev->func_data = user_data;
}

static gboolean
db_fail (sqlite3 *db, const char *what, GError **error)
{
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("state database: %s: %s"), what,
               sqlite3_errmsg (db));
  return FALSE;
}

static gboolean
db_prepare (OrchEvents *ev, GError **error)
{
  sqlite3 *db = orch_state_db (ev->state);
  sqlite3_stmt *st = NULL;

  if (ev->insert == NULL &&
      sqlite3_prepare_v3 (db,
                          "INSERT OR IGNORE INTO events (key, job_id, kind, time, data)"
                          " VALUES (?1, ?2, ?3, ?4, ?5)",
                          -1, SQLITE_PREPARE_PERSISTENT, &ev->insert, NULL) != SQLITE_OK)
    return db_fail (db, "add event", error);
  if (ev->trim == NULL &&
      sqlite3_prepare_v3 (db,
                          "DELETE FROM events WHERE seq IN"
                          " (SELECT seq FROM events ORDER BY seq LIMIT ?1)",
                          -1, SQLITE_PREPARE_PERSISTENT, &ev->trim, NULL) != SQLITE_OK)
    return db_fail (db, "add event", error);
  if (ev->rows < 0)
    {
      if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM events", -1, &st, NULL) != SQLITE_OK)
        return db_fail (db, "add event", error);
      if (sqlite3_step (st) == SQLITE_ROW)
        ev->rows = sqlite3_column_int64 (st, 0);
      sqlite3_finalize (st);
      if (ev->rows < 0)
        return db_fail (db, "add event", error);
    }
  return TRUE;
}

/* INSERT OR IGNORE, then the oldest beyond keep go (by count, not by seq:
 * an ignored insert still uses up a seq): 1 new, 0 known.  In one
 * transaction (a savepoint: inside a caller's, or one of its own), so one
 * commit per event. */
static int
db_insert (OrchEvents *ev, const char *key, OrchEvent *e, GError **error)
{
  sqlite3 *db = orch_state_db (ev->state);
  int r;

  sqlite3_bind_text (ev->insert, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (ev->insert, 2, e->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (ev->insert, 3, e->kind, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (ev->insert, 4, e->time);
  /* An empty a{sv} has no data pointer, and NULL would be a NULL column
   * that OR IGNORE silently drops. */
  sqlite3_bind_blob (ev->insert, 5,
                     g_variant_get_size (e->data) ? g_variant_get_data (e->data) : "",
                     (int) g_variant_get_size (e->data), SQLITE_STATIC);
  r = sqlite3_step (ev->insert);
  sqlite3_reset (ev->insert);
  sqlite3_clear_bindings (ev->insert);
  if (r != SQLITE_DONE)
    return db_fail (db, "add event", error) ? 0 : -1;
  if (sqlite3_changes (db) == 0)
    return 0;
  e->seq = (guint64) sqlite3_last_insert_rowid (db);
  ev->rows++;
  if (ev->rows > (gint64) ev->keep)
    {
      sqlite3_bind_int64 (ev->trim, 1, ev->rows - ev->keep);
      if (sqlite3_step (ev->trim) == SQLITE_DONE)
        ev->rows -= sqlite3_changes (db);
      sqlite3_reset (ev->trim);
    }
  return 1;
}

static int
db_add (OrchEvents *ev, const char *key, OrchEvent *e, GError **error)
{
  sqlite3 *db = orch_state_db (ev->state);
  gint64 rows;
  gboolean outer;
  int r;

  /* Not into the job records' group (orch-manager.c), which may fail;
   * unless it is the group being staged. */
  if (ev->staging == NULL)
    orch_state_flush (ev->state);
  if (!db_prepare (ev, error))
    return -1;
  rows = ev->rows;
  outer = !sqlite3_get_autocommit (db);
  if (sqlite3_exec (db, "SAVEPOINT event", NULL, NULL, NULL) != SQLITE_OK)
    return db_fail (db, "add event", error) ? 0 : -1;
  r = db_insert (ev, key, e, error);
  if (r >= 0 && sqlite3_exec (db, "RELEASE event", NULL, NULL, NULL) == SQLITE_OK)
    {
      /* The caller's transaction may still roll it back: counted again
       * (a staged group's failure is told by orch_events_stage_end). */
      if (outer && ev->staging == NULL)
        ev->rows = -1;
      return r;
    }
  if (r >= 0)
    db_fail (db, "add event", error);
  /* Not added: the count goes back with the rows. */
  ev->rows = rows;
  (void) sqlite3_exec (db, "ROLLBACK TO event; RELEASE event", NULL, NULL, NULL);
  return -1;
}

gboolean
orch_events_add (OrchEvents *ev, const char *key, const char *id, const char *kind, gint64 time,
                 GVariant *data, OrchEvent **ret_new, GError **error)
{
  g_autoptr(OrchEvent) e = event_new (0, id, kind, time, data);
  int r;

  *ret_new = NULL;
  if (ev->state)
    {
      r = db_add (ev, key, e, error);
      if (r < 0)
        return FALSE;
      if (r == 0)
        return TRUE;
    }
  else
    {
      if (g_hash_table_contains (ev->keys, key))
        return TRUE;
      e->seq = ++ev->last_seq;
      g_hash_table_add (ev->keys, g_strdup (key));
      g_ptr_array_add (ev->memory, event_new (e->seq, id, kind, time, e->data));
      if (ev->memory->len > ev->keep)
        g_ptr_array_remove_range (ev->memory, 0, ev->memory->len - ev->keep);
    }
  *ret_new = g_steal_pointer (&e);
  return TRUE;
}

void
orch_events_emit (OrchEvents *ev, const OrchEvent *event)
{
  if (event && ev->func)
    ev->func (event, ev->func_data);
}

/* Adds the event and tells it; or, while a group is staged, adds it to
 * the group and keeps it in @staged to be told after the commit. */
static void
put (OrchEvents *ev, const char *key, const OrchJob *job, const char *kind, gint64 time,
     GVariant *data, GPtrArray *staged)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchEvent) e = NULL;

  if (g_hash_table_contains (ev->staged_keys, key))
    {
      g_variant_unref (g_variant_ref_sink (data));
      return;
    }
  if (!orch_events_add (ev, key, job->id, kind, time, data, &e, &error))
    {
      g_warning ("cannot record event %s: %s", key, error->message);
      return;
    }
  if (staged == NULL)
    {
      orch_events_emit (ev, e);
      return;
    }
  g_ptr_array_add (ev->staging, g_strdup (key));
  if (e)
    g_ptr_array_add (staged, g_steal_pointer (&e));
}

static void
derive (OrchEvents *ev, const OrchJob *job, GPtrArray *staged)
{
  /* The run's start time tells the runs apart: one event per run. */
  if (!orch_job_state_is_active (job->state) && job->finished_at > 0 && job->started_at > 0)
    {
      g_autofree char *key = g_strdup_printf ("%s/exited/%" G_GINT64_FORMAT, job->id,
                                              job->started_at);
      GVariantBuilder b;
      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "state",
                             g_variant_new_string (orch_job_state_to_string (job->state)));
      g_variant_builder_add (&b, "{sv}", "exit_code", g_variant_new_int32 (job->exit_code));
      g_variant_builder_add (&b, "{sv}", "signal", g_variant_new_int32 (job->signal));
      g_variant_builder_add (&b, "{sv}", "restarts", g_variant_new_uint32 (job->restarts));
      g_variant_builder_add (&b, "{sv}", "result", g_variant_new_string (orch_job_result (job)));
      put (ev, key, job, "exited", job->finished_at, g_variant_builder_end (&b), staged);
    }
  /* One per kill the kernel counted in the run, keyed by its number: a
   * count the record has (saved before it is told) is never lost, and
   * none is told twice. */
  for (guint n = job->run_oom_kills > OOM_EVENTS_MAX ? job->run_oom_kills - OOM_EVENTS_MAX + 1 : 1;
       job->started_at > 0 && n <= job->run_oom_kills; n++)
    {
      g_autofree char *key = g_strdup_printf ("%s/oom_kill/%" G_GINT64_FORMAT "/%u", job->id,
                                              job->started_at, n);
      put (ev, key, job, "oom_kill", g_get_real_time (),
           g_variant_new_parsed ("{'run_count': <%u>, 'oom_kills': <%u>}", (guint32) n,
                                 (guint32) job->oom_kills),
           staged);
    }
  if (job->restarts > 0 && job->started_at > 0 && job->state != ORCH_JOB_STARTING)
    {
      g_autofree char *key = g_strdup_printf ("%s/restarted/%" G_GINT64_FORMAT, job->id,
                                              job->started_at);
      put (ev, key, job, "restarted", job->started_at,
           g_variant_new_parsed ("{'restarts': <%u>}", (guint32) job->restarts), staged);
    }
}

void
orch_events_observe (OrchEvents *ev, const OrchJob *job)
{
  derive (ev, job, NULL);
}

void
orch_events_stage (OrchEvents *ev, const OrchJob *job, GPtrArray *staged)
{
  if (ev->state == NULL)
    {
      derive (ev, job, NULL);
      return;
    }
  if (ev->staging == NULL)
    {
      g_hash_table_remove_all (ev->staged_keys);
      ev->staging = g_ptr_array_new_with_free_func (g_free);
    }
  derive (ev, job, staged);
}

void
orch_events_stage_end (OrchEvents *ev, gboolean committed)
{
  g_autoptr(GPtrArray) keys = g_steal_pointer (&ev->staging);

  if (keys == NULL)
    return;
  if (!committed)
    {
      /* Rolled back with the group: not stored, not counted. */
      ev->rows = -1;
      return;
    }
  for (guint i = 0; i < keys->len; i++)
    g_hash_table_add (ev->staged_keys, g_steal_pointer (&keys->pdata[i]));
}

GPtrArray *
orch_events_list (OrchEvents *ev, const char *id, guint64 since, guint limit, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) orch_event_free);
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  int r;

  if (id && *id == '\0')
    id = NULL;
  if (ev->state == NULL)
    {
      for (guint i = 0; i < ev->memory->len && (limit == 0 || out->len < limit); i++)
        {
          OrchEvent *e = ev->memory->pdata[i];
          if (e->seq > since && (id == NULL || strcmp (e->id, id) == 0))
            g_ptr_array_add (out, event_new (e->seq, e->id, e->kind, e->time, e->data));
        }
      return g_steal_pointer (&out);
    }
  db = orch_state_db (ev->state);
  if (sqlite3_prepare_v2 (db,
                          "SELECT seq, job_id, kind, time, data FROM events"
                          " WHERE seq > ?1 AND (?2 IS NULL OR job_id = ?2) ORDER BY seq LIMIT ?3",
                          -1, &st, NULL) != SQLITE_OK)
    {
      db_fail (db, "list events", error);
      return NULL;
    }
  sqlite3_bind_int64 (st, 1, (sqlite3_int64) since);
  if (id)
    sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 3, limit ? (sqlite3_int64) limit : -1);
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (sqlite3_column_blob (st, 4),
                                             (gsize) sqlite3_column_bytes (st, 4));
      GVariant *data = g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE);
      if (!g_variant_is_normal_form (data))
        {
          g_variant_unref (g_variant_ref_sink (data));
          continue; /* damaged: skipped rather than trusted */
        }
      g_ptr_array_add (out, event_new ((guint64) sqlite3_column_int64 (st, 0),
                                       (const char *) sqlite3_column_text (st, 1),
                                       (const char *) sqlite3_column_text (st, 2),
                                       sqlite3_column_int64 (st, 3), data));
    }
  sqlite3_finalize (st);
  if (r != SQLITE_DONE)
    {
      db_fail (db, "list events", error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

GVariant *
orch_event_to_variant (const OrchEvent *e)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "seq", g_variant_new_uint64 (e->seq));
  g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (e->id));
  g_variant_builder_add (&b, "{sv}", "kind", g_variant_new_string (e->kind));
  g_variant_builder_add (&b, "{sv}", "time", g_variant_new_uint64 ((guint64) e->time));
  g_variant_builder_add (&b, "{sv}", "data", e->data);
  return g_variant_builder_end (&b);
}
