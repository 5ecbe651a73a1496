/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* orch_clone_vfork(): the child runs on the caller's memory (nothing
 * copied), the caller waits until it execs or exits, and with a cgroup2
 * fd it starts in that cgroup; with an fd that is not one, it still starts,
 * where the caller is, and says so. */
#include "basic/orch-cgroup.h"
#include "basic/orch-clone.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  volatile int written; /* set by the child, seen by the parent: shared memory */
  char cgroup[512];     /* the child's /proc/self/cgroup, read in the child */
  ssize_t cgroup_len;
} Shared;

static int
child_marks (void *data)
{
  Shared *s = data;

  s->written = 42;
  _exit (7);
}

static int
child_reads_cgroup (void *data)
{
  Shared *s = data;
  int fd = open ("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);

  s->cgroup_len = fd < 0 ? -1 : read (fd, s->cgroup, sizeof s->cgroup - 1);
  _exit (0);
}

static int
wait_status (pid_t pid)
{
  int status = -1;

  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_shares_memory (void)
{
  Shared s = { 0 };
  bool in = true;
  pid_t pid = orch_clone_vfork (child_marks, &s, -1, &in);

  g_assert_cmpint (pid, >, 0);
  g_assert_false (in);
  /* vfork semantics: it has run (and exited) by the time we are back. */
  g_assert_cmpint (s.written, ==, 42);
  g_assert_cmpint (wait_status (pid), ==, 7);
}

static void
test_not_a_cgroup (void)
{
  Shared s = { 0 };
  bool in = true;
  int fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  pid_t pid;

  g_assert_cmpint (fd, >=, 0);
  pid = orch_clone_vfork (child_marks, &s, fd, &in);
  close (fd);
  g_assert_cmpint (pid, >, 0);
  g_assert_false (in);
  g_assert_cmpint (s.written, ==, 42);
  g_assert_cmpint (wait_status (pid), ==, 7);
}

/* A new cgroup below our own in the unified tree, or NULL (not writable
 * here: skipped). */
static char *
make_cgroup (void)
{
  g_autofree char *own = NULL;
  g_autofree char *name = g_strdup_printf ("orch-test-clone-%d", (int) getpid ());
  const char *mount;
  char *dir;

  if (orch_cgroup_v2_mount (&mount) < 0 || orch_cgroup_of_pid (getpid (), &own) < 0)
    return NULL;
  dir = g_build_filename (mount, own, name, NULL);
  if (mkdir (dir, 0755) < 0)
    {
      g_free (dir);
      return NULL;
    }
  return dir;
}

static void
test_into_cgroup (void)
{
  g_autofree char *dir = make_cgroup ();
  g_autofree char *want = NULL;
  const char *mount;
  Shared s = { 0 };
  bool in = false;
  int fd;
  pid_t pid;

  if (dir == NULL)
    {
      g_test_skip ("no writable cgroup2 directory here");
      return;
    }
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  pid = orch_clone_vfork (child_reads_cgroup, &s, fd, &in);
  close (fd);
  g_assert_cmpint (pid, >, 0);
  g_assert_cmpint (wait_status (pid), ==, 0);
  g_assert_cmpint (rmdir (dir), ==, 0);
  if (!in)
    {
      /* A kernel before 5.7, or clone3 filtered: started here instead. */
      g_test_skip ("CLONE_INTO_CGROUP not available here");
      return;
    }
  /* The child saw itself in the new cgroup, from its first instruction. */
  g_assert_cmpint (s.cgroup_len, >, 0);
  g_assert_cmpint (orch_cgroup_v2_mount (&mount), ==, 0);
  want = g_strdup_printf ("0::%s\n", dir + strlen (mount));
  g_assert_nonnull (strstr (s.cgroup, want));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/clone/shares-memory", test_shares_memory);
  g_test_add_func ("/clone/not-a-cgroup", test_not_a_cgroup);
  g_test_add_func ("/clone/into-cgroup", test_into_cgroup);
  return g_test_run ();
}
