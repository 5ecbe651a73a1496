/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-state.h"
#include "basic/orch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

struct _OrchState {
  sqlite3 *db;
  sqlite3_stmt *insert;
  sqlite3_stmt *update;
  sqlite3_stmt *del;
  sqlite3_stmt *set_schedule; /* a new job's schedule_id */
  sqlite3_stmt *sched_save;
  sqlite3_stmt *sched_del;
  sqlite3_stmt *sched_get;
  char *moved_aside;
  gboolean group;           /* a group's transaction is open */
  OrchStateFlushFunc flush; /* ends it, before a write of another kind */
  gpointer flush_data;
};

/* Schema by version: migrations[i] takes a database from version i to
 * i + 1.  Never edit a shipped step; append one. */
static const char *const migrations[] = {
  "CREATE TABLE jobs ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  spec BLOB NOT NULL," /* a{sv}, GVariant serialised */
  "  state TEXT NOT NULL,"
  "  pid INTEGER NOT NULL,"
  "  pid_start INTEGER NOT NULL,"
  "  monitor_pid INTEGER NOT NULL,"
  "  monitor_start INTEGER NOT NULL,"
  "  unit TEXT NOT NULL,"
  "  cgroup TEXT NOT NULL,"
  "  exit_code INTEGER NOT NULL,"
  "  signal INTEGER NOT NULL,"
  "  restarts INTEGER NOT NULL,"
  "  auto_restarts INTEGER NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  started_at INTEGER NOT NULL,"
  "  finished_at INTEGER NOT NULL,"
  "  backend TEXT NOT NULL,"
  "  log_path TEXT NOT NULL,"
  "  stderr_log_path TEXT,"
  "  error TEXT);"
  "CREATE INDEX jobs_created ON jobs (created_at);",
  /* 2: the events of the jobs (orch-events.c); key makes each once. */
  "CREATE TABLE events ("
  "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  key TEXT NOT NULL UNIQUE,"
  "  job_id TEXT NOT NULL,"
  "  kind TEXT NOT NULL,"
  "  time INTEGER NOT NULL,"
  "  data BLOB NOT NULL);" /* a{sv}, GVariant serialised */
  "CREATE INDEX events_job ON events (job_id, seq);",
  /* 3: schedules (orch-scheduler.c), each one a{sv} blob so that a new
   * schedule field needs no migration; the schedule a job was run by. */
  "CREATE TABLE schedules ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  record BLOB NOT NULL);"
  "ALTER TABLE jobs ADD COLUMN schedule_id TEXT;",
  /* 4: job groups (issue 19), each an a{sv} record (core/orch-groups.c) */
  "CREATE TABLE groups (id TEXT PRIMARY KEY NOT NULL, record BLOB NOT NULL);",
  /* 5: OOM kills of a job, all runs and the current one (issue 18) */
  "ALTER TABLE jobs ADD COLUMN oom_kills INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE jobs ADD COLUMN run_oom_kills INTEGER NOT NULL DEFAULT 0;",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == ORCH_STATE_SCHEMA_VERSION);

/* The spec changes only by SetLimits (orch_state_save_spec): it is written
 * by INSERT, and every later save is an UPDATE of the rest (a third
 * cheaper, seen here). */
#define INSERT_SQL                                                                                      \
  "INSERT INTO jobs (id, spec, state, pid, pid_start, monitor_pid, monitor_start,"                      \
  " unit, cgroup, exit_code, signal, restarts, auto_restarts, created_at, started_at,"                  \
  " finished_at, backend, log_path, stderr_log_path, error, oom_kills, run_oom_kills)"                  \
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20," \
  " ?21, ?22)"

#define UPDATE_SQL                                                                               \
  "UPDATE jobs SET state = ?3, pid = ?4, pid_start = ?5, monitor_pid = ?6, monitor_start = ?7,"  \
  " unit = ?8, cgroup = ?9, exit_code = ?10, signal = ?11, restarts = ?12, auto_restarts = ?13," \
  " created_at = ?14, started_at = ?15, finished_at = ?16, backend = ?17, log_path = ?18,"       \
  " stderr_log_path = ?19, error = ?20, oom_kills = ?21, run_oom_kills = ?22 WHERE id = ?1"

