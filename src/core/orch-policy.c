/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-policy.h"
#include "basic/orch-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *
orch_policy_match_deny (const char *const *deny, const char *const *argv,
                        const char *resolved_exec)
{
  g_autofree char *joined = g_strjoinv (" ", (char **) argv);
  g_autofree char *base = g_path_get_basename (argv[0]);
  g_autofree char *rbase = resolved_exec ? g_path_get_basename (resolved_exec) : NULL;

  for (const char *const *p = deny; p && *p; p++)
    {
      g_autoptr(GPatternSpec) pat = g_pattern_spec_new (*p);

      /* A rule with a space is about the whole command line; one without is
       * about the program, whichever way it was named. */
      if (strchr (*p, ' '))
        {
          if (g_pattern_spec_match_string (pat, joined))
            return *p;
          /* "rm -rf /" must also catch "/bin/rm -rf /". */
          if (strcmp (base, argv[0]) != 0)
            {
              g_autofree char *rest = g_strjoinv (" ", (char **) argv + 1);
              g_autofree char *alt = argv[1] ? g_strconcat (base, " ", rest, NULL) : g_strdup (base);
              if (g_pattern_spec_match_string (pat, alt))
                return *p;
            }
        }
      else if (g_pattern_spec_match_string (pat, base) ||
               (rbase && g_pattern_spec_match_string (pat, rbase)))
        return *p;
    }
  return NULL;
}

static gboolean
is_block_device (const char *path)
{
  struct stat st;

  /* Names under /dev/disk and /dev/mapper are links to block devices;
   * stat follows them. */
  return g_str_has_prefix (path, "/dev/") && stat (path, &st) == 0 && S_ISBLK (st.st_mode);
}

/* Finds, in a shell command line, a redirection target ("> /dev/sda",
 * ">>/dev/sda", "1>/dev/sda", "of=/dev/sda") that is a block device. */
static const char *
shell_writes_device (const char *text, char **ret_target)
{
  for (const char *p = text; (p = strpbrk (p, ">=")) != NULL; p++)
    {
      const char *t = p + 1;
      gsize n;
      if (*p == '=' && (p - text < 2 || strncmp (p - 2, "of", 2) != 0))
        continue;
      while (*t == '>' || *t == '|' || *t == ' ' || *t == '\t')
        t++;
      n = strcspn (t, " \t;&|)'\"\n");
      if (n > 0)
        {
          g_autofree char *target = g_strndup (t, n);
          if (is_block_device (target))
            {
              *ret_target = g_steal_pointer (&target);
              return p;
            }
        }
    }
  return NULL;
}

char *
orch_policy_device_write (const char *const *argv)
{
  g_autofree char *base = g_path_get_basename (argv[0]);
  gboolean writer = g_strv_contains ((const char *const[]){ "tee", "cp", "mv", "install", "truncate", NULL },
                                     base);

  for (guint i = 1; argv[i]; i++)
    {
      g_autofree char *target = NULL;
      /* Every argument of a program that writes its operands... */
      if (writer && argv[i][0] != '-' && is_block_device (argv[i]))
        return g_strdup (argv[i]);
      /* ...and redirections or of= anywhere (sh -c '... > /dev/sda'). */
      if (shell_writes_device (argv[i], &target))
        return g_steal_pointer (&target);
    }
  return NULL;
}

static gboolean
matches_any (const char *const *patterns, const char *const *argv, const char *resolved_exec)
{
  return orch_policy_match_deny (patterns, argv, resolved_exec) != NULL;
}

static gboolean
is_executable_file (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 && S_ISREG (st.st_mode) && access (path, X_OK) == 0;
}

