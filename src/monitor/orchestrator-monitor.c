/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* orchestrator-monitor: the parent of one job's process, inside the job's
 * cgroup.  It starts the command, waits for it, and writes how it ended to
 * the state directory (write temporary file, fsync, rename), so the exit
 * status survives a daemon that is down at that moment.  Then it exits.
 *
 * Kept to libc and a few pages of memory: there is one per running job.
 *
 * The daemon execs it with:
 *   fd 0 /dev/null, fd 1 and 2 the job's log files,
 *   fd 3 the exit directory (O_DIRECTORY), fd 4 the launch status pipe,
 *   fd 5 the hold pipe: a byte once the daemon has put us in the job's
 *   cgroup (EOF: the daemon gave up, or died; we leave),
 *   argv: ID EXEC CWD UID GID GROUPS NOFILE -- ARGV...
 *   (UID, GID, GROUPS, NOFILE: "-" for unchanged; GROUPS comma-separated;
 *    NOFILE "soft:hard"), environment: the job's.
 * On the status pipe it writes the job's pid, and the child writes the
 * stage and errno if it cannot exec; EOF means the command runs. */
#include "core/orch-launch-proto.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_DIR_FD ORCH_MONITOR_EXIT_DIR_FD
#define STATUS_FD ORCH_MONITOR_STATUS_FD
#define HOLD_FD ORCH_MONITOR_HOLD_FD
#define MAX_GROUPS 1024

extern char **environ;

static void
send_msg (int kind, int value)
{
  OrchLaunchMsg msg = { .kind = kind, .value = value };
  ssize_t n;

  do
    n = write (STATUS_FD, &msg, sizeof msg);
  while (n < 0 && errno == EINTR);
}

static _Noreturn void
child_fail (int stage)
{
  send_msg (stage, errno);
  _exit (127);
}

static int
parse_id (const char *s, unsigned long *out)
{
  char *end;

  errno = 0;
  *out = strtoul (s, &end, 10);
  return errno == 0 && end != s && *end == '\0' && *out <= UINT_MAX - 1 ? 0 : -1;
}

typedef struct {
  const char *id;
  const char *exec;
  const char *cwd;
  int has_user;
  uid_t uid;
  gid_t gid;
  gid_t groups[MAX_GROUPS];
  size_t ngroups;
  int has_nofile;
  struct rlimit nofile;
  char **argv;
} Args;

static int
parse_args (int argc, char **argv, Args *a)
{
  unsigned long v, w;
  char *p, *end;

  if (argc < 10 || strcmp (argv[8], "--") != 0)
    return -1;
  a->id = argv[1];
  a->exec = argv[2];
  a->cwd = argv[3];
  if (strcmp (argv[4], "-") != 0)
    {
      if (parse_id (argv[4], &v) < 0 || parse_id (argv[5], &w) < 0)
        return -1;
      a->has_user = 1;
      a->uid = (uid_t) v;
      a->gid = (gid_t) w;
      for (p = argv[6]; strcmp (argv[6], "-") != 0 && *p; p = *end ? end + 1 : end)
        {
          errno = 0;
          v = strtoul (p, &end, 10);
          if (errno || end == p || (*end && *end != ',') || a->ngroups == MAX_GROUPS)
            return -1;
          a->groups[a->ngroups++] = (gid_t) v;
        }
    }
  if (strcmp (argv[7], "-") != 0)
    {
      errno = 0;
      v = strtoul (argv[7], &end, 10);
      if (errno || *end != ':')
        return -1;
      w = strtoul (end + 1, &p, 10);
      if (errno || *p)
        return -1;
      a->has_nofile = 1;
      a->nofile.rlim_cur = v;
      a->nofile.rlim_max = w;
    }
  a->argv = argv + 9;
  return 0;
}

/* Every id is what was asked for, and root is not coming back. */
static int
user_is (uid_t uid, gid_t gid)
{
  uid_t ru, eu, su;
  gid_t rg, eg, sg;

  if (getresuid (&ru, &eu, &su) < 0 || getresgid (&rg, &eg, &sg) < 0)
    return 0;
  if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
    return 0;
  return uid == 0 || setuid (0) < 0;
}

