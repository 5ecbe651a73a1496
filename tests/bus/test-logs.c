/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.orchestrator.Logs through the bus, against a real orchestratord on a
 * private bus (backend from the first argument). */
#include "orch-test-daemon.h"

#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static OrchTestDaemon *d;

static GVariant *
logs_call (const char *method, GVariant *args, GError **error)
{
  return g_dbus_connection_call_sync (d->conn, "org.orchestrator", "/org/orchestrator",
                                      "org.orchestrator.Logs", method, args, NULL,
                                      G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
}

static void
remove_job (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = orch_test_call (d, "Remove", g_variant_new ("(s)", id), &error);

  g_assert_no_error (error);
}

/* Read(id, options) -> text, next_offset; NULL text and @error on failure. */
static char *
read_log (const char *id, const char *options_text, guint64 *next, GError **error)
{
  GVariant *opts = g_variant_parse (G_VARIANT_TYPE_VARDICT, options_text, NULL, NULL, NULL);
  g_autoptr(GVariant) r = NULL;
  char *text = NULL;

  g_assert_nonnull (opts);
  r = logs_call ("Read", g_variant_new ("(s@a{sv})", id, opts), error);
  if (r == NULL)
    return NULL;
  g_variant_get (r, "(st)", &text, next);
  return text;
}

static char *
log_path (const char *id)
{
  g_autoptr(GVariant) rec = orch_test_get (d, id);
  const char *p;

  g_assert_true (g_variant_lookup (rec, "log_path", "&s", &p));
  return g_strdup (p);
}

static void
test_introspection (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "..", "dbus", "org.orchestrator.Logs.xml", NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) want = NULL;
  g_autoptr(GDBusNodeInfo) got = NULL;
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", "/org/orchestrator", "org.freedesktop.DBus.Introspectable",
      "Introspect", NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  const char *live;
  GDBusInterfaceInfo *a, *b;

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &xml, NULL, &error));
  g_variant_get (r, "(&s)", &live);
  want = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  got = g_dbus_node_info_new_for_xml (live, &error);
  g_assert_no_error (error);
  a = g_dbus_node_info_lookup_interface (want, "org.orchestrator.Logs");
  b = g_dbus_node_info_lookup_interface (got, "org.orchestrator.Logs");
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  for (guint i = 0; a->methods[i]; i++)
    {
      GDBusMethodInfo *mb = g_dbus_interface_info_lookup_method (b, a->methods[i]->name);
      g_assert_nonnull (mb);
      for (guint j = 0; a->methods[i]->in_args && a->methods[i]->in_args[j]; j++)
        {
          g_assert_cmpstr (a->methods[i]->in_args[j]->name, ==, mb->in_args[j]->name);
          g_assert_cmpstr (a->methods[i]->in_args[j]->signature, ==, mb->in_args[j]->signature);
        }
      for (guint j = 0; a->methods[i]->out_args && a->methods[i]->out_args[j]; j++)
        {
          g_assert_cmpstr (a->methods[i]->out_args[j]->name, ==, mb->out_args[j]->name);
          g_assert_cmpstr (a->methods[i]->out_args[j]->signature, ==, mb->out_args[j]->signature);
        }
    }
  for (guint i = 0; b->methods[i]; i++)
    g_assert_nonnull (g_dbus_interface_info_lookup_method (a, b->methods[i]->name));
}

/* 100 000 numbered lines on stdout and on stderr, interleaved; paging in
 * 4 KiB reads returns every line exactly once. */
