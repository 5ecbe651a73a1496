/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-launch.h"
#include "basic/orch-clone.h"
#include "basic/orch-error.h"
#include "orch-policy.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

static struct rlimit child_nofile;
static gboolean restore_nofile;

void
orch_launch_raise_nofile (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) < 0)
    return;
  /* select() breaks past FD_SETSIZE: a job starts no higher than that,
   * as systemd's services do, and may raise itself to the hard limit. */
  child_nofile = rl;
  if (child_nofile.rlim_cur > FD_SETSIZE)
    child_nofile.rlim_cur = FD_SETSIZE;
  /* The daemon keeps files of every job open: as many as it may. */
  if (rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
        g_message ("cannot raise the open-file limit to %llu: %s",
                   (unsigned long long) rl.rlim_max, g_strerror (errno));
    }
  restore_nofile = getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != child_nofile.rlim_cur;
}

const char *
orch_launch_stage_to_string (OrchLaunchStage stage)
{
  switch (stage)
    {
    case ORCH_LAUNCH_STAGE_HOLD:
      return N_("waiting to be released");
    case ORCH_LAUNCH_STAGE_STDIO:
      return N_("setting up stdout/stderr");
    case ORCH_LAUNCH_STAGE_USER:
      return N_("changing user");
    case ORCH_LAUNCH_STAGE_CWD:
      return N_("changing directory");
    case ORCH_LAUNCH_STAGE_EXEC:
      return N_("executing the command");
    case ORCH_LAUNCH_STAGE_MONITOR:
      return N_("starting orchestrator-monitor");
    case ORCH_LAUNCH_STAGE_EXIT_RECORD:
      return N_("making room for the exit record");
    default:
      return N_("starting");
    }
}

char **
orch_launch_build_env (const OrchSpec *spec, const char *job_id)
{
  g_autoptr(GHashTable) env = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GPtrArray) out = g_ptr_array_new ();
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_insert (env, (gpointer) "PATH", g_strdup (ORCH_DEFAULT_PATH));
  if (spec->has_user)
    {
      g_hash_table_insert (env, (gpointer) "HOME", g_strdup (spec->home));
      g_hash_table_insert (env, (gpointer) "USER", g_strdup (spec->user));
      g_hash_table_insert (env, (gpointer) "LOGNAME", g_strdup (spec->user));
    }
  else
    {
      g_hash_table_insert (env, (gpointer) "HOME", g_strdup (g_get_home_dir ()));
      g_hash_table_insert (env, (gpointer) "USER", g_strdup (g_get_user_name ()));
      g_hash_table_insert (env, (gpointer) "LOGNAME", g_strdup (g_get_user_name ()));
    }
  g_hash_table_insert (env, (gpointer) "ORCHESTRATOR_JOB_ID", g_strdup (job_id));
  if (g_getenv ("LANG"))
    g_hash_table_insert (env, (gpointer) "LANG", g_strdup (g_getenv ("LANG")));

  if (spec->env)
    {
      g_hash_table_iter_init (&it, spec->env);
      while (g_hash_table_iter_next (&it, &k, &v))
        g_hash_table_insert (env, k, g_strdup (v));
    }

  g_hash_table_iter_init (&it, env);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_ptr_array_add (out, g_strconcat (k, "=", v, NULL));
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

char *
orch_launch_find_monitor (void)
{
  const char *env = g_getenv ("ORCHESTRATOR_MONITOR");
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = self ? g_path_get_dirname (self) : NULL;
  g_autofree char *beside = dir ? g_build_filename (dir, "orchestrator-monitor", NULL) : NULL;

  if (env && *env)
    return g_strdup (env);
  if (beside && g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&beside);
  return g_strdup (ORCH_MONITOR_PATH);
}

