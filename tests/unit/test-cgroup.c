/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-cgroup.h"
#include "basic/orch-proc.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static char *
fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "fixtures", name, NULL);
  char *text = NULL;

  g_assert_cmpint (orch_read_small_file (path, &text), ==, 0);
  return text;
}

static void
test_mountinfo (void)
{
  g_autofree char *hybrid = fixture ("mountinfo-hybrid");
  g_autofree char *v2 = fixture ("mountinfo-v2");
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

  g_assert_cmpint (orch_cgroup_parse_mountinfo (hybrid, &a, &b), ==, 0);
  g_assert_cmpstr (a, ==, "/sys/fs/cgroup/unified");
  g_assert_cmpstr (b, ==, "/sys/fs/cgroup/systemd");

  g_assert_cmpint (orch_cgroup_parse_mountinfo (v2, &c, &d), ==, 0);
  g_assert_cmpstr (c, ==, "/sys/fs/cgroup");
  g_assert_null (d);

  g_assert_cmpint (orch_cgroup_parse_mountinfo ("", NULL, NULL), ==, -ENOENT);
  g_assert_cmpint (orch_cgroup_parse_mountinfo ("garbage\n1 2 3\n- - -", NULL, NULL), ==, -ENOENT);
  /* Truncated in the middle of the cgroup2 line. */
  g_assert_cmpint (orch_cgroup_parse_mountinfo ("26 24 0:23 / /sys/fs/cgroup rw,nosuid - cgro", NULL, NULL), ==, -ENOENT);
}

static void
test_proc_cgroup (void)
{
  g_autofree char *hybrid = fixture ("proc-cgroup-hybrid");
  g_autofree char *v2 = fixture ("proc-cgroup-v2");
  g_autofree char *legacy = fixture ("proc-cgroup-v1-legacy");
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

  g_assert_cmpint (orch_cgroup_parse_proc_cgroup (hybrid, NULL, &a), ==, 0);
  g_assert_cmpstr (a, ==, "/");
  g_assert_cmpint (orch_cgroup_parse_proc_cgroup (hybrid, "memory", &b), ==, 0);
  g_assert_true (g_str_has_prefix (b, "/process_api/"));
  g_assert_cmpint (orch_cgroup_parse_proc_cgroup (v2, NULL, &c), ==, 0);
  g_assert_cmpstr (c, ==, "/system.slice/orchestratord.service");
  g_assert_cmpint (orch_cgroup_parse_proc_cgroup (legacy, NULL, &d), ==, -ENOENT);
  g_assert_cmpint (orch_cgroup_parse_proc_cgroup (legacy, "name=systemd", &d), ==, 0);
  g_assert_cmpstr (d, ==, "/system.slice/foo.service");
  g_assert_cmpint (orch_cgroup_parse_proc_cgroup (legacy, "cpuacct", &e), ==, 0);
  g_assert_cmpint (orch_cgroup_parse_proc_cgroup ("0::", NULL, &(char *){ NULL }), ==, -ENOENT);
  g_assert_cmpint (orch_cgroup_parse_proc_cgroup ("", NULL, &(char *){ NULL }), ==, -ENOENT);
  g_assert_cmpint (orch_cgroup_parse_proc_cgroup ("0:", NULL, &(char *){ NULL }), ==, -ENOENT);
}

static void
test_populated (void)
{
  g_autofree char *yes = fixture ("cgroup-events-populated");
  g_autofree char *no = fixture ("cgroup-events-empty");
  gboolean p = FALSE;

  g_assert_cmpint (orch_cgroup_parse_populated (yes, &p), ==, 0);
  g_assert_true (p);
  g_assert_cmpint (orch_cgroup_parse_populated (no, &p), ==, 0);
  g_assert_false (p);
  g_assert_cmpint (orch_cgroup_parse_populated ("frozen 0\n", &p), ==, -EBADMSG);
  g_assert_cmpint (orch_cgroup_parse_populated ("populated ", &p), ==, -EBADMSG);
  g_assert_cmpint (orch_cgroup_parse_populated ("populated 2\n", &p), ==, -EBADMSG);
  g_assert_cmpint (orch_cgroup_parse_populated ("", &p), ==, -EBADMSG);
}