static void
test_paging (void)
{
  g_autofree char *id = orch_test_start (d,
      "{'command': <['sh', '-c', 'i=0; while [ $i -lt 100000 ]; do echo \"out $i\"; echo \"err $i\" >&2; i=$((i+1)); done']>}", "exited|failed", 60000);
  g_autoptr(GString) all = g_string_new (NULL);
  g_autofree char *path = log_path (id);
  g_autofree char *file = NULL;
  guint64 offset = 0, next = 0;
  guint pages = 0, out = 0, err = 0;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *opts = g_strdup_printf ("{'offset': <uint64 %" G_GUINT64_FORMAT ">, 'max_bytes': <uint32 4096>}", offset);
      g_autofree char *text = read_log (id, opts, &next, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (strlen (text), <=, 4096);
      if (*text == '\0')
        {
          g_assert_cmpuint (next, ==, offset);
          break;
        }
      g_assert_cmpuint (next, >, offset);
      g_string_append (all, text);
      offset = next;
      pages++;
    }
  g_assert_true (g_file_get_contents (path, &file, NULL, NULL));
  g_assert_cmpuint (all->len, ==, strlen (file));
  g_assert_cmpuint (pages, >=, all->len / 4096);

  /* Walked with memchr: g_strsplit() is quadratic under ASan, whose
   * strstr() interceptor measures the whole rest of the string each time. */
  {
    const char *p = all->str, *end = all->str + all->len;
    while (p < end)
      {
        const char *nl = memchr (p, '\n', end - p);
        g_autofree char *line = NULL;
        char expect[32];
        g_assert_nonnull (nl);
        line = g_strndup (p, nl - p);
        if (g_str_has_prefix (line, "out "))
          g_snprintf (expect, sizeof expect, "out %u", out++);
        else
          g_snprintf (expect, sizeof expect, "err %u", err++);
        g_assert_cmpstr (line, ==, expect);
        p = nl + 1;
      }
  }
  g_assert_cmpuint (out, ==, 100000);
  g_assert_cmpuint (err, ==, 100000);

  /* tail: the last 10 lines, whatever their stream */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *tail = read_log (id, "{'tail_lines': <uint32 10>}", &next, &error);
    g_auto(GStrv) tl = NULL;
    g_assert_no_error (error);
    tl = g_strsplit (tail, "\n", -1);
    g_assert_cmpuint (g_strv_length (tl), ==, 11); /* 10 lines and the empty rest */
    g_assert_cmpstr (tl[0], ==, "out 99995");
    g_assert_cmpstr (tl[9], ==, "err 99999");
    g_assert_cmpuint (next, ==, strlen (file));
  }
  remove_job (id);
}

static void
test_invalid_utf8 (void)
{
  g_autofree char *id = orch_test_start (d, "{'command': <['printf', 'ok\\\\377\\\\300bad \\\\342\\\\202\\\\254 end\\\\n']>}", "exited|failed", 60000);
  g_autoptr(GError) error = NULL;
  guint64 next = 0;
  g_autofree char *text = read_log (id, "@a{sv} {}", &next, &error);

  g_assert_no_error (error);
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_cmpstr (text, ==, "ok\xef\xbf\xbd\xef\xbf\xbd" "bad \xe2\x82\xac end\n");
  g_assert_cmpuint (next, ==, 16);
  remove_job (id);
}

static void
test_separate_streams (void)
{
  g_autofree char *id = orch_test_start (d, "{'command': <['sh', '-c', 'echo o; echo e >&2']>, 'stderr': <'separate'>}", "exited|failed", 60000);
  g_autofree char *merged = orch_test_start (d, "{'command': <['true']>}", "exited|failed", 60000);
  g_autoptr(GError) error = NULL;
  guint64 next;
  g_autofree char *out = read_log (id, "{'stream': <'stdout'>}", &next, &error);
  g_autofree char *err = read_log (id, "{'stream': <'stderr'>}", &next, &error);
  g_autofree char *bad = NULL;
  g_autofree char *remote = NULL;

  g_assert_cmpstr (out, ==, "o\n");
  g_assert_cmpstr (err, ==, "e\n");
  bad = read_log (merged, "{'stream': <'stderr'>}", &next, &error);
  g_assert_null (bad);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, "org.orchestrator.Error.InvalidArgument");
  remove_job (id);
  remove_job (merged);
}