/* orchestrator-monitor's argv: ID EXEC CWD UID GID GROUPS NOFILE STAMP -- ARGV. */
static char **
monitor_argv (const OrchLaunchParams *p, const char *cwd)
{
  const OrchSpec *spec = p->spec;
  GPtrArray *a = g_ptr_array_new ();

  g_ptr_array_add (a, g_strdup (p->monitor));
  g_ptr_array_add (a, g_strdup (p->job_id));
  g_ptr_array_add (a, g_strdup (spec->resolved_exec));
  g_ptr_array_add (a, g_strdup (cwd));
  if (spec->has_user)
    {
      GString *groups = g_string_new (NULL);
      for (guint i = 0; spec->groups && i < spec->groups->len; i++)
        g_string_append_printf (groups, "%s%u", i ? "," : "",
                                (guint) g_array_index (spec->groups, gid_t, i));
      if (groups->len == 0)
        g_string_append_c (groups, '-');
      g_ptr_array_add (a, g_strdup_printf ("%u", (guint) spec->uid));
      g_ptr_array_add (a, g_strdup_printf ("%u", (guint) spec->gid));
      g_ptr_array_add (a, g_string_free (groups, FALSE));
    }
  else
    {
      g_ptr_array_add (a, g_strdup ("-"));
      g_ptr_array_add (a, g_strdup ("-"));
      g_ptr_array_add (a, g_strdup ("-"));
    }
  /* select() in a job breaks past 1024 fds: it gets the usual limit. */
  if (restore_nofile)
    g_ptr_array_add (a, g_strdup_printf ("%llu:%llu", (unsigned long long) child_nofile.rlim_cur,
                                         (unsigned long long) child_nofile.rlim_max));
  else
    g_ptr_array_add (a, g_strdup ("-"));
  g_ptr_array_add (a, g_strdup (spec->log_timestamps ? "t" : "-"));
  g_ptr_array_add (a, g_strdup ("--"));
  for (char **arg = spec->argv; *arg; arg++)
    g_ptr_array_add (a, g_strdup (*arg));
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

/* Everything below runs in the child: async-signal-safe calls only. */

static void G_GNUC_NORETURN
child_fail (int status_fd, OrchLaunchStage stage)
{
  OrchLaunchMsg f = { .kind = stage, .value = errno };
  ssize_t n G_GNUC_UNUSED = write (status_fd, &f, sizeof f);
  _exit (127);
}

typedef struct {
  const OrchLaunchParams *p;
  char *const *margv;
  char *const *envp;
  int hold_fd, status_fd, null_fd;
  sigset_t ignored;
} ChildArgs;

/* The signals the daemon ignores (SIGPIPE), read at the first launch: the
 * daemon sets its dispositions at start-up, and reading them per launch
 * costs ~60 system calls. */
static const sigset_t *
ignored_signals (void)
{
  static sigset_t ignored;
  static gboolean known;

  if (!known)
    {
      sigemptyset (&ignored);
      for (int sig = 1; sig < NSIG; sig++)
        {
          struct sigaction sa;
          if (sig != SIGKILL && sig != SIGSTOP && sigaction (sig, NULL, &sa) == 0 &&
              sa.sa_handler == SIG_IGN)
            sigaddset (&ignored, sig);
        }
      known = TRUE;
    }
  return &ignored;
}

/* Runs in the child, on the daemon's memory until execve (orch-clone.h):
 * syscalls only, nothing allocated, nothing written but its own stack. */
static int
child_run (void *data)
{
  const ChildArgs *c = data;
  const OrchLaunchParams *p = c->p;
  /* In the order orchestrator-monitor expects them at fds 0 to 5. */
  int want[6] = { c->null_fd, p->stdout_fd, p->stderr_fd, p->exit_dir_fd, c->status_fd, c->hold_fd };
  int moved[6];
  bool low = false;

  /* The daemon's dispositions must not leak into the job.  execve resets
   * a handled signal, not an ignored one: only those are reset here.
   * Every signal stays blocked through the exec (a daemon handler run
   * here would run on the daemon's memory); the monitor starts so, and
   * its child unblocks them for the command. */
  for (int sig = 1; sig < NSIG; sig++)
    if (sigismember (&c->ignored, sig) == 1)
      signal (sig, SIG_DFL);

  /* Own session: no controlling terminal inherited from whoever started
   * the daemon. */
  setsid ();

  /* Into place, everything else (other jobs' pipes) closed.  Where a
   * source sits at 0 to 5 (a dup2 could overwrite it) all are moved out of
   * the way first; in the daemon they sit higher, and each move is a
   * system call on the launch's critical path. */
  for (int i = 0; i < 6; i++)
    low |= want[i] < 6;
  for (int i = 0; i < 6; i++)
    if ((moved[i] = low ? fcntl (want[i], F_DUPFD, 10) : want[i]) < 0)
      child_fail (c->status_fd, ORCH_LAUNCH_STAGE_STDIO);
  for (int i = 0; i < 6; i++)
    if (dup2 (moved[i], i) < 0)
      child_fail (moved[4], ORCH_LAUNCH_STAGE_STDIO);
  close_range (6, ~0U, 0);

  /* The monitor starts now and waits on the hold pipe itself: its exec
   * overlaps the backend's attach instead of following the release. */
  execve (c->margv[0], c->margv, c->envp);
  child_fail (ORCH_MONITOR_STATUS_FD, ORCH_LAUNCH_STAGE_MONITOR);
}

/* Every job's stdin, opened once: two system calls fewer on every
 * launch. */
static int
dev_null (void)
{
  static int fd = -1;

  if (fd < 0)
    fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  return fd;
}

gboolean
orch_launch_fork (const OrchLaunchParams *p, OrchLaunch *out, GError **error)
{
  const OrchSpec *spec = p->spec;
  g_auto(GStrv) envp = orch_launch_build_env (spec, p->job_id);
  const char *cwd = spec->cwd ? spec->cwd : "/";
  g_auto(GStrv) margv = NULL;
  int hold[2] = { -1, -1 }, status[2] = { -1, -1 };
  int null_fd;
  ChildArgs child;
  bool in_cgroup;
  pid_t pid;
  int saved;

  g_return_val_if_fail (spec->resolved_exec != NULL, FALSE);
  margv = monitor_argv (p, cwd);

  null_fd = dev_null ();
  if (null_fd < 0 || pipe2 (hold, O_CLOEXEC) < 0 || pipe2 (status, O_CLOEXEC) < 0)
    goto fail;

  child = (ChildArgs){ .p = p,
                       .margv = margv,
                       .envp = envp,
                       .hold_fd = hold[0],
                       .status_fd = status[1],
                       .null_fd = null_fd,
                       .ignored = *ignored_signals () };
  pid = orch_clone_vfork (child_run, &child, p->cgroup_fd, &in_cgroup);
  if (pid < 0)
    {
      errno = -pid;
      goto fail;
    }

  close (hold[0]);
  close (status[1]);
  (void) fcntl (status[0], F_SETFL, O_NONBLOCK);
  out->pid = pid;
  out->release_fd = hold[1];
  out->status_fd = status[0];
  out->in_cgroup = in_cgroup;
  return TRUE;

fail:
  saved = errno;
  for (int i = 0; i < 2; i++)
    {
      if (hold[i] >= 0)
        close (hold[i]);
      if (status[i] >= 0)
        close (status[i]);
    }
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot start the process: %s"),
               g_strerror (saved));
  return FALSE;
}

gboolean
orch_launch_release (OrchLaunch *launch)
{
  const char c = 'x';
  ssize_t n;

  if (launch->release_fd < 0)
    return TRUE;
  do
    n = write (launch->release_fd, &c, 1);
  while (n < 0 && errno == EINTR);
  close (launch->release_fd);
  launch->release_fd = -1;
  return n == 1;
}

void
orch_launch_clear (OrchLaunch *launch)
{
  if (launch->release_fd >= 0)
    close (launch->release_fd);
  if (launch->status_fd >= 0)
    close (launch->status_fd);
  launch->release_fd = launch->status_fd = -1;
}