static void
test_proc_stat (void)
{
  g_autofree char *cat = fixture ("proc-stat-cat");
  g_autofree char *weird = fixture ("proc-stat-weird-comm");
  g_autofree char *trunc = fixture ("proc-stat-truncated");
  OrchProcStat st;

  g_assert_cmpint (orch_proc_parse_stat (cat, strlen (cat), &st), ==, 0);
  g_assert_cmpstr (st.comm, ==, "cat");
  g_assert_cmpint (st.state, ==, 'R');
  g_assert_cmpint (st.pgrp, ==, st.ppid);
  g_assert_cmpuint (st.starttime, ==, 55017);
  g_assert_cmpuint (st.vsize, ==, 3133440);
  g_assert_cmpint (st.rss, ==, 365);

  g_assert_cmpint (orch_proc_parse_stat (weird, strlen (weird), &st), ==, 0);
  g_assert_cmpint (st.pid, ==, 4242);
  g_assert_cmpstr (st.comm, ==, "a (weird) name");
  g_assert_cmpint (st.ppid, ==, 1);
  g_assert_cmpuint (st.utime, ==, 25);
  g_assert_cmpuint (st.stime, ==, 7);
  g_assert_cmpint (st.num_threads, ==, 3);
  g_assert_cmpuint (st.starttime, ==, 123456);

  g_assert_cmpint (orch_proc_parse_stat (trunc, strlen (trunc), &st), ==, -EBADMSG);
  g_assert_cmpint (orch_proc_parse_stat ("", 0, &st), ==, -EBADMSG);
  g_assert_cmpint (orch_proc_parse_stat ("12 (x", 5, &st), ==, -EBADMSG);
  g_assert_cmpint (orch_proc_parse_stat (") (", 3, &st), ==, -EBADMSG);
  /* Every prefix of a good line is refused, none read past its length. */
  for (gsize n = 0; n < (gsize) (strstr (weird, " 18446744073709551615") - weird); n++)
    {
      g_autofree char *prefix = g_strndup (weird, n);
      g_assert_cmpint (orch_proc_parse_stat (prefix, n, &st), ==, -EBADMSG);
    }
}

static void
test_own_process (void)
{
  OrchProcStat st;
  g_autofree char *cg = NULL;

  g_assert_cmpint (orch_proc_read_stat (NULL, getpid (), &st), ==, 0);
  g_assert_cmpint (st.pid, ==, getpid ());
  g_assert_cmpint (st.ppid, ==, getppid ());
  g_assert_cmpint (orch_proc_pgrp_has_live (NULL, getpgrp ()), ==, 1);
  g_assert_cmpint (orch_proc_read_stat (NULL, 0x3ffffff, &st), ==, -ESRCH);
  if (orch_cgroup_of_pid (getpid (), &cg) == 0)
    g_assert_true (cg[0] == '/');
}

static void
test_oom_counts (void)
{
  guint64 oom_kill = 99, high = 99;
  g_autofree char *mount = NULL;
  const char *mountinfo = "30 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
                          "33 25 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
                          "34 25 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";

  /* cgroup v2 memory.events */
  g_assert_cmpint (orch_cgroup_parse_oom_counts ("low 0\nhigh 17\nmax 3\noom 2\noom_kill 2\n"
                                                 "oom_group_kill 0\n",
                                                 &oom_kill, &high),
                   ==, 0);
  g_assert_cmpuint (oom_kill, ==, 2);
  g_assert_cmpuint (high, ==, 17);
  /* v1 memory.oom_control: no high */
  g_assert_cmpint (orch_cgroup_parse_oom_counts ("oom_kill_disable 0\nunder_oom 0\noom_kill 5\n",
                                                 &oom_kill, &high),
                   ==, 0);
  g_assert_cmpuint (oom_kill, ==, 5);
  g_assert_cmpuint (high, ==, 0);
  /* A kernel without the counter, or a damaged line: an error, nothing set. */
  oom_kill = 7;
  g_assert_cmpint (orch_cgroup_parse_oom_counts ("low 0\nhigh 1\n", &oom_kill, NULL), ==, -EBADMSG);
  g_assert_cmpint (orch_cgroup_parse_oom_counts ("oom_kill x\n", &oom_kill, NULL), ==, -EBADMSG);
  g_assert_cmpuint (oom_kill, ==, 7);
  g_assert_cmpint (orch_cgroup_read_oom_counts ("/nonexistent/memory.events", &oom_kill, NULL), ==,
                   -ENOENT);

  g_assert_cmpint (orch_cgroup_parse_mountinfo_v1 (mountinfo, "memory", &mount), ==, 0);
  g_assert_cmpstr (mount, ==, "/sys/fs/cgroup/memory");
  g_clear_pointer (&mount, g_free);
  g_assert_cmpint (orch_cgroup_parse_mountinfo_v1 (mountinfo, "pids", &mount), ==, -ENOENT);
  g_assert_null (mount);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cgroup/mountinfo", test_mountinfo);
  g_test_add_func ("/cgroup/proc-cgroup", test_proc_cgroup);
  g_test_add_func ("/cgroup/populated", test_populated);
  g_test_add_func ("/proc/stat", test_proc_stat);
  g_test_add_func ("/proc/own-process", test_own_process);
  g_test_add_func ("/cgroup/oom-counts", test_oom_counts);
  return g_test_run ();
}