static void
test_open_follow (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (
      d, "{'command': <['sh', '-c', 'echo first; sleep 0.3; echo second; exec sleep 600']>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) r = NULL;
  g_autoptr(GString) seen = g_string_new (NULL);
  gint32 handle;
  int fd;
  gint64 until;
  struct stat st;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "running", 10000);
  r = g_dbus_connection_call_with_unix_fd_list_sync (
      d->conn, "org.orchestrator", "/org/orchestrator", "org.orchestrator.Logs", "Open",
      g_variant_new ("(ss)", id, "all"), G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
      &fds, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (r, "(h)", &handle);
  fd = g_unix_fd_list_get (fds, handle, &error);
  g_assert_no_error (error);
  /* Read-only. */
  g_assert_cmpint (fcntl (fd, F_GETFL) & O_ACCMODE, ==, O_RDONLY);
  g_assert_cmpint (write (fd, "x", 1), <, 0);

  /* Follow: "second" is written after we opened. */
  until = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (strstr (seen->str, "second\n") == NULL && g_get_monotonic_time () < until)
    {
      char buf[256];
      ssize_t n = read (fd, buf, sizeof buf);
      if (n > 0)
        g_string_append_len (seen, buf, n);
      else
        g_usleep (10000);
    }
  g_assert_cmpstr (seen->str, ==, "first\nsecond\n");
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  close (fd);
  orch_test_discard (d, id);
}

static void
test_delete (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *done = orch_test_start (d, "{'command': <['echo', 'bye']>}", "exited|failed", 60000);
  g_autofree char *done_path = log_path (done);
  g_autofree char *live = orch_test_create (
      d, "{'command': <['sh', '-c', 'echo before; read x; echo after; exec sleep 600']>}", &error);
  g_autofree char *live_path = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) r1 = NULL, r2 = NULL;
  g_autofree char *gone = NULL;
  g_autofree char *remote = NULL;
  guint64 next;
  struct stat st;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, live, "running", 10000);
  live_path = log_path (live);
  for (int i = 0; i < 500 && (stat (live_path, &st) < 0 || st.st_size == 0); i++)
    g_usleep (2000);
  g_assert_cmpint (st.st_size, >, 0);

  /* A finished job's log is unlinked... */
  r1 = logs_call ("Delete", g_variant_new ("(s)", done), &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (done_path, G_FILE_TEST_EXISTS));
  gone = read_log (done, "@a{sv} {}", &next, &error);
  g_assert_null (gone);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, "org.orchestrator.Error.NotFound");
  g_clear_error (&error);
  /* ...the record stays. */
  g_assert_nonnull (orch_test_get (d, done));

  /* A running job's is truncated, not unlinked. */
  r2 = logs_call ("Delete", g_variant_new ("(s)", live), &error);
  g_assert_no_error (error);
  g_assert_cmpint (stat (live_path, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 0);

  remove_job (done);
  orch_test_discard (d, live);
}

