/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* orchestrator-monitor: the parent of one job's process, inside the job's
 * cgroup.  It starts the command, waits for it, and writes how it ended to
 * the state directory (write temporary file, fsync, rename), so the exit
 * status survives a daemon that is down at that moment.  Then it exits.
 *
 * The record's file is made, with its blocks, before the command starts:
 * a disk that fills up while the job runs (a job's own log may fill it)
 * cannot keep the end from being written.  If it still cannot be written,
 * the monitor ends the way the command ended (its exit code, or its
 * signal), so the daemon, its parent, still learns the real status.
 *
 * Kept to libc and a few pages of memory: there is one per running job.
 *
 * The daemon execs it with:
 *   fd 0 /dev/null, fd 1 and 2 the job's log files,
 *   fd 3 the exit directory (O_DIRECTORY), fd 4 the launch status pipe,
 *   fd 5 the hold pipe: a byte once the daemon has put us in the job's
 *   cgroup (EOF: the daemon gave up, or died; we leave),
 *   argv: ID EXEC CWD UID GID GROUPS NOFILE STAMP -- ARGV...
 *   (UID, GID, GROUPS, NOFILE: "-" for unchanged; GROUPS comma-separated;
 *    NOFILE "soft:hard"; STAMP "t" for log_timestamps, else "-"),
 *   environment: the job's; every signal blocked, every disposition the
 *   default one.
 * On the status pipe it writes the job's pid, and the child writes the
 * stage and errno if it cannot exec; EOF means the command runs. */
#include "basic/orch-launch-proto.h"
#include "orch-monitor-stamp.h"

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
  int stamp;
  char **argv;
} Args;

