/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sampler over a fake /proc: each system history column holds the
 * figure of the same name in the system record; the series key tables
 * have a name for every column. */
#include "basic/orch-config.h"
#include "core/orch-sampler-private.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* GetSystemHistory's series, as the D-Bus contract names them. */
static const char *const system_series[] = {
  "cpu_percent",  "memory_used",     "memory_percent", "swap_used",     "load_1",
  "load_5",       "load_15",         "net_send_rate",  "net_recv_rate", "disk_used",
  "pressure_cpu", "pressure_memory", "pressure_io",
};

#define NET_DEV_HEAD                                                               \
  "Inter-|   Receive                                                |  Transmit\n" \
  " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"

/* The fake /proc: what the sampler keeps open, and where it comes from
 * (NULL: written by the test). */
static const struct {
  const char *rel, *fixture;
} proc_files[] = {
  { "stat", "metrics-hybrid-stat" },
  { "meminfo", "metrics-old-meminfo" }, /* has swap in use */
  { "loadavg", "metrics-hybrid-loadavg" },
  { "uptime", "metrics-hybrid-uptime" },
  { "diskstats", "metrics-hybrid-diskstats" },
  { "net/dev", NULL },
  { "pressure/cpu", "metrics-hybrid-pressure-cpu" },
  { "pressure/memory", "metrics-hybrid-pressure-memory" },
  { "pressure/io", "metrics-hybrid-pressure-io" },
};

static void
make_proc (const char *root)
{
  g_autofree char *net = g_build_filename (root, "net", NULL);
  g_autofree char *psi = g_build_filename (root, "pressure", NULL);

  g_assert_cmpint (g_mkdir (net, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (psi, 0755), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (proc_files); i++)
    {
      g_autofree char *path = g_build_filename (root, proc_files[i].rel, NULL);
      g_autofree char *text = NULL;

      if (proc_files[i].fixture)
        {
          g_autofree char *from = g_test_build_filename (G_TEST_DIST, "..", "fixtures",
                                                         proc_files[i].fixture, NULL);
          g_assert_true (g_file_get_contents (from, &text, NULL, NULL));
        }
      else
        text = g_strdup (
            NET_DEV_HEAD
            "  eth0:    1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0\n");
      g_assert_true (g_file_set_contents (path, text, -1, NULL));
    }
}

static void
remove_proc (const char *root)
{
  g_autofree char *net = g_build_filename (root, "net", NULL);
  g_autofree char *psi = g_build_filename (root, "pressure", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (proc_files); i++)
    {
      g_autofree char *path = g_build_filename (root, proc_files[i].rel, NULL);
      g_unlink (path);
    }
  g_rmdir (net);
  g_rmdir (psi);
  g_rmdir (root);
}

/* The sampler keeps its /proc files open: new text goes into the same
 * inode, as the kernel's would. */
static void
rewrite_file (const char *root, const char *rel, const char *text)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  FILE *f = fopen (path, "r+");

  g_assert_nonnull (f);
  g_assert_cmpint (ftruncate (fileno (f), 0), ==, 0);
  g_assert_cmpint (fputs (text, f), >=, 0);
  g_assert_cmpint (fclose (f), ==, 0);
}

static double
record_double (GVariant *record, const char *key)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (record, key, NULL);

  g_assert_nonnull (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64))
    return (double) g_variant_get_uint64 (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    return (double) g_variant_get_uint32 (v);
  return g_variant_get_double (v);
}