static guint
count_logs (void)
{
  g_autoptr(GDir) dir = g_dir_open (d->log_dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (dir && (name = g_dir_read_name (dir)))
    if (g_str_has_prefix (name, "job_"))
      n++;
  return n;
}

static void
test_cleanup (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *a = orch_test_start (d, "{'command': <['echo', 'aaaa']>}", "exited|failed", 60000);
  g_autofree char *b = orch_test_start (d, "{'command': <['echo', 'bbbbbbbb']>, 'stderr': <'separate'>}", "exited|failed", 60000);
  g_autofree char *live = orch_test_create (d, "{'command': <['sh', '-c', 'echo live; exec sleep 600']>}", &error);
  g_autofree char *other = g_build_filename (d->log_dir, "notes.txt", NULL);
  g_autoptr(GVariant) rec = NULL, r0 = NULL, r1 = NULL, r2 = NULL;
  g_autofree char *live_path = NULL;
  guint32 removed;
  guint64 freed;
  guint before;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, live, "running", 10000);
  live_path = log_path (live);
  g_assert_true (g_file_set_contents (other, "keep me", -1, NULL));
  before = count_logs ();

  /* Nothing is an hour old. */
  r0 = logs_call ("Cleanup", g_variant_new_parsed ("({'older_than_s': <uint64 3600>},)"), &error);
  g_assert_no_error (error);
  g_variant_get (r0, "(ut)", &removed, &freed);
  g_assert_cmpuint (removed, ==, 0);
  g_assert_cmpuint (count_logs (), ==, before);

  /* Everything finished goes; the running job's log and other files stay. */
  r1 = logs_call ("Cleanup", g_variant_new_parsed ("({'older_than_s': <uint64 0>},)"), &error);
  g_assert_no_error (error);
  g_variant_get (r1, "(ut)", &removed, &freed);
  g_assert_cmpuint (removed, >=, 3);
  g_assert_cmpuint (freed, >=, strlen ("aaaa\nbbbbbbbb\n"));
  g_assert_true (g_file_test (live_path, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (other, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_logs (), ==, 1);

  r2 = logs_call ("Cleanup", g_variant_new_parsed ("({'older_then': <uint64 0>},)"), &error);
  g_assert_null (r2);
  g_assert_true (g_dbus_error_is_remote_error (error));
  g_clear_error (&error);

  g_unlink (other);
  remove_job (a);
  remove_job (b);
  orch_test_discard (d, live);
}

static void
test_bad_input (void)
{
  const char *ids[] = { "../../etc/passwd", "/etc/shadow", "job_20261127_223512_abcdef/../../x",
                        "", "job_20991231_235959_ffffff" };
  g_autofree char *longid = g_strnfill (4096, 'j');
  g_autofree char *id = orch_test_start (d, "{'command': <['echo', 'x']>}", "exited|failed", 60000);
  const char *bad_opts[] = { "{'offset': <'zero'>}", "{'tail': <uint32 3>}", "{'max_bytes': <uint32 1>}",
                             "{'stream': <'both'>}" };

  for (gsize i = 0; i < G_N_ELEMENTS (ids) + 1; i++)
    {
      const char *bad = i < G_N_ELEMENTS (ids) ? ids[i] : longid;
      const char *methods[] = { "Read", "Delete", "Open" };
      for (gsize m = 0; m < G_N_ELEMENTS (methods); m++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GVariant) r = NULL;
          g_autofree char *remote = NULL;
          if (m == 0)
            r = logs_call ("Read", g_variant_new_parsed ("(%s, @a{sv} {})", bad), &error);
          else if (m == 1)
            r = logs_call ("Delete", g_variant_new ("(s)", bad), &error);
          else
            r = logs_call ("Open", g_variant_new ("(ss)", bad, "all"), &error);
          g_assert_null (r);
          remote = g_dbus_error_get_remote_error (error);
          g_assert_cmpstr (remote, ==, i == 4 ? "org.orchestrator.Error.NotFound"
                                              : "org.orchestrator.Error.InvalidArgument");
        }
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad_opts); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 next;
      g_autofree char *text = read_log (id, bad_opts[i], &next, &error);
      g_autofree char *remote = NULL;
      g_assert_null (text);
      remote = g_dbus_error_get_remote_error (error);
      g_assert_cmpstr (remote, ==, "org.orchestrator.Error.InvalidArgument");
    }
  /* Nothing outside the log directory was touched. */
  g_assert_true (g_file_test ("/etc/passwd", G_FILE_TEST_EXISTS));
  remove_job (id);
}

#define ROTATE_CAP 65536
#define ROTATE_KEEP 2
#define ROTATE_CONFIG "[jobs]\nmax_concurrent=4\n[logs]\nmax_log_bytes=65536\nrotate_keep=2\n" \
                      "[metrics]\nsample_interval_ms=20\n"

