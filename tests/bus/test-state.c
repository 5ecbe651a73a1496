/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Durable state: the daemon is killed outright and started again, and every
 * job is still there, supervised again or with how it ended meanwhile. */
#include "orch-test-daemon.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static OrchTestDaemon *d;

static GVariant *
list_all (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = orch_test_call (d, "List", g_variant_new_parsed ("(@a{sv} {},)"), &error);

  g_assert_no_error (error);
  return g_variant_get_child_value (r, 0);
}

/* id -> record */
static GHashTable *
records_by_id (void)
{
  g_autoptr(GVariant) all = list_all ();
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_variant_unref);

  for (gsize i = 0; i < g_variant_n_children (all); i++)
    {
      GVariant *rec = g_variant_get_child_value (all, i);
      g_hash_table_insert (out, g_strdup (orch_test_rec_str (rec, "id")), rec);
    }
  return out;
}

static void
wait_pid_gone (pid_t pid)
{
  for (int i = 0; i < 1000 && orch_test_pid_alive (pid); i++)
    g_usleep (5000);
  g_assert_false (orch_test_pid_alive (pid));
}

static void
discard_all (void)
{
  g_autoptr(GHashTable) recs = records_by_id ();
  GHashTableIter it;
  gpointer id;

  g_hash_table_iter_init (&it, recs);
  while (g_hash_table_iter_next (&it, &id, NULL))
    orch_test_discard (d, id);
}

/* 20 jobs of three kinds; the daemon is killed; 5 of them end while it is
 * down; a new daemon has all 20, the 5 real exit codes, and supervises the
 * rest again. */
static void
test_kill_and_restart (void)
{
  g_autofree char *trigger = g_build_filename (d->scratch, "trigger", NULL);
  g_autofree char *script = g_strdup_printf ("while [ ! -e %s ]; do sleep 0.02; done; exit $0", trigger);
  g_autoptr(GPtrArray) sleepers = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) waiters = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  g_autofree char *talker = NULL;
  g_autofree char *log_before = NULL;
  g_autofree char *log_after = NULL;
  pid_t waiter_pids[5];

  for (int i = 0; i < 9; i++)
    g_ptr_array_add (sleepers, orch_test_start (d, "{'command': <['sleep', '600']>}", "running", 10000));
  talker = orch_test_start (d, "{'command': <['sh', '-c', 'while :; do echo tick; sleep 0.05; done']>}",
                            "running", 10000);
  for (int i = 0; i < 5; i++)
    {
      g_autoptr(GVariant) quoted = g_variant_ref_sink (g_variant_new_string (script));
      g_autofree char *text = g_variant_print (quoted, FALSE);
      g_autofree char *spec = g_strdup_printf ("{'command': <['sh', '-c', %s, '%d']>}", text, 3 + i);
      g_autoptr(GVariant) rec = NULL;
      char *id = orch_test_start (d, spec, "running", 10000);
      rec = orch_test_get (d, id);
      waiter_pids[i] = (pid_t) orch_test_rec_int (rec, "pid");
      g_ptr_array_add (waiters, id);
    }
  for (int i = 0; i < 5; i++)
    g_ptr_array_add (done, orch_test_start (d, i % 2 ? "{'command': <['false']>}" : "{'command': <['true']>}",
                                            "exited|failed", 10000));
  before = records_by_id ();
  g_assert_cmpuint (g_hash_table_size (before), ==, 20);

  orch_test_daemon_kill (d, SIGKILL);
  g_assert_true (g_file_set_contents (trigger, "", 0, NULL));
  for (int i = 0; i < 5; i++)
    wait_pid_gone (waiter_pids[i]);
  log_before = orch_test_log_text (d, talker);
  orch_test_daemon_spawn (d);

  after = records_by_id ();
  g_assert_cmpuint (g_hash_table_size (after), ==, 20);
  for (guint i = 0; i < sleepers->len; i++)
    {
      const char *id = g_ptr_array_index (sleepers, i);
      GVariant *a = g_hash_table_lookup (after, id), *b = g_hash_table_lookup (before, id);
      g_assert_nonnull (a);
      g_assert_cmpstr (orch_test_rec_str (a, "state"), ==, "running");
      g_assert_cmpint (orch_test_rec_int (a, "pid"), ==, orch_test_rec_int (b, "pid"));
      g_assert_cmpint (orch_test_rec_int (a, "created_at"), ==, orch_test_rec_int (b, "created_at"));
    }
  for (guint i = 0; i < waiters->len; i++)
    {
      /* Ended before the new daemon came up; its monitor may still be
       * writing the record, then it is final a moment later. */
      g_autoptr(GVariant) a = orch_test_wait_state (d, g_ptr_array_index (waiters, i), "failed", 5000);
      g_assert_nonnull (g_hash_table_lookup (after, g_ptr_array_index (waiters, i)));
      g_assert_cmpint (orch_test_rec_int (a, "exit_code"), ==, 3 + (int) i);
      g_assert_cmpint (orch_test_rec_int (a, "finished_at"), >, 0);
    }
  for (guint i = 0; i < done->len; i++)
    {
      GVariant *a = g_hash_table_lookup (after, g_ptr_array_index (done, i));
      GVariant *b = g_hash_table_lookup (before, g_ptr_array_index (done, i));
      g_assert_nonnull (a);
      g_assert_cmpstr (orch_test_rec_str (a, "state"), ==, orch_test_rec_str (b, "state"));
      g_assert_cmpint (orch_test_rec_int (a, "exit_code"), ==, orch_test_rec_int (b, "exit_code"));
    }

  /* Supervised again: its log goes on, its metrics come, Stop stops it. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) m = NULL;
    g_usleep (300000);
    log_after = orch_test_log_text (d, talker);
    g_assert_cmpuint (strlen (log_after), >, strlen (log_before));
    m = g_dbus_connection_call_sync (d->conn, "org.orchestrator", "/org/orchestrator",
                                     "org.orchestrator.Metrics", "GetJob",
                                     g_variant_new ("(s)", talker), NULL, G_DBUS_CALL_FLAGS_NONE,
                                     -1, NULL, &error);
    g_assert_no_error (error);
  }
  for (guint i = 0; i < sleepers->len; i++)
    {
      GVariant *a = g_hash_table_lookup (after, g_ptr_array_index (sleepers, i));
      pid_t pid = (pid_t) orch_test_rec_int (a, "pid");
      orch_test_discard (d, g_ptr_array_index (sleepers, i));
      g_assert_false (orch_test_pid_alive (pid));
    }
  discard_all ();
  g_unlink (trigger);
}

typedef struct {
  GPtrArray *replied;   /* ids whose Create got a reply */
  guint pending;
} Burst;