static int
parse_args (int argc, char **argv, Args *a)
{
  unsigned long v, w;
  char *p, *end;

  if (argc < 11 || strcmp (argv[9], "--") != 0)
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
  a->stamp = strcmp (argv[8], "t") == 0;
  a->argv = argv + 10;
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

static OrchStamp stamp;

static _Noreturn void
run_child (const Args *a)
{
  sigset_t none;

  /* Every disposition is the default one still (the monitor ignores
   * signals only once this child has run the command), the mask is
   * all: unblocked, a stop sent before now is delivered here. */
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  close (EXIT_DIR_FD);
  if (a->stamp && orch_stamp_child (&stamp) < 0)
    child_fail (ORCH_LAUNCH_STAGE_STDIO);

  /* Its own process group, so the none backend can signal the job without
   * reaching this monitor; the parent makes it too (setpgid on both sides),
   * so the group exists by the time the daemon hears the pid.  The session
   * is the monitor's, which has no controlling terminal. */
  (void) setpgid (0, 0);
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

/* Ignored as well as blocked: queued real-time signals sent to the job's
 * group would otherwise pile up here, against the user's RLIMIT_SIGPENDING
 * (setting SIG_IGN drops those already pending).  After the status pipe's
 * EOF, so these ~60 system calls are not on the launch's critical path;
 * the command's child had its dispositions from before. */
static void
ignore_signals (void)
{
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
      signal (sig, SIG_IGN);
}

/* vfork: the command's process is not a copy of this one to build and
 * tear down again at exec; run_child() makes only system calls and never
 * returns.  A frame of its own, so no variable of main() lives across it. */
static __attribute__ ((noinline)) pid_t
spawn_command (const Args *a)
{
  pid_t pid = vfork ();

  if (pid == 0)
    run_child (a);
  return pid;
}

static char record_tmp[256];

/* Makes ID.exit.tmp with its blocks allocated, before the command runs;
 * returns its fd or -errno (no space now: the job does not start). */
static int
prepare_exit_file (const char *id)
{
  static const char zeros[ORCH_EXIT_RECORD_SPACE];
  int fd, r;

  if (snprintf (record_tmp, sizeof record_tmp, "%s" ORCH_EXIT_RECORD_TMP_SUFFIX, id) >= (int) sizeof record_tmp)
    return -ENAMETOOLONG;
  fd = openat (EXIT_DIR_FD, record_tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return -errno;
  r = fallocate (fd, 0, 0, ORCH_EXIT_RECORD_SPACE);
  /* A file system without fallocate: written zeros hold the blocks too. */
  if (r < 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
    r = pwrite (fd, zeros, sizeof zeros, 0) == (ssize_t) sizeof zeros ? 0 : -1;
  if (r < 0)
    {
      r = -errno;
      close (fd);
      (void) unlinkat (EXIT_DIR_FD, record_tmp, 0);
      return r;
    }
  return fd;
}

/* Writes ID.exit atomically into the prepared file (no new block needed),
 * then renames it; the daemon reads it and removes it. */
static int
write_exit_file (int fd, const char *id, pid_t pid, int status)
{
  char name[256], buf[256];
  struct timespec ts;
  int len;

  clock_gettime (CLOCK_REALTIME, &ts);
  if (snprintf (name, sizeof name, "%s" ORCH_EXIT_RECORD_SUFFIX, id) >= (int) sizeof name)
    return -ENAMETOOLONG;
  len = snprintf (buf, sizeof buf, ORCH_EXIT_RECORD_FORMAT, (int) pid, status,
                  (long long) ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
  if (pwrite (fd, buf, (size_t) len, 0) != len || ftruncate (fd, len) < 0 || fsync (fd) < 0)
    return -EIO;
  if (renameat (EXIT_DIR_FD, record_tmp, EXIT_DIR_FD, name) < 0)
    return -errno;
  (void) fsync (EXIT_DIR_FD);
  return 0;
}

/* Ends this process the way the command ended: the daemon reads the
 * command's status as this monitor's own. */
static _Noreturn void
exit_like (int status)
{
  struct rlimit no_core = { 0, 0 };
  sigset_t sig;

  if (WIFSIGNALED (status))
    {
      int s = WTERMSIG (status);
      (void) setrlimit (RLIMIT_CORE, &no_core);
      signal (s, SIG_DFL);
      sigemptyset (&sig);
      sigaddset (&sig, s);
      sigprocmask (SIG_UNBLOCK, &sig, NULL);
      raise (s);
      _exit (128 + s);
    }
  _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 126);
}

int
main (int argc, char **argv)
{
  static Args a;
  pid_t pid;
  int status, r, record_fd;
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

  /* While the daemon attaches us: the space for how the job ends. */
  record_fd = prepare_exit_file (a.id);
  if (record_fd < 0)
    {
      send_msg (ORCH_LAUNCH_STAGE_EXIT_RECORD, -record_fd);
      return 127;
    }

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
   * lives on to record how it ended (only SIGKILL takes it).  Blocked
   * (the daemon starts us so already) from before the fork: a blocked
   * signal waits, so a stop that reaches the child before it runs the
   * command (a Stop right after Create) is delivered when run_child()
   * unblocks it.  Ignored only once the command runs (ignore_signals()). */
  {
    sigset_t all;
    sigfillset (&all);
    sigprocmask (SIG_BLOCK, &all, NULL);
  }

  if (a.stamp)
    {
      struct stat o, e;
      /* Merged: both fds are the one log file. */
      int merged = fstat (STDOUT_FILENO, &o) == 0 && fstat (STDERR_FILENO, &e) == 0 &&
                   o.st_dev == e.st_dev && o.st_ino == e.st_ino;
      r = orch_stamp_setup (&stamp, STDOUT_FILENO, merged ? STDOUT_FILENO : STDERR_FILENO);
      if (r < 0)
        {
          send_msg (ORCH_LAUNCH_STAGE_STDIO, -r);
          return 127;
        }
    }

  pid = spawn_command (&a);
  if (pid < 0)
    {
      send_msg (ORCH_LAUNCH_STAGE_MONITOR, errno);
      return 127;
    }

  (void) setpgid (pid, pid);
  send_msg (ORCH_LAUNCH_MSG_PID, pid);
  close (STATUS_FD);
  ignore_signals ();
  if (a.stamp)
    {
      status = orch_stamp_run (&stamp, pid);
      if (status == -1)
        return 126;
    }
  else
    {
      /* Let go of the log files: only the job writes them. */
      (void) dup2 (STDIN_FILENO, STDOUT_FILENO);
      (void) dup2 (STDIN_FILENO, STDERR_FILENO);
      do
        r = waitpid (pid, &status, 0);
      while (r < 0 && errno == EINTR);
      if (r < 0)
        return 126;
    }

  (void) write_exit_file (record_fd, a.id, pid, status);
  exit_like (status);
}
