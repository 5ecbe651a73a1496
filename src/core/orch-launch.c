/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-launch.h"
#include "orch-error.h"
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
#include <sys/stat.h>
#include <unistd.h>

static struct rlimit child_nofile;
static gboolean restore_nofile;

void
orch_launch_raise_nofile (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
    return;
  child_nofile = rl;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &rl) == 0)
    restore_nofile = TRUE;
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

static int
compare_int (const void *a, const void *b)
{
  return *(const int *) a - *(const int *) b;
}

/* Everything below runs in the forked child: async-signal-safe calls only. */

static void G_GNUC_NORETURN
child_fail (int status_fd, OrchLaunchStage stage)
{
  OrchLaunchFailure f = { .stage = stage, .error = errno };
  ssize_t n G_GNUC_UNUSED = write (status_fd, &f, sizeof f);
  _exit (127);
}

/* Closes every fd from 3 up but those in @keep (sorted), so a held child
 * keeps no other job's pipes open. */
static void
child_close_others (const int *keep, int n)
{
  unsigned int from = 3;

  for (int i = 0; i < n; i++)
    {
      if (keep[i] < (int) from)
        continue;
      if (keep[i] > (int) from)
        close_range (from, (unsigned int) keep[i] - 1, 0);
      from = (unsigned int) keep[i] + 1;
    }
  close_range (from, ~0U, 0);
}

static gboolean
child_user_is (uid_t uid, gid_t gid)
{
  uid_t ru, eu, su;
  gid_t rg, eg, sg;

  if (getresuid (&ru, &eu, &su) < 0 || getresgid (&rg, &eg, &sg) < 0)
    return FALSE;
  if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
    return FALSE;
  return uid == 0 || setuid (0) < 0;
}

static void G_GNUC_NORETURN
child_run (const OrchLaunchParams *p, const char *const *argv, char *const *envp,
           const gid_t *groups, size_t ngroups, const char *cwd,
           int hold_fd, int status_fd, int null_fd)
{
  const OrchSpec *spec = p->spec;
  int keep[5] = { hold_fd, status_fd, null_fd, p->stdout_fd, p->stderr_fd };
  sigset_t all;
  char c;
  ssize_t n;

  /* GLib and the daemon's signal handlers must not leak into the job. */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);

  qsort (keep, G_N_ELEMENTS (keep), sizeof (int), compare_int);
  child_close_others (keep, G_N_ELEMENTS (keep));

  /* Own session and process group: the none backend's unit of signalling,
   * and no controlling terminal inherited from whoever started the daemon. */
  setsid ();

  do
    n = read (hold_fd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    {
      errno = n == 0 ? ECANCELED : errno;
      child_fail (status_fd, ORCH_LAUNCH_STAGE_HOLD);
    }

  /* select() in a job breaks past 1024 fds: it gets the usual limit. */
  if (restore_nofile)
    (void) setrlimit (RLIMIT_NOFILE, &child_nofile);

  if (dup2 (null_fd, STDIN_FILENO) < 0 ||
      dup2 (p->stdout_fd, STDOUT_FILENO) < 0 ||
      dup2 (p->stderr_fd, STDERR_FILENO) < 0)
    child_fail (status_fd, ORCH_LAUNCH_STAGE_STDIO);

  if (spec->has_user)
    {
      if (setgroups (ngroups, groups) < 0 || setresgid (spec->gid, spec->gid, spec->gid) < 0 ||
          setresuid (spec->uid, spec->uid, spec->uid) < 0)
        child_fail (status_fd, ORCH_LAUNCH_STAGE_USER);
      /* Checked, not trusted: every id changed, and root is not coming back. */
      if (!child_user_is (spec->uid, spec->gid))
        {
          errno = EPERM;
          child_fail (status_fd, ORCH_LAUNCH_STAGE_USER);
        }
    }

  if (chdir (cwd) < 0)
    child_fail (status_fd, ORCH_LAUNCH_STAGE_CWD);

  umask (022);
  execve (spec->resolved_exec, (char *const *) argv, envp);
  child_fail (status_fd, ORCH_LAUNCH_STAGE_EXEC);
}

gboolean
orch_launch_fork (const OrchLaunchParams *p, OrchLaunch *out, GError **error)
{
  const OrchSpec *spec = p->spec;
  g_auto(GStrv) envp = orch_launch_build_env (spec, p->job_id);
  const char *cwd = spec->cwd ? spec->cwd : (spec->has_user ? "/" : "/");
  int hold[2] = { -1, -1 }, status[2] = { -1, -1 };
  int null_fd;
  pid_t pid;
  int saved;

  g_return_val_if_fail (spec->resolved_exec != NULL, FALSE);

  null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || pipe2 (hold, O_CLOEXEC) < 0 || pipe2 (status, O_CLOEXEC) < 0)
    goto fail;

  pid = fork ();
  if (pid < 0)
    goto fail;
  if (pid == 0)
    child_run (p, (const char *const *) spec->argv, envp,
               spec->groups ? (const gid_t *) spec->groups->data : NULL,
               spec->groups ? spec->groups->len : 0, cwd, hold[0], status[1], null_fd);

  close (hold[0]);
  close (status[1]);
  close (null_fd);
  out->pid = pid;
  out->release_fd = hold[1];
  out->status_fd = status[0];
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
  if (null_fd >= 0)
    close (null_fd);
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