static _Noreturn void
run_child (const Args *a)
{
  sigset_t none;

  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  close (EXIT_DIR_FD);

  /* Its own session and process group, so the none backend can signal the
   * job without reaching this monitor. */
  setsid ();
  if (a->has_nofile)
    (void) setrlimit (RLIMIT_NOFILE, &a->nofile);
  if (a->has_user)
    {
      if (setgroups (a->ngroups, a->groups) < 0 || setresgid (a->gid, a->gid, a->gid) < 0 ||
          setresuid (a->uid, a->uid, a->uid) < 0)
        child_fail (ORCH_LAUNCH_STAGE_USER);
      /* Checked, not trusted. */
      if (!user_is (a->uid, a->gid))
        {
          errno = EPERM;
          child_fail (ORCH_LAUNCH_STAGE_USER);
        }
    }
  if (chdir (a->cwd) < 0)
    child_fail (ORCH_LAUNCH_STAGE_CWD);
  umask (022);
  execve (a->exec, a->argv, environ);
  child_fail (ORCH_LAUNCH_STAGE_EXEC);
}

/* Writes ID.exit atomically; the daemon reads and removes it. */
static int
write_exit_file (const char *id, pid_t pid, int status)
{
  char tmp[256], name[256], buf[256];
  struct timespec ts;
  int fd, len, r = 0;

  clock_gettime (CLOCK_REALTIME, &ts);
  if (snprintf (tmp, sizeof tmp, "%s.exit.tmp", id) >= (int) sizeof tmp ||
      snprintf (name, sizeof name, "%s.exit", id) >= (int) sizeof name)
    return -ENAMETOOLONG;
  len = snprintf (buf, sizeof buf, "pid=%d\nstatus=%d\nfinished_at=%lld\n", (int) pid, status,
                  (long long) ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
  fd = openat (EXIT_DIR_FD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return -errno;
  if (write (fd, buf, (size_t) len) != len || fsync (fd) < 0)
    r = -EIO;
  close (fd);
  if (r == 0 && renameat (EXIT_DIR_FD, tmp, EXIT_DIR_FD, name) < 0)
    r = -errno;
  if (r == 0)
    (void) fsync (EXIT_DIR_FD);
  else
    (void) unlinkat (EXIT_DIR_FD, tmp, 0);
  return r;
}

int
main (int argc, char **argv)
{
  static Args a;
  pid_t pid;
  int status, r;
  ssize_t n;
  char c;

  if (parse_args (argc, argv, &a) < 0 || fcntl (EXIT_DIR_FD, F_GETFD) < 0 ||
      fcntl (STATUS_FD, F_GETFD) < 0 || fcntl (HOLD_FD, F_GETFD) < 0)
    {
      fprintf (stderr, "orchestrator-monitor: started by orchestratord only\n");
      return 2;
    }
  (void) fcntl (STATUS_FD, F_SETFD, FD_CLOEXEC);
  (void) fcntl (EXIT_DIR_FD, F_SETFD, FD_CLOEXEC);

  /* Held until the daemon has put us in the job's cgroup or scope. */
  do
    n = read (HOLD_FD, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    {
      errno = n == 0 ? ECANCELED : errno;
      send_msg (ORCH_LAUNCH_STAGE_HOLD, errno);
      return 127;
    }
  close (HOLD_FD);

  /* Signals sent to the whole cgroup are meant for the job: the monitor
   * lives on to record how it ended (only SIGKILL takes it). */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
      signal (sig, SIG_IGN);

  pid = fork ();
  if (pid < 0)
    {
      send_msg (ORCH_LAUNCH_STAGE_MONITOR, errno);
      return 127;
    }
  if (pid == 0)
    run_child (&a);

  send_msg (ORCH_LAUNCH_MSG_PID, pid);
  close (STATUS_FD);
  /* Let go of the log files: only the job writes them. */
  (void) dup2 (STDIN_FILENO, STDOUT_FILENO);
  (void) dup2 (STDIN_FILENO, STDERR_FILENO);

  do
    r = waitpid (pid, &status, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return 126;

  if (write_exit_file (a.id, pid, status) < 0)
    return 125;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}
