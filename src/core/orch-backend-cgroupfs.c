/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-backend.h"
#include "basic/orch-cgroup.h"
#include "basic/orch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* No systemd, but a writable cgroup2 tree: each job gets <root>/<id>.  On
 * a hybrid host, whose unified tree has no controllers, a job also gets a
 * group in the v1 memory hierarchy (beside this daemon's own), for
 * memory_max and for hearing about OOM kills. */

typedef struct {
  OrchBackend parent;
  char *root;        /* absolute directory holding the job cgroups */
  char *mount;       /* the hierarchy's mount point, prefix of root */
  char **controllers; /* enabled for the job cgroups */
  char *memory_v1;    /* directory of the jobs' v1 memory groups, or NULL */
} CgroupfsBackend;

#define V1_MEMORY_MAX_FILE "memory.limit_in_bytes"

static char *
job_dir (CgroupfsBackend *self, OrchJob *job)
{
  return g_build_filename (self->root, job->id, NULL);
}

static char *
memory_v1_dir (CgroupfsBackend *self, const char *id)
{
  return g_build_filename (self->memory_v1, id, NULL);
}

static const char *
cgroupfs_limit_missing (OrchBackend *b, OrchLimit l)
{
  CgroupfsBackend *self = (CgroupfsBackend *) b;

  /* v1 has no throttling limit like memory.high (its soft limit is not). */
  if (self->memory_v1 && l == ORCH_LIMIT_MEMORY_HIGH)
    return "memory";
  return NULL;
}

static gboolean
cgroupfs_check_spec (OrchBackend *b, const OrchSpec *spec, GError **error)
{
  CgroupfsBackend *self = (CgroupfsBackend *) b;
  OrchLimits limits;
  const char *what = NULL;
  int missing;

  orch_limits_set_in_spec (spec, &limits);
  missing = orch_limits_missing_controller (&limits, (const char *const *) self->controllers);
  if (missing >= 0)
    what = orch_limit_info (missing)->controller;
  else
    missing = orch_backend_limit_missing (b, &limits, &what);
  if (missing >= 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("spec field “%s” needs the cgroup2 “%s” controller, which %s does not have"),
                   orch_limit_info (missing)->key, what, self->root);
      return FALSE;
    }
  return TRUE;
}

/* Where limit @l of job @id is written, and the text for @value: the v2
 * file, or memory_max's v1 file on a hybrid host. */
static char *
limit_path (CgroupfsBackend *self, const char *id, OrchLimit l, guint64 value, char **ret_text)
{
  g_autofree char *dir = NULL;

  if (self->memory_v1 && l == ORCH_LIMIT_MEMORY_MAX)
    {
      dir = memory_v1_dir (self, id);
      *ret_text = value ? g_strdup_printf ("%" G_GUINT64_FORMAT, value) : g_strdup ("-1");
      return g_build_filename (dir, V1_MEMORY_MAX_FILE, NULL);
    }
  dir = g_build_filename (self->root, id, NULL);
  *ret_text = orch_limit_cgroup_text (l, value);
  return g_build_filename (dir, orch_limit_info (l)->file, NULL);
}

/* Writes each limit of @l for job @id; on a failure, puts back those
 * already written, so the group has all of them or none. */
static int
write_limits (CgroupfsBackend *self, const char *id, const OrchLimits *l, const char **ret_file)
{
  /* Freed below: g_autofree on an array frees its first element only. */
  char *old[ORCH_LIMIT_N] = { NULL };
  guint i;
  int r = 0;

  for (i = 0; i < ORCH_LIMIT_N && r == 0; i++)
    {
      g_autofree char *p = NULL;
      g_autofree char *text = NULL;

      if (!(l->mask & (1u << i)))
        continue;
      p = limit_path (self, id, i, l->value[i], &text);
      if ((r = orch_read_small_file (p, &old[i])) == 0 && (r = orch_write_file (p, text)) < 0)
        g_clear_pointer (&old[i], g_free);
      if (r < 0)
        *ret_file = orch_limit_info (i)->file;
    }
  if (r < 0)
    for (i = 0; i < ORCH_LIMIT_N; i++)
      if (old[i])
        {
          g_autofree char *unused = NULL;
          g_autofree char *p = limit_path (self, id, i, 0, &unused);
          /* io.weight reads back as "default N", cpu.max as "Q P": both
           * forms it takes again. */
          (void) orch_write_file (p, g_strstrip (old[i]));
        }
  for (i = 0; i < ORCH_LIMIT_N; i++)
    g_free (old[i]);
  return r;
}