char *
orch_policy_find_executable (const char *argv0, const char *path_env,
                             const char *cwd, GError **error)
{
  if (strchr (argv0, '/'))
    {
      g_autofree char *path = g_path_is_absolute (argv0)
                                  ? g_strdup (argv0)
                                  : g_build_filename (cwd ? cwd : "/", argv0, NULL);
      if (!is_executable_file (path))
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("spec field “command”: “%s” is not an executable file"), path);
          return NULL;
        }
      return g_steal_pointer (&path);
    }

  {
    g_auto(GStrv) dirs = g_strsplit (path_env ? path_env : ORCH_DEFAULT_PATH, ":", -1);
    for (char **d = dirs; *d; d++)
      {
        g_autofree char *path = NULL;
        if (**d == '\0' || !g_path_is_absolute (*d))
          continue;
        path = g_build_filename (*d, argv0, NULL);
        if (is_executable_file (path))
          return g_steal_pointer (&path);
      }
  }
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
               _("spec field “command”: executable “%s” not found in PATH"), argv0);
  return NULL;
}

static gboolean
resolve_user (OrchSpec *spec, GError **error)
{
  struct passwd pw, *res = NULL;
  g_autofree char *buf = NULL;
  long bufsize = sysconf (_SC_GETPW_R_SIZE_MAX);
  guint64 uid;
  int r;
  int ngroups = 64;
  g_autofree gid_t *groups = NULL;

  if (bufsize <= 0)
    bufsize = 16384;
  buf = g_malloc (bufsize);

  if (g_ascii_string_to_unsigned (spec->user, 10, 0, G_MAXUINT32 - 1, &uid, NULL))
    r = getpwuid_r ((uid_t) uid, &pw, buf, bufsize, &res);
  else
    r = getpwnam_r (spec->user, &pw, buf, bufsize, &res);
  if (r != 0 || res == NULL)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("spec field “user”: no such user “%s”"), spec->user);
      return FALSE;
    }

  /* The child cannot call initgroups() after fork (not async-signal-safe),
   * so the supplementary groups are looked up here. */
  groups = g_new (gid_t, ngroups);
  if (getgrouplist (pw.pw_name, pw.pw_gid, groups, &ngroups) < 0)
    {
      groups = g_renew (gid_t, groups, ngroups);
      if (getgrouplist (pw.pw_name, pw.pw_gid, groups, &ngroups) < 0)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                       _("spec field “user”: cannot read the groups of “%s”"), spec->user);
          return FALSE;
        }
    }

  spec->has_user = TRUE;
  spec->uid = pw.pw_uid;
  spec->gid = pw.pw_gid;
  g_clear_pointer (&spec->groups, g_array_unref);
  spec->groups = g_array_sized_new (FALSE, FALSE, sizeof (gid_t), ngroups);
  g_array_append_vals (spec->groups, groups, ngroups);
  g_free (spec->home);
  spec->home = g_strdup (pw.pw_dir);
  return TRUE;
}

/* The kernel refuses one argv or environment string longer than this
 * (MAX_ARG_STRLEN: 32 pages, with its NUL), with E2BIG at exec. */
#define MAX_ARG_STRLEN (32 * 4096)
/* What the launch adds to a job's exec beyond its own argv and env:
 * orchestrator-monitor's arguments and the default variables (PATH, HOME,
 * USER, LOGNAME, ORCHESTRATOR_JOB_ID, LANG), generously. */
#define LAUNCH_OVERHEAD 8192

/* What exec would refuse (E2BIG) is refused here, at Create, rather than
 * accepted and failed at launch: one string over MAX_ARG_STRLEN, or argv
 * and environment together over the ARG_MAX the kernel enforces (a
 * quarter of the stack limit).  @extra: the paths the launch adds. */