static void
create_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Burst *b = data;
  g_autoptr(GVariant) r = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, NULL);

  if (r)
    {
      const char *id;
      g_variant_get (r, "(&s&o)", &id, NULL);
      g_ptr_array_add (b->replied, g_strdup (id));
    }
  b->pending--;
}

#define BURST 40

static void
send_burst (Burst *b)
{
  for (int i = 0; i < BURST; i++)
    {
      b->pending++;
      g_dbus_connection_call (d->conn, "org.orchestrator", "/org/orchestrator", "org.orchestrator.Jobs",
                              "Create", g_variant_new_parsed ("({'command': <['sleep', '600']>},)"),
                              G_VARIANT_TYPE ("(so)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, create_done, b);
    }
}

/* Bursts of Create calls, the daemon killed at a random moment in each:
 * every Create that got a reply has its record afterwards. */
static void
test_burst_kill (void)
{
  g_autoptr(GRand) rand = g_rand_new ();
  guint total = 0, sent = 0;
  gint64 burst_us;

  /* How long a whole burst takes here, to kill within it. */
  {
    Burst b = { g_ptr_array_new_with_free_func (g_free), 0 };
    gint64 t0 = g_get_monotonic_time ();
    send_burst (&b);
    while (b.pending)
      g_main_context_iteration (NULL, TRUE);
    burst_us = g_get_monotonic_time () - t0;
    g_assert_cmpuint (b.replied->len, ==, BURST);
    g_ptr_array_unref (b.replied);
    discard_all ();
  }

  for (int round = 0; round < 8; round++)
    {
      Burst b = { g_ptr_array_new_with_free_func (g_free), 0 };
      g_autoptr(GHashTable) after = NULL;
      gint64 deadline;
      gint64 delay_us = g_rand_int_range (rand, 0, (gint32) MIN (burst_us, G_MAXINT32));

      send_burst (&b);
      deadline = g_get_monotonic_time () + delay_us;
      while (g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, FALSE);
      orch_test_daemon_kill (d, SIGKILL);
      while (b.pending)
        g_main_context_iteration (NULL, TRUE);

      orch_test_daemon_spawn (d);
      after = records_by_id ();
      for (guint i = 0; i < b.replied->len; i++)
        g_assert_true (g_hash_table_contains (after, g_ptr_array_index (b.replied, i)));
      total += b.replied->len;
      sent += BURST;
      discard_all ();
      g_ptr_array_unref (b.replied);
    }
  g_test_message ("bursts of %d Creates (%" G_GINT64_FORMAT " us each), daemon killed within: "
                  "%u of %u replied, all found again", BURST, burst_us, total, sent);
  /* Some were answered and some cut off, or the test proved nothing. */
  g_assert_cmpuint (total, >, 0);
  g_assert_cmpuint (total, <, sent);
}

static void
edit_db (const char *sql)
{
  g_autofree char *path = g_build_filename (d->scratch, "state", "orchestrator.db", NULL);
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

/* A recorded pid whose start time does not match is someone else's now:
 * not adopted, not signalled. */
static void
test_pid_reuse_not_adopted (void)
{
  g_autofree char *id = orch_test_start (d, "{'command': <['sleep', '600']>}", "running", 10000);
  g_autoptr(GVariant) rec = orch_test_get (d, id);
  g_autoptr(GVariant) again = NULL;
  pid_t pid = (pid_t) orch_test_rec_int (rec, "pid");
  const char *error = NULL;

  orch_test_daemon_kill (d, SIGKILL);
  edit_db ("UPDATE jobs SET monitor_start = monitor_start + 1, pid_start = pid_start + 1");
  orch_test_daemon_spawn (d);

  again = orch_test_get (d, id);
  g_assert_cmpstr (orch_test_rec_str (again, "state"), ==, "failed");
  g_assert_true (g_variant_lookup (again, "error", "&s", &error));
  g_assert_nonnull (strstr (error, "another process"));
  /* Left alone: the daemon does not kill what it does not own. */
  g_usleep (100000);
  g_assert_true (orch_test_pid_alive (pid));

  /* Ours to end: the test started it. */
  kill (pid, SIGKILL);
  wait_pid_gone (pid);
  discard_all ();
}

/* A restart=always job that died while the daemon was down runs again. */
static void
test_restart_policy_resumes (void)
{
  g_autofree char *trigger = g_build_filename (d->scratch, "trigger-always", NULL);
  g_autofree char *spec = g_strdup_printf (
      "{'command': <['sh', '-c', 'if [ -e %s ]; then rm %s; exit 1; fi; sleep 600']>, 'restart': <'always'>}",
      trigger, trigger);
  g_autofree char *id = orch_test_start (d, spec, "running", 10000);
  g_autoptr(GVariant) rec = orch_test_get (d, id);
  g_autoptr(GVariant) again = NULL;
  pid_t pid = (pid_t) orch_test_rec_int (rec, "pid");

  orch_test_daemon_kill (d, SIGKILL);
  /* The job dies while nobody watches. */
  kill (pid, SIGKILL);
  wait_pid_gone (pid);
  orch_test_daemon_spawn (d);

  for (int i = 0; i < 500; i++)
    {
      g_clear_pointer (&again, g_variant_unref);
      again = orch_test_get (d, id);
      if (orch_test_rec_int (again, "restarts") >= 1 &&
          g_strcmp0 (orch_test_rec_str (again, "state"), "running") == 0)
        break;
      g_usleep (10000);
    }
  g_assert_cmpstr (orch_test_rec_str (again, "state"), ==, "running");
  g_assert_cmpint (orch_test_rec_int (again, "restarts"), >=, 1);
  g_assert_cmpint (orch_test_rec_int (again, "pid"), !=, pid);
  orch_test_discard (d, id);
}

static gboolean
corrupt_copy_exists (void)
{
  g_autofree char *dir = g_build_filename (d->scratch, "state", NULL);
  g_autoptr(GDir) gd = g_dir_open (dir, 0, NULL);
  const char *name;
  gboolean found = FALSE;

  while (gd && (name = g_dir_read_name (gd)))
    if (g_str_has_prefix (name, "orchestrator.db.corrupt-") && !g_str_has_suffix (name, "-wal") &&
        !g_str_has_suffix (name, "-shm"))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        found = TRUE;
        g_unlink (path);
      }
  return found;
}

/* A damaged database is moved aside; the daemon starts with an empty one
 * instead of crash-looping. */
static void
test_corrupt_database (void)
{
  g_autofree char *path = g_build_filename (d->scratch, "state", "orchestrator.db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *id = orch_test_start (d, "{'command': <['true']>}", "exited", 10000);
  g_autoptr(GVariant) all = NULL;
  g_autofree char *text = NULL;
  gsize len;

  for (int variant = 0; variant < 2; variant++)
    {
      orch_test_daemon_kill (d, SIGTERM);
      g_unlink (wal);
      if (variant == 0)
        g_assert_true (g_file_set_contents (path, "this is no database, just garbage bytes\n\x01\x02", -1, NULL));
      else
        {
          /* A real database cut short after its header. */
          g_assert_true (g_file_get_contents (path, &text, &len, NULL));
          g_assert_true (g_file_set_contents (path, text, MIN (len, 100), NULL));
          g_clear_pointer (&text, g_free);
        }
      orch_test_daemon_spawn (d);
      g_clear_pointer (&all, g_variant_unref);
      all = list_all ();
      g_assert_cmpuint (g_variant_n_children (all), ==, 0);
      g_assert_true (corrupt_copy_exists ());
      /* And the new one works. */
      g_free (id);
      id = orch_test_start (d, "{'command': <['true']>}", "exited", 10000);
      orch_test_daemon_kill (d, SIGTERM);
      orch_test_daemon_spawn (d);
      g_assert_nonnull (orch_test_get (d, id));
    }
  discard_all ();
}

/* Retention: beyond [state] keep_finished, the oldest finished jobs go
 * with their logs.  Runs last: it changes the configuration. */
static void
test_retention (void)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *running = orch_test_start (d, "{'command': <['sleep', '600']>}", "running", 10000);
  g_autofree char *conf = NULL;
  g_autoptr(GHashTable) after = NULL;

  for (int i = 0; i < 6; i++)
    g_ptr_array_add (ids, orch_test_start (d, "{'command': <['echo', 'hello']>}", "exited", 10000));
  orch_test_daemon_kill (d, SIGTERM);
  g_assert_true (g_file_get_contents (d->config_path, &conf, NULL, NULL));
  {
    g_autofree char *more = g_strconcat (conf, "\n[state]\nkeep_finished=3\n", NULL);
    g_assert_true (g_file_set_contents (d->config_path, more, -1, NULL));
  }
  orch_test_daemon_spawn (d);

  after = records_by_id ();
  g_assert_true (g_hash_table_contains (after, running)); /* running jobs are never purged */
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      g_autofree char *name = g_strconcat (id, ".log", NULL);
      g_autofree char *log = g_build_filename (d->log_dir, name, NULL);
      gboolean kept = i >= 3; /* the newest three */
      g_assert_cmpint (g_hash_table_contains (after, id), ==, kept);
      g_assert_cmpint (g_file_test (log, G_FILE_TEST_EXISTS), ==, kept);
    }
  discard_all ();
}

/* Commit frames in the daemon's WAL (each commit ends with one), with the
 * WAL's salt: a checkpoint that restarts the WAL changes it. */
static guint
wal_commits (guint32 *ret_salt)
{
  g_autofree char *path = g_build_filename (d->scratch, "state", "orchestrator.db-wal", NULL);
  g_autofree guint8 *wal = NULL;
  gsize len = 0, page, at;
  guint commits = 0;
  guint32 salt;

  g_assert_true (g_file_get_contents (path, (char **) &wal, &len, NULL));
  g_assert_cmpuint (len, >=, 32);
  page = GUINT32_FROM_BE (*(guint32 *) (wal + 8));
  salt = GUINT32_FROM_BE (*(guint32 *) (wal + 16));
  for (at = 32; at + 24 + page <= len; at += 24 + page)
    {
      /* A frame of an older generation of the file: the end of this one. */
      if (GUINT32_FROM_BE (*(guint32 *) (wal + at + 8)) != salt)
        break;
      commits += GUINT32_FROM_BE (*(guint32 *) (wal + at + 4)) != 0;
    }
  *ret_salt = salt;
  return commits;
}

/* The pidfds @pid holds (one per monitor it waits for). */
static guint
pidfds_of (pid_t pid)
{
  g_autofree char *dir_path = g_strdup_printf ("/proc/%d/fd", pid);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint n = 0;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *link = g_build_filename (dir_path, name, NULL);
      g_autofree char *target = g_file_read_link (link, NULL);
      n += target && strstr (target, "pidfd") != NULL;
    }
  return n;
}