/* The job's groups, with the spec's limits written: 0 or -errno. */
static int
make_groups (CgroupfsBackend *self, OrchJob *job, const char *dir, const char *mem_dir)
{
  OrchLimits limits;
  const char *file;

  if (mkdir (dir, 0755) < 0 && errno != EEXIST)
    return -errno;
  if (mem_dir && mkdir (mem_dir, 0755) < 0 && errno != EEXIST)
    return -errno;
  orch_limits_set_in_spec (job->spec, &limits);
  return write_limits (self, job->id, &limits, &file);
}

/* Moves @pid into the groups (unless @moved: started in the v2 one), and
 * calls @done. */
static void
finish_attach (CgroupfsBackend *self, OrchJob *job, pid_t pid, gboolean moved,
               OrchBackendAttachFunc done, gpointer data)
{
  g_autofree char *dir = job_dir (self, job);
  g_autofree char *mem_dir = self->memory_v1 ? memory_v1_dir (self, job->id) : NULL;
  g_autoptr(GError) error = NULL;
  int r = moved ? 0 : make_groups (self, job, dir, mem_dir);

  /* CLONE_INTO_CGROUP places it in the unified tree only. */
  if (r == 0 && mem_dir)
    r = orch_cgroup_attach (mem_dir, pid);
  if (r == 0 && !moved)
    r = orch_cgroup_attach (dir, pid);

  if (r < 0)
    {
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot set up cgroup %s: %s"),
                   dir, g_strerror (-r));
      (void) rmdir (dir);
      if (mem_dir)
        (void) rmdir (mem_dir);
    }
  else
    {
      g_free (job->cgroup);
      job->cgroup = g_strdup (dir + strlen (self->mount));
    }
  done (job, error, data);
}

static void
cgroupfs_attach (OrchBackend *b, OrchJob *job, pid_t pid, OrchBackendAttachFunc done, gpointer data)
{
  finish_attach ((CgroupfsBackend *) b, job, pid, FALSE, done, data);
}

static void
cgroupfs_adopt (OrchBackend *b, OrchJob *job, pid_t pid, OrchBackendAttachFunc done, gpointer data)
{
  finish_attach ((CgroupfsBackend *) b, job, pid, TRUE, done, data);
}