#define LOAD_SQL                                                                                 \
  "SELECT id, spec, state, pid, pid_start, monitor_pid, monitor_start, unit, cgroup, exit_code," \
  " signal, restarts, auto_restarts, created_at, started_at, finished_at, backend, log_path,"    \
  " stderr_log_path, error, oom_kills, run_oom_kills FROM jobs ORDER BY created_at, id"

static gboolean
db_error (sqlite3 *db, GError **error, const char *what)
{
  int code = db ? sqlite3_errcode (db) : SQLITE_NOMEM;

  /* What an administrator acts on, rather than SQLite's wording. */
  if (code == SQLITE_FULL)
    g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                 _("state database: disk full (%s: %s)"), what, sqlite3_errmsg (db));
  else
    g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("state database: %s: %s"), what,
                 db ? sqlite3_errmsg (db) : "out of memory");
  return FALSE;
}

static gboolean
exec (sqlite3 *db, const char *sql, GError **error)
{
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_error (db, error, sql);
  return TRUE;
}

static int
user_version (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  int v = -1;

  if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  return v;
}

static gboolean
migrate (sqlite3 *db, GError **error)
{
  int v = user_version (db);

  if (v < 0)
    return db_error (db, error, "PRAGMA user_version");
  if (v > ORCH_STATE_SCHEMA_VERSION)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("state database: schema version %d is newer than this daemon's %d"),
                   v, ORCH_STATE_SCHEMA_VERSION);
      return FALSE;
    }
  for (; v < ORCH_STATE_SCHEMA_VERSION; v++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", v + 1);
      if (!exec (db, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!exec (db, migrations[v], error) || !exec (db, bump, error))
        {
          (void) sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
      if (!exec (db, "COMMIT", error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
quick_check (sqlite3 *db, GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;

  if (sqlite3_prepare_v2 (db, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    ok = g_strcmp0 ((const char *) sqlite3_column_text (st, 0), "ok") == 0;
  if (!ok)
    db_error (db, error, "PRAGMA quick_check");
  sqlite3_finalize (st);
  return ok;
}

static gboolean
prepare_schedules (OrchState *s, GError **error)
{
  return (sqlite3_prepare_v3 (s->db, "UPDATE jobs SET schedule_id = ?2 WHERE id = ?1", -1,
                              SQLITE_PREPARE_PERSISTENT, &s->set_schedule, NULL) == SQLITE_OK ||
          db_error (s->db, error, "prepare")) &&
         (sqlite3_prepare_v3 (s->db,
                              "INSERT OR REPLACE INTO schedules (id, record) VALUES (?1, ?2)", -1,
                              SQLITE_PREPARE_PERSISTENT, &s->sched_save, NULL) == SQLITE_OK ||
          db_error (s->db, error, "prepare")) &&
         (sqlite3_prepare_v3 (s->db, "DELETE FROM schedules WHERE id = ?1", -1,
                              SQLITE_PREPARE_PERSISTENT, &s->sched_del, NULL) == SQLITE_OK ||
          db_error (s->db, error, "prepare")) &&
         (sqlite3_prepare_v3 (s->db, "SELECT record FROM schedules WHERE id = ?1", -1,
                              SQLITE_PREPARE_PERSISTENT, &s->sched_get, NULL) == SQLITE_OK ||
          db_error (s->db, error, "prepare"));
}

/* ORCH_TEST_SQLITE_CACHE_KIB: SQLite's page cache in KiB instead of its
 * default 2 000, for the soak that tells that cache's growth from a leak
 * (tests/bench/bench-rss.sh).  Not a setting: tests only. */
static gboolean
test_cache_size (sqlite3 *db, GError **error)
{
  const char *kib = g_getenv ("ORCH_TEST_SQLITE_CACHE_KIB");
  g_autofree char *sql = NULL;
  guint64 v;

  if (kib == NULL || !g_ascii_string_to_unsigned (kib, 10, 0, 1000000, &v, NULL))
    return TRUE;
  sql = g_strdup_printf ("PRAGMA cache_size = -%" G_GUINT64_FORMAT, v);
  return exec (db, sql, error);
}

/* Everything that touches the file's content: a failure here means the
 * database cannot be used as it is. */
static gboolean
open_db (OrchState *s, const char *path, GError **error)
{
  if (sqlite3_open_v2 (path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                       SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    return db_error (s->db, error, path);
  /* WAL: a commit is one append; NORMAL: durable against the daemon's
   * death (what matters here), fsync at checkpoints.  EXCLUSIVE, before
   * WAL: only this daemon opens the file (STATE_DIR/lock), so the WAL
   * index lives in its memory and no transaction takes or drops the
   * -shm file's fcntl locks (~8 system calls per save). */
  return exec (s->db, "PRAGMA locking_mode = EXCLUSIVE", error) &&
         exec (s->db, "PRAGMA journal_mode = WAL", error) &&
         exec (s->db, "PRAGMA synchronous = NORMAL", error) && test_cache_size (s->db, error) &&
         exec (s->db, "PRAGMA foreign_keys = ON", error) && quick_check (s->db, error) &&
         migrate (s->db, error) &&
         (sqlite3_prepare_v3 (s->db, INSERT_SQL, -1, SQLITE_PREPARE_PERSISTENT, &s->insert, NULL) ==
              SQLITE_OK ||
          db_error (s->db, error, "prepare")) &&
         (sqlite3_prepare_v3 (s->db, UPDATE_SQL, -1, SQLITE_PREPARE_PERSISTENT, &s->update, NULL) ==
              SQLITE_OK ||
          db_error (s->db, error, "prepare")) &&
         (sqlite3_prepare_v3 (s->db, "DELETE FROM jobs WHERE id = ?1", -1,
                              SQLITE_PREPARE_PERSISTENT, &s->del, NULL) == SQLITE_OK ||
          db_error (s->db, error, "prepare")) &&
         prepare_schedules (s, error);
}

static void
close_db (OrchState *s)
{
  g_clear_pointer (&s->insert, sqlite3_finalize);
  g_clear_pointer (&s->update, sqlite3_finalize);
  g_clear_pointer (&s->del, sqlite3_finalize);
  g_clear_pointer (&s->set_schedule, sqlite3_finalize);
  g_clear_pointer (&s->sched_save, sqlite3_finalize);
  g_clear_pointer (&s->sched_del, sqlite3_finalize);
  g_clear_pointer (&s->sched_get, sqlite3_finalize);
  if (s->db)
    sqlite3_close (s->db);
  s->db = NULL;
}

/* Renames the database and its WAL files to PATH.corrupt-TIMESTAMP. */
static char *
move_aside (const char *path)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  char *target = g_strdup_printf ("%s.corrupt-%s", path, stamp);
  static const char *const suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *from = g_strconcat (path, suffixes[i], NULL);
      g_autofree char *to = g_strconcat (target, suffixes[i], NULL);
      if (g_rename (from, to) < 0 && errno != ENOENT)
        g_warning ("cannot move %s aside: %s", from, g_strerror (errno));
    }
  return target;
}

int
orch_state_lock_dir (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  char pid[32];
  int fd, len;

  if (g_mkdir_with_parents (dir, 0750) < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot create state directory %s: %s"),
                   dir, g_strerror (errno));
      return -1;
    }
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot open %s: %s"), path,
                   g_strerror (errno));
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      int saved = errno;
      ssize_t n = pread (fd, pid, sizeof pid - 1, 0);

      pid[MAX (n, 0)] = '\0';
      g_strstrip (pid);
      close (fd);
      if (saved == EWOULDBLOCK)
        g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                     _("state directory %s is in use by another orchestratord (pid %s)"), dir,
                     *pid ? pid : "?");
      else
        g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot lock %s: %s"), path,
                     g_strerror (saved));
      return -1;
    }
  /* Who holds it, for the message the next one prints; a write that fails
   * (a full disk) leaves the lock itself intact. */
  len = snprintf (pid, sizeof pid, "%d\n", (int) getpid ());
  if (ftruncate (fd, 0) < 0 || pwrite (fd, pid, (size_t) len, 0) != len)
    g_debug ("cannot write the pid into %s", path);
  return fd;
}

OrchState *
orch_state_open (const char *dir, GError **error)
{
  g_autoptr(OrchState) s = g_new0 (OrchState, 1);
  g_autofree char *path = g_build_filename (dir, "orchestrator.db", NULL);
  g_autoptr(GError) local = NULL;

  if (g_mkdir_with_parents (dir, 0750) < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot create state directory %s: %s"),
                   dir, g_strerror (errno));
      return NULL;
    }
  if (open_db (s, path, &local))
    return g_steal_pointer (&s);

  /* Crash-looping on a bad file helps nobody: keep it for inspection and
   * start empty. */
  close_db (s);
  s->moved_aside = move_aside (path);
  g_warning (_("state database %s is unusable (%s); moved it to %s and starting with an empty one"),
             path, local->message, s->moved_aside);
  if (!open_db (s, path, error))
    return NULL;
  return g_steal_pointer (&s);
}

void
orch_state_free (OrchState *s)
{
  if (s == NULL)
    return;
  close_db (s);
  g_free (s->moved_aside);
  g_free (s);
}

const char *
orch_state_moved_aside (OrchState *s)
{
  return s->moved_aside;
}

static void
bind_text (sqlite3_stmt *st, int i, const char *text)
{
  if (text)
    sqlite3_bind_text (st, i, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (st, i);
}

/* Binds every field but the spec (?2) and steps @st once. */
static int
step_record (sqlite3_stmt *st, const OrchJob *job, guint auto_restarts)
{
  int r;

  bind_text (st, 1, job->id);
  bind_text (st, 3, orch_job_state_to_string (job->state));
  sqlite3_bind_int64 (st, 4, job->pid);
  sqlite3_bind_int64 (st, 5, (sqlite3_int64) job->pid_start);
  sqlite3_bind_int64 (st, 6, job->monitor_pid);
  sqlite3_bind_int64 (st, 7, (sqlite3_int64) job->monitor_start);
  bind_text (st, 8, job->unit ? job->unit : "");
  bind_text (st, 9, job->cgroup ? job->cgroup : "");
  sqlite3_bind_int (st, 10, job->exit_code);
  sqlite3_bind_int (st, 11, job->signal);
  sqlite3_bind_int64 (st, 12, job->restarts);
  sqlite3_bind_int64 (st, 13, auto_restarts);
  sqlite3_bind_int64 (st, 14, job->created_at);
  sqlite3_bind_int64 (st, 15, job->started_at);
  sqlite3_bind_int64 (st, 16, job->finished_at);
  bind_text (st, 17, job->backend ? job->backend : "");
  bind_text (st, 18, job->log_path ? job->log_path : "");
  bind_text (st, 19, job->stderr_log_path);
  bind_text (st, 20, job->error);
  sqlite3_bind_int64 (st, 21, job->oom_kills);
  sqlite3_bind_int64 (st, 22, job->run_oom_kills);
  r = sqlite3_step (st);
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  return r;
}

static int
step_id_text (sqlite3_stmt *st, const char *id, const char *text)
{
  int r;

  bind_text (st, 1, id);
  bind_text (st, 2, text);
  r = sqlite3_step (st);
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  return r;
}

/* A job run by a schedule: its record and its schedule_id in one go (a
 * savepoint works inside a caller's transaction and outside one). */
static gboolean
insert_scheduled (OrchState *s, const OrchJob *job, guint auto_restarts, GError **error)
{
  if (!exec (s->db, "SAVEPOINT scheduled", error))
    return FALSE;
  if (step_record (s->insert, job, auto_restarts) != SQLITE_DONE ||
      step_id_text (s->set_schedule, job->id, job->schedule_id) != SQLITE_DONE)
    {
      db_error (s->db, error, "save");
      (void) sqlite3_exec (s->db, "ROLLBACK TO scheduled; RELEASE scheduled", NULL, NULL, NULL);
      return FALSE;
    }
  return exec (s->db, "RELEASE scheduled", error);
}

void
orch_state_set_flush_func (OrchState *s, OrchStateFlushFunc func, gpointer user_data)
{
  s->flush = func;
  s->flush_data = user_data;
}

void
orch_state_flush (OrchState *s)
{
  if (s->group && s->flush)
    s->flush (s->flush_data);
}

static gboolean
insert_new (OrchState *s, const OrchJob *job, guint auto_restarts, GError **error)
{
  g_autoptr(GVariant) spec = g_variant_ref_sink (orch_spec_to_variant (job->spec));

  sqlite3_bind_blob (s->insert, 2, g_variant_get_data (spec), (int) g_variant_get_size (spec),
                     SQLITE_STATIC);
  if (job->schedule_id)
    return insert_scheduled (s, job, auto_restarts, error);
  if (step_record (s->insert, job, auto_restarts) != SQLITE_DONE)
    return db_error (s->db, error, "save");
  return TRUE;
}

/* A new record: the one time the spec is written. */
gboolean
orch_state_save_new (OrchState *s, const OrchJob *job, guint auto_restarts, GError **error)
{
  orch_state_flush (s);
  return insert_new (s, job, auto_restarts, error);
}

static gboolean
save (OrchState *s, const OrchJob *job, guint auto_restarts, GError **error)
{
  int r = step_record (s->update, job, auto_restarts);

  if (r == SQLITE_DONE && sqlite3_changes (s->db) > 0)
    return TRUE;
  if (r == SQLITE_DONE)
    return insert_new (s, job, auto_restarts, error);
  return db_error (s->db, error, "save");
}

gboolean
orch_state_save (OrchState *s, const OrchJob *job, guint auto_restarts, GError **error)
{
  orch_state_flush (s);
  return save (s, job, auto_restarts, error);
}

gboolean
orch_state_group_begin (OrchState *s)
{
  if (s->group || !sqlite3_get_autocommit (s->db) ||
      sqlite3_exec (s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return FALSE;
  s->group = TRUE;
  return TRUE;
}

gboolean
orch_state_group_save (OrchState *s, const OrchJob *job, guint auto_restarts, GError **error)
{
  g_return_val_if_fail (s->group, FALSE);
  return save (s, job, auto_restarts, error);
}

gboolean
orch_state_group_end (OrchState *s, gboolean commit, GError **error)
{
  gboolean ok = FALSE;

  g_return_val_if_fail (s->group, FALSE);
  s->group = FALSE;
  /* A failed statement (a full disk) may have rolled the transaction
   * back already; what is left of it goes. */
  if (commit && !sqlite3_get_autocommit (s->db))
    ok = exec (s->db, "COMMIT", error);
  else if (commit)
    g_set_error_literal (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                         _("state database: the transaction was rolled back"));
  if (!ok && !sqlite3_get_autocommit (s->db))
    (void) sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL);
  return ok;
}

gboolean
orch_state_delete (OrchState *s, const char *id, GError **error)
{
  int r;

  orch_state_flush (s);
  bind_text (s->del, 1, id);
  r = sqlite3_step (s->del);
  sqlite3_reset (s->del);
  sqlite3_clear_bindings (s->del);
  if (r != SQLITE_DONE)
    return db_error (s->db, error, "delete");
  return TRUE;
}

gboolean
orch_state_save_spec (OrchState *s, const char *id, const OrchSpec *spec, GError **error)
{
  g_autoptr(GVariant) v = g_variant_ref_sink (orch_spec_to_variant (spec));
  sqlite3_stmt *st = NULL;
  int r;

  orch_state_flush (s);
  /* Rare (SetLimits), so not worth a statement kept prepared. */
  if (sqlite3_prepare_v2 (s->db, "UPDATE jobs SET spec = ?2 WHERE id = ?1", -1, &st, NULL) !=
      SQLITE_OK)
    return db_error (s->db, error, "save spec");
  bind_text (st, 1, id);
  sqlite3_bind_blob (st, 2, g_variant_get_data (v), (int) g_variant_get_size (v), SQLITE_STATIC);
  r = sqlite3_step (st);
  sqlite3_finalize (st);
  if (r != SQLITE_DONE)
    return db_error (s->db, error, "save spec");
  if (sqlite3_changes (s->db) == 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("state database: no record %s"), id);
      return FALSE;
    }
  return TRUE;
}

sqlite3 *
orch_state_db (OrchState *s)
{
  return s->db;
}

gboolean
orch_state_begin (OrchState *s, GError **error)
{
  orch_state_flush (s);
  return exec (s->db, "BEGIN IMMEDIATE", error);
}

gboolean
orch_state_commit (OrchState *s, GError **error)
{
  return exec (s->db, "COMMIT", error);
}

void
orch_state_rollback (OrchState *s)
{
  if (!sqlite3_get_autocommit (s->db))
    (void) sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL);
}

void
orch_state_record_free (OrchStateRecord *r)
{
  if (r == NULL)
    return;
  orch_job_free (r->job);
  g_free (r->backend);
  g_free (r);
}

static char *
column_strdup (sqlite3_stmt *st, int i)
{
  const char *t = (const char *) sqlite3_column_text (st, i);

  return t ? g_strdup (t) : NULL;
}

/* One row as a record, or NULL (with the reason in @error) if it does not
 * make sense: the file may have been edited or damaged. */
static OrchStateRecord *
load_row (sqlite3_stmt *st, GError **error)
{
  const char *id = (const char *) sqlite3_column_text (st, 0);
  gconstpointer blob = sqlite3_column_blob (st, 1);
  gsize len = (gsize) sqlite3_column_bytes (st, 1);
  g_autoptr(GBytes) bytes = g_bytes_new (blob, len);
  g_autoptr(GVariant) spec_v = NULL;
  g_autoptr(OrchSpec) spec = NULL;
  OrchStateRecord *r;
  OrchJob *job;

  if (id == NULL)
    {
      g_set_error_literal (error, ORCH_ERROR, ORCH_ERROR_FAILED, "no id");
      return NULL;
    }
  spec_v = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
  spec = orch_spec_from_stored (spec_v, error);
  if (spec == NULL)
    return NULL;

  job = orch_job_new (id, g_steal_pointer (&spec));
  r = g_new0 (OrchStateRecord, 1);
  r->job = job;
  if (!orch_job_state_from_string ((const char *) sqlite3_column_text (st, 2), &job->state))
    {
      orch_state_record_free (r);
      g_set_error_literal (error, ORCH_ERROR, ORCH_ERROR_FAILED, "bad state");
      return NULL;
    }
  job->pid = (pid_t) sqlite3_column_int64 (st, 3);
  job->pid_start = (guint64) sqlite3_column_int64 (st, 4);
  job->monitor_pid = (pid_t) sqlite3_column_int64 (st, 5);
  job->monitor_start = (guint64) sqlite3_column_int64 (st, 6);
  g_free (job->unit);
  job->unit = column_strdup (st, 7);
  g_free (job->cgroup);
  job->cgroup = column_strdup (st, 8);
  job->exit_code = sqlite3_column_int (st, 9);
  job->signal = sqlite3_column_int (st, 10);
  job->restarts = (guint) sqlite3_column_int64 (st, 11);
  r->auto_restarts = (guint) sqlite3_column_int64 (st, 12);
  job->created_at = sqlite3_column_int64 (st, 13);
  job->started_at = sqlite3_column_int64 (st, 14);
  job->finished_at = sqlite3_column_int64 (st, 15);
  r->backend = column_strdup (st, 16);
  job->log_path = column_strdup (st, 17);
  job->stderr_log_path = column_strdup (st, 18);
  job->error = column_strdup (st, 19);
  job->oom_kills = (guint) sqlite3_column_int64 (st, 20);
  job->run_oom_kills = (guint) sqlite3_column_int64 (st, 21);
  return r;
}

/* The schedule_id of the loaded jobs run by a schedule. */
static gboolean
load_schedule_ids (OrchState *s, GPtrArray *records, GError **error)
{
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  sqlite3_stmt *st = NULL;
  int r;

  if (sqlite3_prepare_v2 (s->db, "SELECT id, schedule_id FROM jobs WHERE schedule_id IS NOT NULL",
                          -1, &st, NULL) != SQLITE_OK)
    return db_error (s->db, error, "load");
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    g_hash_table_insert (ids, column_strdup (st, 0), column_strdup (st, 1));
  sqlite3_finalize (st);
  if (r != SQLITE_DONE)
    return db_error (s->db, error, "load");
  for (guint i = 0; i < records->len && g_hash_table_size (ids) > 0; i++)
    {
      OrchStateRecord *rec = records->pdata[i];
      rec->job->schedule_id = g_strdup (g_hash_table_lookup (ids, rec->job->id));
    }
  return TRUE;
}

GPtrArray *
orch_state_load (OrchState *s, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) orch_state_record_free);
  sqlite3_stmt *st = NULL;
  int r;

  if (sqlite3_prepare_v2 (s->db, LOAD_SQL, -1, &st, NULL) != SQLITE_OK)
    {
      db_error (s->db, error, "load");
      return NULL;
    }
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_autoptr(GError) local = NULL;
      OrchStateRecord *rec = load_row (st, &local);
      if (rec)
        g_ptr_array_add (out, rec);
      else
        g_warning (_("state database: skipping record %s: %s"),
                   (const char *) sqlite3_column_text (st, 0), local->message);
    }
  sqlite3_finalize (st);
  if (r != SQLITE_DONE)
    {
      db_error (s->db, error, "load");
      return NULL;
    }
  if (!load_schedule_ids (s, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

gboolean
orch_state_save_schedule (OrchState *s, const char *id, GVariant *record, GError **error)
{
  g_autoptr(GVariant) normal = g_variant_get_normal_form (record);
  int r;

  orch_state_flush (s);
  bind_text (s->sched_save, 1, id);
  sqlite3_bind_blob (s->sched_save, 2, g_variant_get_data (normal),
                     (int) g_variant_get_size (normal), SQLITE_STATIC);
  r = sqlite3_step (s->sched_save);
  sqlite3_reset (s->sched_save);
  sqlite3_clear_bindings (s->sched_save);
  if (r != SQLITE_DONE)
    return db_error (s->db, error, "save schedule");
  return TRUE;
}

gboolean
orch_state_delete_schedule (OrchState *s, const char *id, GError **error)
{
  int r;

  orch_state_flush (s);
  bind_text (s->sched_del, 1, id);
  r = sqlite3_step (s->sched_del);
  sqlite3_reset (s->sched_del);
  sqlite3_clear_bindings (s->sched_del);
  if (r != SQLITE_DONE)
    return db_error (s->db, error, "delete schedule");
  return TRUE;
}

GVariant *
orch_state_load_schedule (OrchState *s, const char *id, GError **error)
{
  GVariant *v = NULL;
  int r;

  bind_text (s->sched_get, 1, id);
  r = sqlite3_step (s->sched_get);
  if (r == SQLITE_ROW)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (sqlite3_column_blob (s->sched_get, 0),
                                             (gsize) sqlite3_column_bytes (s->sched_get, 0));
      v = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
    }
  else if (r == SQLITE_DONE)
    g_set_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND, _("schedule %s is not stored"), id);
  else
    db_error (s->db, error, "load schedule");
  sqlite3_reset (s->sched_get);
  sqlite3_clear_bindings (s->sched_get);
  return v;
}

