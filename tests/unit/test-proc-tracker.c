/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The process tracker over a fake /proc: reuse of a pid starts a new
 * history, a vanished pid is forgotten, limits hold. */
#include "basic/orch-error.h"
#include "core/orch-proc-tracker.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  char *root;
  OrchConfig *config;
} Fixture;

static void
write_file (const char *root, const char *rel, const char *text)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

/* A process in the fake /proc, started @starttime ticks after boot. */
static void
fake_process (Fixture *f, int pid, const char *comm, guint64 starttime, guint64 utime)
{
  g_autofree char *stat = g_strdup_printf (
      "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 %" G_GUINT64_FORMAT " 0 0 0 20 0 1 0 %" G_GUINT64_FORMAT
      " 10485760 512 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
      pid, comm, pid, pid, utime, starttime);
  g_autofree char *rel = g_strdup_printf ("%d/stat", pid);
  g_autofree char *cmd = g_strdup_printf ("%d/cmdline", pid);

  write_file (f->root, rel, stat);
  write_file (f->root, cmd, comm);
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->root = g_dir_make_tmp ("orch-proc-XXXXXX", NULL);
  f->config = orch_config_new ();
  f->config->max_tracked_processes = 2;
  write_file (f->root, "stat", "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nbtime 1795818833\n");
}

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  rm_rf (f->root);
  g_free (f->root);
  orch_config_free (f->config);
}

static guint
history_len (OrchProcTracker *t, guint32 pid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) opts = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  g_autoptr(GVariant) rows = orch_proc_tracker_get_history (t, pid, opts, &error);

  g_assert_no_error (error);
  return (guint) g_variant_n_children (rows);
}

static void
test_reuse (Fixture *f, gconstpointer data)
{
  g_autoptr(OrchProcTracker) t = orch_proc_tracker_new (f->config, f->root);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) a = NULL, b = NULL;
  const char *name;

  fake_process (f, 4242, "first", 1000, 10);
  a = orch_proc_tracker_get (t, 4242, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (a, "name", "&s", &name));
  g_assert_cmpstr (name, ==, "first");
  orch_proc_tracker_tick (t);
  orch_proc_tracker_tick (t);
  g_assert_cmpuint (history_len (t, 4242), ==, 3);

  /* Same pid, another process: a new history. */
  fake_process (f, 4242, "second", 2000, 0);
  b = orch_proc_tracker_get (t, 4242, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (b, "name", "&s", &name));
  g_assert_cmpstr (name, ==, "second");
  g_assert_cmpuint (history_len (t, 4242), ==, 1);
}

static void
test_gone_and_limits (Fixture *f, gconstpointer data)
{
  g_autoptr(OrchProcTracker) t = orch_proc_tracker_new (f->config, f->root);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL;
  g_autofree char *gone = g_build_filename (f->root, "11", NULL);
  g_autofree char *gone_stat = g_build_filename (gone, "stat", NULL);
  g_autofree char *gone_cmd = g_build_filename (gone, "cmdline", NULL);

  fake_process (f, 11, "a", 100, 0);
  fake_process (f, 12, "b", 100, 0);
  fake_process (f, 13, "c", 100, 0);
  a = orch_proc_tracker_get (t, 11, &error);
  b = orch_proc_tracker_get (t, 12, &error);
  g_assert_no_error (error);
  /* max_tracked_processes = 2 */
  c = orch_proc_tracker_get (t, 13, &error);
  g_assert_null (c);
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_LIMIT_REACHED);
  g_clear_error (&error);

  /* 11 exits: the next tick forgets it, which makes room. */
  g_unlink (gone_stat);
  g_unlink (gone_cmd);
  g_rmdir (gone);
  orch_proc_tracker_tick (t);
  d = orch_proc_tracker_get (t, 11, &error);
  g_assert_null (d);
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND);
  g_clear_error (&error);
  e = orch_proc_tracker_get (t, 13, &error);
  g_assert_no_error (error);
  g_assert_nonnull (e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/proc-tracker/reuse", Fixture, NULL, setup, test_reuse, teardown);
  g_test_add ("/proc-tracker/gone-and-limits", Fixture, NULL, setup, test_gone_and_limits, teardown);
  return g_test_run ();
}
