/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-cgroup.h"
#include "orch-fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
orch_cgroup_parse_mountinfo (const char *text, char **ret_cgroup2, char **ret_named_systemd)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *v2 = NULL, *named = NULL;

  for (char **l = lines; *l; l++)
    {
      /* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
      g_auto(GStrv) f = g_strsplit (*l, " ", -1);
      guint n = g_strv_length (f), sep;
      g_autofree char *mp = NULL;

      if (n < 7)
        continue;
      for (sep = 6; sep < n && strcmp (f[sep], "-") != 0; sep++)
        ;
      if (sep + 1 >= n)
        continue;
      mp = g_strcompress (f[4]); /* \040 escapes */
      if (strcmp (f[sep + 1], "cgroup2") == 0 && v2 == NULL)
        v2 = g_steal_pointer (&mp);
      else if (strcmp (f[sep + 1], "cgroup") == 0 && sep + 3 < n &&
               strstr (f[sep + 3], "name=systemd") && named == NULL)
        named = g_steal_pointer (&mp);
    }
  if (v2 == NULL && named == NULL)
    return -ENOENT;
  if (ret_cgroup2)
    *ret_cgroup2 = g_steal_pointer (&v2);
  if (ret_named_systemd)
    *ret_named_systemd = g_steal_pointer (&named);
  return 0;
}

int
orch_cgroup_parse_proc_cgroup (const char *text, const char *controller, char **ret_path)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (char **l = lines; *l; l++)
    {
      /* hierarchy-id:controller-list:path; the path may itself hold ':' */
      char *c1 = strchr (*l, ':'), *c2;
      if (c1 == NULL || (c2 = strchr (c1 + 1, ':')) == NULL || c2[1] != '/')
        continue;
      if (controller == NULL)
        {
          if (strncmp (*l, "0:", 2) != 0 || c2 != c1 + 1)
            continue;
        }
      else
        {
          g_autofree char *list = g_strndup (c1 + 1, c2 - c1 - 1);
          g_auto(GStrv) ctrls = g_strsplit (list, ",", -1);
          if (!g_strv_contains ((const char *const *) ctrls, controller))
            continue;
        }
      *ret_path = g_strdup (c2 + 1);
      return 0;
    }
  return -ENOENT;
}

int
orch_cgroup_parse_populated (const char *text, gboolean *ret_populated)
{
  const char *p = text;

  while (p && *p)
    {
      if (strncmp (p, "populated ", 10) == 0 && (p[10] == '0' || p[10] == '1') &&
          (p[11] == '\n' || p[11] == '\0'))
        {
          *ret_populated = p[10] == '1';
          return 0;
        }
      p = strchr (p, '\n');
      if (p)
        p++;
    }
  return -EBADMSG;
}

int
orch_cgroup_v2_mount (const char **ret)
{
  static char *cached = NULL;
  static gboolean looked = FALSE;

  if (!looked)
    {
      g_autofree char *text = NULL;
      looked = TRUE;
      if (orch_read_small_file ("/proc/self/mountinfo", &text) == 0)
        (void) orch_cgroup_parse_mountinfo (text, &cached, NULL);
    }
  if (cached == NULL)
    return -ENOENT;
  *ret = cached;
  return 0;
}

int
orch_cgroup_is_empty (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "cgroup.procs", NULL);
  g_autofree char *text = NULL;
  int r = orch_read_small_file (path, &text);

  if (r == -ENOENT || r == -ENODEV)
    return 1; /* the cgroup is gone, so it is empty */
  if (r < 0)
    return r;
  return text[0] == '\0';
}

int
orch_cgroup_attach (const char *dir, pid_t pid)
{
  g_autofree char *path = g_build_filename (dir, "cgroup.procs", NULL);
  char buf[32];

  g_snprintf (buf, sizeof buf, "%d\n", (int) pid);
  return orch_write_file (path, buf);
}

void
orch_cgroup_parse_pids (const char *text, GArray *pids)
{
  const char *p;
  char *end;

  g_array_set_size (pids, 0);
  for (p = text; *p; p = end)
    {
      long v = strtol (p, &end, 10);
      if (end == p)
        break;
      if (v > 0)
        {
          pid_t pid = (pid_t) v;
          g_array_append_val (pids, pid);
        }
      while (*end == '\n')
        end++;
    }
}