static guint64
file_size (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

/* A log over the cap is rotated on the tick into <log>.1 .. <log>.N, and
 * the total stays under cap x (N+1) plus what the job writes in a tick. */
static void
test_rotation (void)
{
  /* About 1 MB in 101-byte lines, 10 KB per 10 ms: well under the cap per
   * 20 ms tick, so the overshoot is bounded. */
  g_autofree char *id = orch_test_start (d,
      "{'command': <['sh', '-c', 'i=0; while [ $i -lt 10000 ]; do printf \"%0100d\\n\" $i; i=$((i+1));"
      " [ $((i % 100)) -eq 0 ] && sleep 0.01; done; exit 0']>}", "exited|failed", 60000);
  g_autofree char *path = log_path (id);
  g_autofree char *gen1 = g_strconcat (path, ".1", NULL);
  g_autofree char *gen2 = g_strconcat (path, ".2", NULL);
  g_autofree char *gen3 = g_strconcat (path, ".3", NULL);
  g_autofree char *text = NULL;
  guint64 slack = 3 * 10100, total;
  g_autoptr(GVariant) r = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_test (gen1, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (gen2, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (gen3, G_FILE_TEST_EXISTS));
  total = file_size (path) + file_size (gen1) + file_size (gen2);
  g_assert_cmpuint (total, <=, ROTATE_CAP * (ROTATE_KEEP + 1) + slack);
  /* A generation never holds more than the cap; the live log may pass it
   * by one tick of output. */
  g_assert_cmpuint (file_size (gen1), >, 0);
  g_assert_cmpuint (file_size (gen1), <=, ROTATE_CAP);
  g_assert_cmpuint (file_size (gen2), <=, ROTATE_CAP);

  /* The newest generation continues where the current file begins: the
   * last line of .1 is followed by the first line of the current log. */
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  if (*text)
    {
      g_autofree char *older = NULL;
      const char *last;
      guint64 a, b;
      g_assert_true (g_file_get_contents (gen1, &older, NULL, NULL));
      older[strlen (older) - 1] = '\0';
      last = strrchr (older, '\n');
      a = g_ascii_strtoull (last ? last + 1 : older, NULL, 10);
      b = g_ascii_strtoull (text, NULL, 10);
      g_assert_cmpuint (b, >, a);
    }

  /* Delete takes every generation. */
  r = logs_call ("Delete", g_variant_new ("(s)", id), &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (gen1, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (gen2, G_FILE_TEST_EXISTS));
  remove_job (id);
}

/* The daemon is not in the data path: killed outright, its job keeps
 * writing to its log.  Runs last. */
static void
test_daemon_killed (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (
      d, "{'command': <['sh', '-c', 'i=0; while :; do echo line $i; i=$((i+1)); sleep 0.01; done']>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint64 size_at_kill;
  struct stat st;
  pid_t pid;
  guint n;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "running", 10000);
  g_assert_true (g_variant_lookup (rec, "pid", "u", &pid));
  path = log_path (id);
  g_usleep (100000);

  orch_test_daemon_kill (d, SIGKILL);
  g_assert_cmpint (stat (path, &st), ==, 0);
  size_at_kill = st.st_size;
  g_usleep (500000);
  g_assert_true (orch_test_pid_alive (pid));
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_size, >, size_at_kill);

  /* The job's own pid: it is ours to end. */
  kill (-pid, SIGKILL);
  for (int i = 0; i < 500 && orch_test_pid_alive (pid); i++)
    g_usleep (2000);
  g_assert_false (orch_test_pid_alive (pid));

  /* Every line it wrote is there, numbered without a gap. */
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  n = g_strv_length (lines) - 1;
  g_assert_cmpuint (n, >, 10);
  for (guint i = 0; i < n; i++)
    {
      char expect[32];
      g_snprintf (expect, sizeof expect, "line %u", i);
      g_assert_cmpstr (lines[i], ==, expect);
    }
  orch_test_daemon_spawn (d);
}

static const OrchTestCase tests[] = { { "/logs/introspection", test_introspection },
                                      { "/logs/paging", test_paging },
                                      { "/logs/invalid-utf8", test_invalid_utf8 },
                                      { "/logs/separate-streams", test_separate_streams },
                                      { "/logs/open-follow", test_open_follow },
                                      { "/logs/delete", test_delete },
                                      { "/logs/cleanup", test_cleanup },
                                      { "/logs/bad-input", test_bad_input },
                                      { "/logs/daemon-killed", test_daemon_killed },
                                      { NULL, NULL } };

static const OrchTestCase rotation_tests[] = { { "/logs/rotation", test_rotation },
                                               { NULL, NULL } };

int
main (int argc, char **argv)
{
  OrchTestProgram program = {
    .daemon = &d,
    .config = "[jobs]\nmax_concurrent=16\nstop_timeout_ms=5000\n",
    .tests = tests,
  };

  /* "rotation" after the backend: a daemon of its own, as its small cap
   * would rotate the other tests' logs. */
  if (argc > 2 && strcmp (argv[2], "rotation") == 0)
    {
      program.config = ROTATE_CONFIG;
      program.tests = rotation_tests;
    }
  return orch_test_main (argc, argv, &program);
}