static gboolean
check_exec_size (const OrchSpec *spec, gsize extra, GError **error)
{
  long arg_max = sysconf (_SC_ARG_MAX);
  gsize total = LAUNCH_OVERHEAD + extra;
  guint count = 0;

  for (guint i = 0; spec->argv[i]; i++, count++)
    {
      gsize len = strlen (spec->argv[i]) + 1;
      if (len > MAX_ARG_STRLEN)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("spec field “command”: argument %u is %zu bytes long; the kernel runs no command with an argument over %u bytes"),
                       i, len - 1, MAX_ARG_STRLEN - 1);
          return FALSE;
        }
      total += len;
    }
  if (spec->env)
    {
      GHashTableIter it;
      gpointer k, v;

      g_hash_table_iter_init (&it, spec->env);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          gsize len = strlen (k) + 1 + strlen (v) + 1;
          if (len > MAX_ARG_STRLEN)
            {
              g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                           _("spec field “env”: variable “%s” is %zu bytes long; the kernel runs no command with a variable over %u bytes"),
                           (const char *) k, len - 1, MAX_ARG_STRLEN - 1);
              return FALSE;
            }
          total += len;
          count++;
        }
    }
  /* The kernel counts the pointers too. */
  total += (count + 16) * sizeof (char *);
  if (arg_max > 0 && total > (gsize) arg_max)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("spec fields “command” and “env”: %zu bytes together, more than the %ld bytes the kernel accepts for a command (ARG_MAX)"),
                   total, arg_max);
      return FALSE;
    }
  return TRUE;
}

gboolean
orch_policy_check (const OrchConfig *config, OrchSpec *spec, GError **error)
{
  guint nargs = g_strv_length (spec->argv);
  gsize bytes = 0;
  const char *rule;
  const char *path_env = spec->env ? g_hash_table_lookup (spec->env, "PATH") : NULL;
  g_autofree char *exec = NULL;
  struct stat st;

  if (nargs > config->max_args)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("spec field “command”: %u arguments, more than the limit of %u"),
                   nargs, config->max_args);
      return FALSE;
    }
  for (guint i = 0; i < nargs; i++)
    bytes += strlen (spec->argv[i]) + 1;
  if (bytes > config->max_arg_bytes)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("spec field “command”: %zu bytes of arguments, more than the limit of %u"),
                   bytes, config->max_arg_bytes);
      return FALSE;
    }
  if (spec->env && g_hash_table_size (spec->env) > config->max_env)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("spec field “env”: %u variables, more than the limit of %u"),
                   g_hash_table_size (spec->env), config->max_env);
      return FALSE;
    }

  if (spec->cwd && (stat (spec->cwd, &st) < 0 || !S_ISDIR (st.st_mode)))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("spec field “cwd”: “%s” is not a directory"), spec->cwd);
      return FALSE;
    }

  /* The deny list is checked before the executable is looked for, so a denied
   * command is reported as denied even where it is not installed. */
  rule = orch_policy_match_deny ((const char *const *) config->deny,
                                 (const char *const *) spec->argv, NULL);
  if (rule)
    goto denied;

  exec = orch_policy_find_executable (spec->argv[0], path_env, spec->cwd, error);
  if (exec == NULL)
    return FALSE;
  rule = orch_policy_match_deny ((const char *const *) config->deny,
                                 (const char *const *) spec->argv, exec);
  if (rule)
    goto denied;

  if (config->allow && config->allow[0] &&
      !matches_any ((const char *const *) config->allow, (const char *const *) spec->argv, exec))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_COMMAND_REJECTED,
                   _("command rejected: it matches no pattern of the allow list ([jobs] allow in the configuration)"));
      return FALSE;
    }
  if (config->deny_device_writes)
    {
      g_autofree char *device = orch_policy_device_write ((const char *const *) spec->argv);
      if (device)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_COMMAND_REJECTED,
                       _("command rejected: it writes to the block device %s ([jobs] deny_device_writes in the configuration)"),
                       device);
          return FALSE;
        }
    }

  if (spec->user && !resolve_user (spec, error))
    return FALSE;
  if (!check_exec_size (spec, strlen (exec) + (spec->cwd ? strlen (spec->cwd) : 1), error))
    return FALSE;

  g_free (spec->resolved_exec);
  spec->resolved_exec = g_steal_pointer (&exec);
  return TRUE;

denied:
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_COMMAND_REJECTED,
               _("command rejected by the deny rule “%s” ([jobs] deny in the configuration)"),
               rule);
  return FALSE;
}