static void
test_system_columns (void)
{
  g_autofree char *root = g_dir_make_tmp ("orch-sampler-XXXXXX", NULL);
  g_autoptr(OrchConfig) config = orch_config_new ();
  g_autoptr(OrchSampler) s = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autoptr(GVariant) rows = NULL;
  g_autoptr(GVariant) row = NULL;
  g_autoptr(GVariant) opts = g_variant_ref_sink (
      g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  gsize n_rows;

  g_assert_nonnull (root);
  make_proc (root);
  s = orch_sampler_new (config, root, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  /* Counters move by different amounts, so a swapped column shows. */
  rewrite_file (root, "stat",
                "cpu  90056 0 24560 422856 690 0 243 222 0 0\n"
                "cpu0 44759 0 12755 211302 477 0 107 111 0 0\n"
                "btime 1795818833\n");
  rewrite_file (
      root, "net/dev",
      NET_DEV_HEAD
      "  eth0:    3000      30    0    0    0     0          0         0     9000      90    0    0    0     0       0          0\n");
  rewrite_file (root, "pressure/cpu",
                "some avg10=12.50 avg60=0.15 avg300=1.41 total=125203831\n"
                "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  rewrite_file (root, "pressure/memory", "some avg10=3.25 avg60=0.00 avg300=0.00 total=42\n");
  g_usleep (2000);
  orch_sampler_tick (s);

  record = g_variant_ref_sink (orch_sampler_get_system (s));
  rows = orch_sampler_get_system_history (s, opts, &error);
  g_assert_no_error (error);
  g_variant_ref_sink (rows);
  n_rows = g_variant_n_children (rows);
  g_assert_cmpuint (n_rows, ==, 2);
  row = g_variant_get_child_value (rows, n_rows - 1);

  g_assert_cmpuint (g_variant_n_children (row), ==, 1 + G_N_ELEMENTS (system_series));
  g_assert_cmpfloat (record_double (row, "timestamp"), ==, record_double (record, "timestamp"));
  for (gsize i = 0; i < G_N_ELEMENTS (system_series); i++)
    {
      double want = record_double (record, system_series[i]);
      double got = record_double (row, system_series[i]);

      g_test_message ("%s: record %g, history %g", system_series[i], want, got);
      g_assert_false (isnan (got));
      /* Both come from the one sample: equal to the bit. */
      g_assert_cmpfloat (got, ==, want);
    }
  /* What the fake /proc says, not only what the record says. */
  g_assert_cmpfloat (record_double (row, "cpu_percent"), ==, 75.0);
  g_assert_cmpfloat (record_double (row, "load_5"), ==, 0.56);
  g_assert_cmpfloat (record_double (row, "pressure_cpu"), ==, 12.5);
  g_assert_cmpfloat (record_double (row, "pressure_memory"), ==, 3.25);
  g_assert_cmpfloat (record_double (row, "pressure_io"), ==, 0.0);
  g_assert_cmpfloat (record_double (row, "net_send_rate"), >, record_double (row, "net_recv_rate"));

  g_clear_pointer (&s, orch_sampler_free);
  remove_proc (root);
}

static guint
count_lines (const char *path)
{
  g_autofree char *text = NULL;
  guint n = 0;

  /* g_file_get_contents reads to EOF, whatever the file's records. */
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

static guint
n_children_of (GVariant *record, const char *key)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (record, key, NULL);

  g_assert_nonnull (v);
  return (guint) g_variant_n_children (v);
}

/* net/dev and diskstats end with their first page when it had room left
 * (seq_file); a file of more than a page is read on to its end. */
static void
test_multi_record_files (void)
{
  g_autofree char *root = g_dir_make_tmp ("orch-sampler-XXXXXX", NULL);
  g_autoptr(OrchConfig) config = orch_config_new ();
  g_autoptr(OrchSampler) s = NULL;
  g_autoptr(OrchSampler) real = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autoptr(GVariant) detailed = NULL;
  g_autoptr(GString) net = g_string_new (NET_DEV_HEAD);

  make_proc (root);
  /* 80 interfaces: over 8 KiB, so past any first page. */
  for (int i = 0; i < 80; i++)
    g_string_append_printf (
        net,
        " eth%02d:       1       1    0    0    0     0          0         0        2       1    0    0    0     0       0          0\n",
        i);
  g_assert_cmpuint (net->len, >, 8192);
  s = orch_sampler_new (config, root, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  rewrite_file (root, "net/dev", net->str);
  orch_sampler_tick (s);
  record = g_variant_ref_sink (orch_sampler_get_system (s));
  g_assert_cmpfloat (record_double (record, "net_bytes_recv"), ==, 80.0);
  g_assert_cmpfloat (record_double (record, "net_bytes_sent"), ==, 160.0);
  g_clear_pointer (&s, orch_sampler_free);
  remove_proc (root);

  /* The kernel's own files: every record of each, as a read to EOF sees. */
  real = orch_sampler_new (config, "/proc", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  orch_sampler_tick (real);
  detailed = g_variant_ref_sink (orch_sampler_get_system_detailed (real));
  g_assert_cmpuint (n_children_of (detailed, "interfaces"), ==, count_lines ("/proc/net/dev") - 2);
  g_assert_cmpuint (n_children_of (detailed, "disks"), ==, count_lines ("/proc/diskstats"));
}

/* s->disks holds a row for each line of @text, as the whole file parsed
 * gives it; returns the row of @name. */
static const DiskRow *
check_disks (OrchSampler *s, const char *text, const char *name)
{
  g_autoptr(GArray) want = NULL;
  const DiskRow *found = NULL;

  g_assert_cmpint (orch_parse_diskstats (text, strlen (text), &want), ==, 0);
  g_assert_cmpuint (s->disks->len, ==, want->len);
  for (guint i = 0; i < want->len; i++)
    {
      const OrchDiskStat *w = &g_array_index (want, OrchDiskStat, i);
      const DiskRow *r = &g_array_index (s->disks, DiskRow, i);
      g_assert_cmpmem (&r->disk, sizeof r->disk, w, sizeof *w);
      if (strcmp (r->disk.name, name) == 0)
        found = r;
    }
  g_assert_nonnull (found);
  return found;
}

static const char *
disk_line (GString *buf, const char *name, guint64 read_sectors, guint64 write_sectors)
{
  g_string_append_printf (buf,
                          " 254       0 %s 65397 19993 %" G_GUINT64_FORMAT
                          " 13252 23355 23969 %" G_GUINT64_FORMAT
                          " 25581 0 9816 39783 9972 35 639256 877 2825 72\n",
                          name, read_sectors, write_sectors);
  return buf->str;
}

/* diskstats lines that did not change are not parsed again: their rows
 * are the last ones with rates of 0, a line that changes after standing
 * still is read (and its rate given) on that reading, lines that come,
 * go or move are rows where the file has them, and a malformed line
 * fails the whole reading as before. */
static void
test_disks_unchanged_lines (void)
{
  g_autofree char *root = g_dir_make_tmp ("orch-sampler-XXXXXX", NULL);
  g_autoptr(OrchConfig) config = orch_config_new ();
  g_autoptr(OrchSampler) s = NULL;
  g_autoptr(GError) error = NULL;
  const char *loops = "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
                      "   7       1 loop1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
  g_autoptr(GString) t1 = g_string_new (loops);
  g_autoptr(GString) t2 = g_string_new (loops);
  g_autoptr(GString) t3 = g_string_new (NULL);
  g_autoptr(GString) t4 = g_string_new (NULL);
  gint64 t;
  const DiskRow *r;

  make_proc (root);
  s = orch_sampler_new (config, root, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  disk_line (t1, "vda", 1000, 2000);
  disk_line (t1, "vdb", 500, 500);
  rewrite_file (root, "diskstats", t1->str);
  t = s->disks_time_us + G_USEC_PER_SEC;
  orch_sampler_read_disks (s, t);
  r = check_disks (s, t1->str, "vdb");

  /* The same text: every row kept, no rate. */
  orch_sampler_read_disks (s, t += G_USEC_PER_SEC);
  r = check_disks (s, t1->str, "vda");
  g_assert_cmpfloat (r->read_rate, ==, 0.0);

  /* One disk moved: its rate, the others none. */
  disk_line (t2, "vda", 3000, 6000);
  disk_line (t2, "vdb", 500, 500);
  rewrite_file (root, "diskstats", t2->str);
  orch_sampler_read_disks (s, t += G_USEC_PER_SEC);
  r = check_disks (s, t2->str, "vda");
  g_assert_cmpfloat (r->read_rate, ==, 2000 * 512.0);
  g_assert_cmpfloat (r->write_rate, ==, 4000 * 512.0);
  r = check_disks (s, t2->str, "vdb");
  g_assert_cmpfloat (r->read_rate, ==, 0.0);

  /* Still again, then the one that stood still moves: read there. */
  orch_sampler_read_disks (s, t += G_USEC_PER_SEC);
  r = check_disks (s, t2->str, "vda");
  g_assert_cmpfloat (r->read_rate, ==, 0.0);
  g_string_truncate (t2, strlen (loops));
  disk_line (t2, "vda", 3000, 6000);
  disk_line (t2, "vdb", 1500, 500);
  rewrite_file (root, "diskstats", t2->str);
  orch_sampler_read_disks (s, t += 2 * G_USEC_PER_SEC);
  r = check_disks (s, t2->str, "vdb");
  g_assert_cmpfloat (r->read_rate, ==, 1000 * 512.0 / 2);
  r = check_disks (s, t2->str, "vda");
  g_assert_cmpfloat (r->read_rate, ==, 0.0);

  /* A disk added in front, one gone: every line in a new place. */
  disk_line (t3, "vdc", 7, 7);
  g_string_append (t3, loops);
  disk_line (t3, "vda", 3000, 6000);
  rewrite_file (root, "diskstats", t3->str);
  orch_sampler_read_disks (s, t += G_USEC_PER_SEC);
  r = check_disks (s, t3->str, "vdc");
  g_assert_cmpfloat (r->read_rate, ==, 0.0);
  r = check_disks (s, t3->str, "vda");
  g_assert_cmpfloat (r->read_rate, ==, 0.0);

  /* A malformed line: nothing taken from that reading; the next one
   * compares with the rows kept. */
  g_string_append (t4, t3->str);
  g_string_append (t4, " 254 0 bad 1 2\n");
  rewrite_file (root, "diskstats", t4->str);
  orch_sampler_read_disks (s, t += G_USEC_PER_SEC);
  check_disks (s, t3->str, "vda");
  g_string_truncate (t4, 0);
  disk_line (t4, "vdc", 7, 7);
  g_string_append (t4, loops);
  disk_line (t4, "vda", 4000, 6000);
  rewrite_file (root, "diskstats", t4->str);
  orch_sampler_read_disks (s, t += G_USEC_PER_SEC);
  r = check_disks (s, t4->str, "vda");
  g_assert_cmpfloat (r->read_rate, ==, 1000 * 512.0);

  g_clear_pointer (&s, orch_sampler_free);
  remove_proc (root);
}

static guint
proc_listing_count (void)
{
  g_autoptr(GDir) d = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    n += name[0] >= '1' && name[0] <= '9';
  return n;
}

/* A tick that counts the processes, its count checked against listings
 * of /proc around it (again while the host's processes move); returns
 * whether it listed /proc itself, or -1 if the host never stood still.
 * Two equal listings do not prove that nothing came and went between
 * them (a process started and gone during the tick): a count that
 * disagrees with them is tried again, and fails only when it never
 * agrees, three times or more. */
static int
count_tick (OrchSampler *s)
{
  guint disagreed = 0, last_count = 0, last_listed = 0;

  for (int i = 0; i < 100; i++)
    {
      guint64 counts = s->counts;
      guint before = proc_listing_count (), after;

      s->count_age = 0;
      orch_sampler_tick (s);
      after = proc_listing_count ();
      if (before == after && s->last.process_count == before)
        return s->counts != counts;
      if (before == after)
        {
          disagreed++;
          last_count = s->last.process_count;
          last_listed = before;
        }
      g_usleep (10000);
    }
  if (disagreed >= 3)
    g_assert_cmpuint (last_count, ==, last_listed);
  return -1;
}

static pid_t
fork_child (gboolean stay)
{
  pid_t pid = fork ();

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      if (stay)
        pause ();
      _exit (0);
    }
  if (!stay)
    g_assert_cmpint (waitpid (pid, NULL, 0), ==, pid);
  return pid;
}

/* The host's process count, kept between listings while /proc's link
 * count stands (processes came and went, as many as before): the kept
 * count and the listed one are what a listing of /proc says then, with a
 * process more or less as soon as there is one. */
static void
test_process_count_nlink (void)
{
  g_autoptr(OrchConfig) config = orch_config_new ();
  g_autoptr(OrchSampler) s = NULL;
  g_autoptr(GError) error = NULL;
  gboolean kept = FALSE;
  pid_t child;

  s = orch_sampler_new (config, "/proc", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  if (!s->nlink_counts)
    {
      g_test_skip ("not root in the initial pid namespace");
      return;
    }
  if (count_tick (s) < 0)
    {
      g_test_skip ("the host's processes do not stand still");
      return;
    }
  child = fork_child (TRUE);
  g_assert_cmpint (count_tick (s), >=, 0);
  g_assert_cmpint (kill (child, SIGKILL), ==, 0);
  g_assert_cmpint (waitpid (child, NULL, 0), ==, child);
  g_assert_cmpint (count_tick (s), >=, 0);
  /* A process forked and gone: the fork count moved, the number did not. */
  for (int i = 0; i < 20 && !kept; i++)
    {
      (void) fork_child (FALSE);
      kept = count_tick (s) == 0;
    }
  if (!kept)
    g_test_message ("the link count never stood between two counts");
  child = fork_child (TRUE);
  g_assert_cmpint (count_tick (s), >=, 0);
  g_assert_cmpint (kill (child, SIGKILL), ==, 0);
  g_assert_cmpint (waitpid (child, NULL, 0), ==, child);
  g_assert_cmpint (count_tick (s), >=, 0);
}

/* The build checks each table's length against its enum; a hole in the
 * middle (a series left out of a designated initializer) shows here. */
static void
check_keys (const char *const *keys, guint n)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < n; i++)
    {
      g_assert_nonnull (keys[i]);
      g_assert_true (g_regex_match_simple ("^[a-z][a-z0-9_]*$", keys[i], 0, 0));
      g_assert_false (g_hash_table_contains (seen, keys[i]));
      g_hash_table_add (seen, (gpointer) keys[i]);
    }
}

static void
test_series_keys (void)
{
  check_keys (orch_sampler_system_series_keys, ORCH_SYSTEM_N_SERIES);
  check_keys (orch_sampler_job_series_keys, ORCH_JOB_N_SERIES);
  /* The contract's names, in whatever column order. */
  g_assert_cmpuint (ORCH_SYSTEM_N_SERIES, ==, G_N_ELEMENTS (system_series));
  for (gsize i = 0; i < G_N_ELEMENTS (system_series); i++)
    {
      guint k = 0;
      while (k < ORCH_SYSTEM_N_SERIES &&
             strcmp (orch_sampler_system_series_keys[k], system_series[i]) != 0)
        k++;
      g_assert_cmpuint (k, <, ORCH_SYSTEM_N_SERIES);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sampler/system-columns", test_system_columns);
  g_test_add_func ("/sampler/series-keys", test_series_keys);
  g_test_add_func ("/sampler/multi-record-files", test_multi_record_files);
  g_test_add_func ("/sampler/disks-unchanged-lines", test_disks_unchanged_lines);
  g_test_add_func ("/sampler/process-count-nlink", test_process_count_nlink);
  return g_test_run ();
}