static int
cgroupfs_prepare (OrchBackend *b, OrchJob *job)
{
  CgroupfsBackend *self = (CgroupfsBackend *) b;
  g_autofree char *dir = job_dir (self, job);
  g_autofree char *mem_dir = self->memory_v1 ? memory_v1_dir (self, job->id) : NULL;
  int r = make_groups (self, job, dir, mem_dir);
  int fd;

  if (r < 0)
    return r;
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

static int
cgroupfs_kill (OrchBackend *b, OrchJob *job, int sig)
{
  g_autofree char *dir = job_dir ((CgroupfsBackend *) b, job);

  return orch_cgroup_kill (dir, sig);
}

static int
cgroupfs_is_empty (OrchBackend *b, OrchJob *job)
{
  g_autofree char *dir = job_dir ((CgroupfsBackend *) b, job);

  return orch_cgroup_is_empty (dir);
}

static char *
cgroupfs_events_path (OrchBackend *b, OrchJob *job)
{
  g_autofree char *dir = job_dir ((CgroupfsBackend *) b, job);

  return g_build_filename (dir, "cgroup.events", NULL);
}

static void
cgroupfs_forget (OrchBackend *b, OrchJob *job)
{
  CgroupfsBackend *self = (CgroupfsBackend *) b;
  g_autofree char *dir = job_dir (self, job);
  g_autofree char *mem_dir = self->memory_v1 ? memory_v1_dir (self, job->id) : NULL;

  if (rmdir (dir) < 0 && errno != ENOENT)
    g_warning ("cannot remove cgroup %s: %s", dir, g_strerror (errno));
  if (mem_dir && rmdir (mem_dir) < 0 && errno != ENOENT)
    g_warning ("cannot remove cgroup %s: %s", mem_dir, g_strerror (errno));
}

static void
cgroupfs_list_units (OrchBackend *b, OrchBackendUnitsFunc done, gpointer user_data)
{
  CgroupfsBackend *self = (CgroupfsBackend *) b;
  g_autoptr(GDir) dir = g_dir_open (self->root, 0, NULL);
  g_autoptr(GPtrArray) units = g_ptr_array_new ();
  const char *name;

  if (dir == NULL)
    {
      done (NULL, user_data);
      return;
    }
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (self->root, name, NULL);
      if (g_str_has_prefix (name, "job_") && g_file_test (path, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (units, g_strdup (path + strlen (self->mount)));
    }
  g_ptr_array_add (units, NULL);
  done ((char **) g_ptr_array_free (g_steal_pointer (&units), FALSE), user_data);
}

static int
cgroupfs_remove_unit (OrchBackend *b, const char *unit)
{
  CgroupfsBackend *self = (CgroupfsBackend *) b;
  g_autofree char *dir = g_build_filename (self->mount, unit, NULL);

  /* The kernel refuses (EBUSY) while a process is in it. */
  if (rmdir (dir) < 0)
    return -errno;
  if (self->memory_v1)
    {
      g_autofree char *name = g_path_get_basename (unit);
      g_autofree char *mem_dir = memory_v1_dir (self, name);
      (void) rmdir (mem_dir);
    }
  return 0;
}

static void
cgroupfs_free (OrchBackend *b)
{
  CgroupfsBackend *self = (CgroupfsBackend *) b;

  /* Leaves no empty directory behind; fails harmlessly while jobs run. */
  (void) rmdir (self->root);
  if (self->memory_v1)
    (void) rmdir (self->memory_v1);
  g_free (self->memory_v1);
  g_free (self->root);
  g_free (self->mount);
  g_strfreev (self->controllers);
  g_free (self);
}

static const char *const *
cgroupfs_controllers (OrchBackend *b)
{
  return (const char *const *) ((CgroupfsBackend *) b)->controllers;
}

static void
cgroupfs_set_limits (OrchBackend *b, OrchJob *job, const OrchLimits *limits,
                     OrchBackendLimitsFunc done, gpointer data)
{
  g_autofree char *dir = job_dir ((CgroupfsBackend *) b, job);
  g_autoptr(GError) error = NULL;
  const char *file = NULL;
  int r = write_limits ((CgroupfsBackend *) b, job->id, limits, &file);

  if (r < 0)
    g_set_error (&error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot write %s/%s: %s"), dir, file,
                 g_strerror (-r));
  done (error, data);
}

static char *
cgroupfs_memory_events_path (OrchBackend *b, OrchJob *job)
{
  CgroupfsBackend *self = (CgroupfsBackend *) b;
  g_autofree char *dir = NULL;

  if (self->memory_v1)
    {
      dir = memory_v1_dir (self, job->id);
      return g_build_filename (dir, "memory.oom_control", NULL);
    }
  if (!g_strv_contains ((const char *const *) self->controllers, "memory"))
    return NULL;
  dir = job_dir (self, job);
  return g_build_filename (dir, "memory.events", NULL);
}

static const OrchBackendOps cgroupfs_ops = {
  .name = "cgroupfs",
  .check_spec = cgroupfs_check_spec,
  .attach = cgroupfs_attach,
  .kill = cgroupfs_kill,
  .is_empty = cgroupfs_is_empty,
  .events_path = cgroupfs_events_path,
  .list_units = cgroupfs_list_units,
  .remove_unit = cgroupfs_remove_unit,
  .forget = cgroupfs_forget,
  .free = cgroupfs_free,
  .controllers = cgroupfs_controllers,
  .set_limits = cgroupfs_set_limits,
  .limit_missing = cgroupfs_limit_missing,
  .memory_events_path = cgroupfs_memory_events_path,
  .prepare = cgroupfs_prepare,
  .adopt = cgroupfs_adopt,
};

/* Enables what @dir's parent offers for @dir's children: best effort, since
 * a hybrid host's unified tree has no controllers at all. */
static char **
enable_controllers (const char *dir)
{
  static const char *const wanted[] = { "cpu", "memory", "io", "pids", NULL };
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *avail_text = NULL;
  g_autofree char *parent_ctl = g_build_filename (parent, "cgroup.subtree_control", NULL);
  g_autofree char *my_ctl = g_build_filename (dir, "cgroup.subtree_control", NULL);
  g_autofree char *my_avail = g_build_filename (dir, "cgroup.controllers", NULL);
  g_autoptr(GPtrArray) enabled = g_ptr_array_new_with_free_func (g_free);

  for (const char *const *w = wanted; *w; w++)
    {
      g_autofree char *cmd = g_strconcat ("+", *w, NULL);
      (void) orch_write_file (parent_ctl, cmd);
    }
  if (orch_read_small_file (my_avail, &avail_text) == 0)
    {
      g_auto(GStrv) avail = g_strsplit_set (g_strstrip (avail_text), " \n", -1);
      for (const char *const *w = wanted; *w; w++)
        {
          g_autofree char *cmd = g_strconcat ("+", *w, NULL);
          if (g_strv_contains ((const char *const *) avail, *w) &&
              orch_write_file (my_ctl, cmd) == 0)
            g_ptr_array_add (enabled, g_strdup (*w));
        }
    }
  g_ptr_array_add (enabled, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&enabled), FALSE);
}

/* On a hybrid host: the jobs' v1 memory groups' directory, beside this
 * daemon's own group and named as @root is, if it can be written. */
static char *
memory_v1_root (const char *root)
{
  g_autofree char *own = NULL;
  g_autofree char *name = g_path_get_basename (root);
  g_autofree char *dir = NULL;
  g_autofree char *procs = NULL;

  if (orch_cgroup_v1_own_dir ("memory", &own) < 0)
    return NULL;
  dir = g_build_filename (own, name, NULL);
  procs = g_build_filename (dir, "cgroup.procs", NULL);
  if ((mkdir (dir, 0755) < 0 && errno != EEXIST) || access (procs, W_OK) < 0)
    return NULL;
  return g_steal_pointer (&dir);
}

OrchBackend *
orch_backend_cgroupfs_new (const char *root, GError **error)
{
  CgroupfsBackend *self;
  const char *mount;
  g_autofree char *procs = g_build_filename (root, "cgroup.procs", NULL);

  if (orch_cgroup_v2_mount (&mount) < 0 || !g_str_has_prefix (root, mount) ||
      (root[strlen (mount)] != '/' && root[strlen (mount)] != '\0'))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("%s is not inside the cgroup2 hierarchy"), root);
      return NULL;
    }
  if (mkdir (root, 0755) < 0 && errno != EEXIST)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot create cgroup %s: %s"),
                   root, g_strerror (errno));
      return NULL;
    }
  if (access (procs, W_OK) < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cgroup %s is not writable: %s"),
                   root, g_strerror (errno));
      return NULL;
    }

  self = g_new0 (CgroupfsBackend, 1);
  self->parent.ops = &cgroupfs_ops;
  self->root = g_strdup (root);
  self->mount = g_strdup (mount);
  self->controllers = enable_controllers (root);
  if (!g_strv_contains ((const char *const *) self->controllers, "memory"))
    self->memory_v1 = memory_v1_root (root);
  if (self->memory_v1)
    {
      guint n = g_strv_length (self->controllers);
      self->controllers = g_renew (char *, self->controllers, n + 2);
      self->controllers[n] = g_strdup ("memory");
      self->controllers[n + 1] = NULL;
    }
  return &self->parent;
}