int
orch_cgroup_pids (const char *dir, GArray **ret_pids)
{
  g_autofree char *path = g_build_filename (dir, "cgroup.procs", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GArray) pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  int r = orch_read_small_file (path, &text);

  if (r < 0)
    return r;
  orch_cgroup_parse_pids (text, pids);
  *ret_pids = g_steal_pointer (&pids);
  return 0;
}

int
orch_cgroup_kill (const char *dir, int sig)
{
  g_autoptr(GArray) pids = NULL;
  int r;

  if (sig == SIGKILL)
    {
      g_autofree char *kill_path = g_build_filename (dir, "cgroup.kill", NULL);
      r = orch_write_file (kill_path, "1");
      if (r != -ENOENT)
        return r;
    }

  r = orch_cgroup_pids (dir, &pids);
  if (r < 0)
    return r;
  for (guint i = 0; i < pids->len; i++)
    if (kill (g_array_index (pids, pid_t, i), sig) < 0 && errno != ESRCH)
      r = -errno;
  return r;
}

int
orch_cgroup_of_pid (pid_t pid, char **ret_path)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/cgroup", (int) pid);
  g_autofree char *text = NULL;
  int r = orch_read_small_file (path, &text);

  if (r < 0)
    return r;
  r = orch_cgroup_parse_proc_cgroup (text, NULL, ret_path);
  if (r < 0)
    r = orch_cgroup_parse_proc_cgroup (text, "name=systemd", ret_path);
  return r;
}

int
orch_cgroup_parse_mountinfo_v1 (const char *text, const char *controller, char **ret_mount)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (char **l = lines; *l; l++)
    {
      g_auto(GStrv) f = g_strsplit (*l, " ", -1);
      guint n = g_strv_length (f), sep;

      if (n < 7)
        continue;
      for (sep = 6; sep < n && strcmp (f[sep], "-") != 0; sep++)
        ;
      if (sep + 3 >= n || strcmp (f[sep + 1], "cgroup") != 0)
        continue;
      {
        g_auto(GStrv) opts = g_strsplit (f[sep + 3], ",", -1);
        if (g_strv_contains ((const char *const *) opts, controller))
          {
            *ret_mount = g_strcompress (f[4]);
            return 0;
          }
      }
    }
  return -ENOENT;
}

int
orch_cgroup_v1_own_dir (const char *controller, char **ret_dir)
{
  g_autofree char *mountinfo = NULL;
  g_autofree char *cgroups = NULL;
  g_autofree char *mount = NULL;
  g_autofree char *path = NULL;
  int r;

  if ((r = orch_read_small_file ("/proc/self/mountinfo", &mountinfo)) < 0 ||
      (r = orch_read_small_file ("/proc/self/cgroup", &cgroups)) < 0 ||
      (r = orch_cgroup_parse_mountinfo_v1 (mountinfo, controller, &mount)) < 0 ||
      (r = orch_cgroup_parse_proc_cgroup (cgroups, controller, &path)) < 0)
    return r;
  *ret_dir = g_build_filename (mount, path, NULL);
  return 0;
}

int
orch_cgroup_parse_oom_counts (const char *text, guint64 *ret_oom_kill, guint64 *ret_high)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  gboolean have_oom_kill = FALSE;
  guint64 oom_kill = 0, high = 0;

  for (char **l = lines; *l; l++)
    {
      const char *sp = strchr (*l, ' ');
      guint64 *into;
      char *end;
      guint64 v;

      if (sp == NULL)
        continue;
      if ((size_t) (sp - *l) == strlen ("oom_kill") && strncmp (*l, "oom_kill", sp - *l) == 0)
        into = &oom_kill;
      else if ((size_t) (sp - *l) == strlen ("high") && strncmp (*l, "high", sp - *l) == 0)
        into = &high;
      else
        continue;
      errno = 0;
      v = g_ascii_strtoull (sp + 1, &end, 10);
      if (errno != 0 || end == sp + 1 || (*end != '\0' && *end != '\n'))
        return -EBADMSG;
      *into = v;
      if (into == &oom_kill)
        have_oom_kill = TRUE;
    }
  if (!have_oom_kill)
    return -EBADMSG;
  *ret_oom_kill = oom_kill;
  if (ret_high)
    *ret_high = high;
  return 0;
}

int
orch_cgroup_read_oom_counts (const char *path, guint64 *ret_oom_kill, guint64 *ret_high)
{
  g_autofree char *text = NULL;
  int r = orch_read_small_file (path, &text);

  if (r < 0)
    return r;
  return orch_cgroup_parse_oom_counts (text, ret_oom_kill, ret_high);
}