GPtrArray *
orch_state_load_schedules (OrchState *s, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  sqlite3_stmt *st = NULL;
  int r;

  if (sqlite3_prepare_v2 (s->db, "SELECT id, record FROM schedules ORDER BY id", -1, &st, NULL) !=
      SQLITE_OK)
    {
      db_error (s->db, error, "load schedules");
      return NULL;
    }
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (sqlite3_column_blob (st, 1),
                                             (gsize) sqlite3_column_bytes (st, 1));
      GVariant *v = g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE);
      g_ptr_array_add (out, g_variant_ref_sink (v));
    }
  sqlite3_finalize (st);
  if (r != SQLITE_DONE)
    {
      db_error (s->db, error, "load schedules");
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* Groups change seldom (a scale, a rollout step): statements prepared per
 * call. */
gboolean
orch_state_save_group (OrchState *s, const char *id, GVariant *record, GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok;

  orch_state_flush (s);
  if (sqlite3_prepare_v2 (s->db, "INSERT OR REPLACE INTO groups (id, record) VALUES (?1, ?2)", -1,
                          &st, NULL) != SQLITE_OK)
    return db_error (s->db, error, "prepare group save");
  sqlite3_bind_text (st, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob (st, 2, g_variant_get_data (record), g_variant_get_size (record),
                     SQLITE_TRANSIENT);
  ok = sqlite3_step (st) == SQLITE_DONE;
  sqlite3_finalize (st);
  return ok ? TRUE : db_error (s->db, error, "save group");
}

gboolean
orch_state_delete_group (OrchState *s, const char *id, GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok;

  orch_state_flush (s);
  if (sqlite3_prepare_v2 (s->db, "DELETE FROM groups WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
    return db_error (s->db, error, "prepare group delete");
  sqlite3_bind_text (st, 1, id, -1, SQLITE_TRANSIENT);
  ok = sqlite3_step (st) == SQLITE_DONE;
  sqlite3_finalize (st);
  return ok ? TRUE : db_error (s->db, error, "delete group");
}

GPtrArray *
orch_state_load_groups (OrchState *s, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  sqlite3_stmt *st = NULL;
  int r;

  if (sqlite3_prepare_v2 (s->db, "SELECT record FROM groups ORDER BY id", -1, &st, NULL) !=
      SQLITE_OK)
    {
      db_error (s->db, error, "prepare group load");
      return NULL;
    }
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (sqlite3_column_blob (st, 0),
                                             sqlite3_column_bytes (st, 0));
      GVariant *v = g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE);

      g_ptr_array_add (out, g_variant_ref_sink (v));
    }
  sqlite3_finalize (st);
  if (r != SQLITE_DONE)
    {
      db_error (s->db, error, "load groups");
      return NULL;
    }
  return g_steal_pointer (&out);
}