/* Children of @pid that are zombies. */
static guint
zombie_children (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/task/%d/children", pid, pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) pids = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  pids = g_strsplit (g_strstrip (text), " ", -1);
  for (char **p = pids; *p && **p; p++)
    {
      g_autofree char *stat_path = g_strdup_printf ("/proc/%s/stat", *p);
      g_autofree char *stat = NULL;
      const char *end;
      if (g_file_get_contents (stat_path, &stat, NULL, NULL) && (end = strrchr (stat, ')')) &&
          end[1] == ' ' && end[2] == 'Z')
        n++;
    }
  return n;
}

/* Group commit (issue 15): N runs that end in one pass of the daemon's
 * loop - their monitors exit while it is stopped (SIGSTOP) - are saved in
 * one transaction, not one commit each; and every end is durable: a
 * daemon killed at once afterwards has them all. */
static void
test_group_commit (void)
{
  enum { N = 24 };
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) after = NULL;
  const char *dpid_s;
  pid_t dpid, pids[N];
  guint c0, c1;
  guint32 salt0, salt1;

  if (!g_file_test ("/proc/self/task", G_FILE_TEST_IS_DIR) ||
      !g_file_test ("/proc/thread-self/children", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN) to see the monitors");
      return;
    }
  /* A clean stop checkpoints the WAL away: the next one starts small. */
  orch_test_daemon_kill (d, SIGTERM);
  orch_test_daemon_spawn (d);
  for (int i = 0; i < N; i++)
    {
      char *id = orch_test_start (d, "{'command': <['sleep', '3601']>}", "running", 10000);
      g_autoptr(GVariant) rec = orch_test_get (d, id);
      pids[i] = (pid_t) orch_test_rec_int (rec, "pid");
      g_ptr_array_add (ids, id);
    }
  dpid_s = g_subprocess_get_identifier (d->daemon);
  dpid = atoi (dpid_s);
  /* Each monitor is waited for through its pidfd, not waitpid(-1) over
   * every child (Linux >= 5.4: this test's kernels). */
  g_assert_cmpuint (pidfds_of (dpid), ==, N);
  c0 = wal_commits (&salt0);

  g_assert_cmpint (kill (dpid, SIGSTOP), ==, 0);
  for (int i = 0; i < N; i++)
    g_assert_cmpint (kill (pids[i], SIGTERM), ==, 0);
  for (int i = 0; i < 2000 && zombie_children (dpid) < N; i++)
    g_usleep (5000);
  g_assert_cmpuint (zombie_children (dpid), ==, N);
  g_assert_cmpint (kill (dpid, SIGCONT), ==, 0);
  for (guint i = 0; i < ids->len; i++)
    g_variant_unref (orch_test_wait_state (d, ids->pdata[i], "exited|failed", 10000));

  c1 = wal_commits (&salt1);
  g_assert_cmpuint (salt1, ==, salt0);
  g_assert_cmpuint (pidfds_of (dpid), ==, 0);
  g_assert_cmpuint (zombie_children (dpid), ==, 0);
  g_test_message ("%d runs ended in one pass: %u commits", N, c1 - c0);
  /* The records and their "exited" events in a few groups; one commit
   * per record would be 2 N, one per event N more. */
  g_assert_cmpuint (c1 - c0, <, N / 4);

  orch_test_daemon_kill (d, SIGKILL);
  orch_test_daemon_spawn (d);
  after = records_by_id ();
  for (guint i = 0; i < ids->len; i++)
    {
      GVariant *rec = g_hash_table_lookup (after, ids->pdata[i]);
      g_assert_nonnull (rec);
      g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "failed");
      g_assert_cmpint (orch_test_rec_int (rec, "signal"), ==, SIGTERM);
    }
  discard_all ();
}

static const OrchTestCase tests[] = { { "/state/kill-and-restart", test_kill_and_restart },
                                      { "/state/burst-kill", test_burst_kill },
                                      { "/state/pid-reuse", test_pid_reuse_not_adopted },
                                      { "/state/restart-policy-resumes",
                                        test_restart_policy_resumes },
                                      { "/state/corrupt-database", test_corrupt_database },
                                      { "/state/group-commit", test_group_commit },
                                      /* Last: it sets keep_finished=3. */
                                      { "/state/retention", test_retention },
                                      { NULL, NULL } };

int
main (int argc, char **argv)
{
  const OrchTestProgram program = {
    .daemon = &d,
    .config = "[jobs]\nmax_concurrent=200\n",
    .tests = tests,
  };

  return orch_test_main (argc, argv, &program);
}
