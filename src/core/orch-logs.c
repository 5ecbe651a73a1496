/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-logs.h"
#include "basic/orch-error.h"
#include "basic/orch-id.h"
#include "basic/orch-log-format.h"
#include "basic/orch-log-read.h"
#include "basic/orch-vardict.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

struct _OrchLogs {
  const OrchConfig *config;
  OrchManager *manager;
  int dir_fd;
  guint rotate_source;
  int inotify_fd;         /* IN_MODIFY on the log directory, -1 without */
  GHashTable *seen;       /* live log name -> LogSeen */
  GQueue *rotations;      /* Rotation under way, the next to step first */
  guint step_source;      /* steps the rotations, while there are any */
  guint hot_source;       /* checks the hot logs, while there are any */
  guint64 ticks;
};

static gboolean rotate_tick (gpointer data);
static void logs_rotation_init (OrchLogs *logs);
static void logs_rotation_clear (OrchLogs *logs);

#define STDOUT_SUFFIX ".log"
#define STDERR_SUFFIX ".stderr.log"
/* Upper bound of [logs] rotate_keep, for finding every generation. */
#define MAX_GENERATIONS 100

OrchLogs *
orch_logs_new (const OrchConfig *config, OrchManager *manager, GError **error)
{
  int fd = open (config->log_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  OrchLogs *logs;

  if (fd < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot open log directory %s: %s"),
                   config->log_dir, g_strerror (errno));
      return NULL;
    }
  logs = g_new0 (OrchLogs, 1);
  logs->config = config;
  logs->manager = manager;
  logs->dir_fd = fd;
  logs_rotation_init (logs);
  /* Sizes are checked on the sampling tick: the daemon is not in the
   * data path, so it cannot rotate at the exact byte. */
  logs->inotify_fd = -1;
  if (config->max_log_bytes > 0)
    {
      /* Which logs were written since the last tick: only those can have
       * outgrown the cap, so a tick stats them, not every running job's. */
      logs->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
      if (logs->inotify_fd >= 0 &&
          inotify_add_watch (logs->inotify_fd, config->log_dir, IN_MODIFY | IN_ONLYDIR) < 0)
        {
          g_message ("cannot watch %s (%s): every running job's log is checked on every tick",
                     config->log_dir, g_strerror (errno));
          close (logs->inotify_fd);
          logs->inotify_fd = -1;
        }
      logs->rotate_source = g_timeout_add (config->sample_interval_ms, rotate_tick, logs);
    }
  return logs;
}

void
orch_logs_free (OrchLogs *logs)
{
  if (logs == NULL)
    return;
  if (logs->rotate_source)
    g_source_remove (logs->rotate_source);
  logs_rotation_clear (logs);
  if (logs->inotify_fd >= 0)
    close (logs->inotify_fd);
  close (logs->dir_fd);
  g_free (logs);
}

/* The file name (in the log directory) of @job's @stream log. */
static char *
stream_file (OrchJob *job, const char *stream, GError **error)
{
  gboolean separate = job->stderr_log_path != NULL;

  if (stream == NULL || *stream == '\0' || strcmp (stream, "all") == 0 ||
      strcmp (stream, "stdout") == 0)
    /* Merged: one file holds both, in arrival order.  Separate: "all"
     * cannot interleave two files, so it means stdout. */
    return g_strconcat (job->id, STDOUT_SUFFIX, NULL);
  if (strcmp (stream, "stderr") == 0)
    {
      if (!separate)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("job %s merges stderr into its one log; read stream “all”"), job->id);
          return NULL;
        }
      return g_strconcat (job->id, STDERR_SUFFIX, NULL);
    }
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
               _("option “stream”: “%s” is not one of all, stdout, stderr"), stream);
  return NULL;
}

const char *
orch_logs_stream_name (OrchJob *job, const char *stream)
{
  if (job->stderr_log_path == NULL)
    return "all";
  return stream && strcmp (stream, "stderr") == 0 ? "stderr" : "stdout";
}

static int
open_stream (OrchLogs *logs, const char *id, const char *stream, GError **error)
{
  OrchJob *job = orch_manager_lookup (logs->manager, id, error);
  g_autofree char *name = NULL;
  int fd;

  if (job == NULL)
    return -1;
  name = stream_file (job, stream, error);
  if (name == NULL)
    return -1;
  fd = openat (logs->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0)
    {
      if (errno == ENOENT)
        g_set_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND,
                     _("job %s has no log (it was deleted)"), id);
      else
        g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot open the log of job %s: %s"),
                     id, g_strerror (errno));
    }
  return fd;
}

gboolean
orch_logs_read (OrchLogs *logs, const char *id, GVariant *options, char **ret_text,
                guint64 *ret_next_offset, GError **error)
{
  OrchLogReadOptions o;
  const char *stream = NULL;
  OrchJob *job;
  gboolean ok;
  int fd;

  if (!orch_log_read_options_parse (options, logs->config->log_read_max_bytes, &o, &stream, error))
    return FALSE;

  job = orch_manager_lookup (logs->manager, id, error);
  if (job == NULL)
    return FALSE;
  /* Times are only what the monitor recorded, never made up afterwards. */
  if (o.show != ORCH_LOG_SHOW_PLAIN && !job->spec->log_timestamps)
    {
      g_set_error (
          error, ORCH_ERROR, ORCH_ERROR_INVALID_STATE,
          _("option “%s”: job %s was not created with log_timestamps, so its log holds no times"),
          o.show == ORCH_LOG_SHOW_JSON ? "format" : "timestamps", id);
      return FALSE;
    }
  fd = open_stream (logs, id, stream, error);
  if (fd < 0)
    return FALSE;
  if (job->spec->log_timestamps)
    ok = orch_log_read_records_fd (fd, &o, orch_logs_stream_name (job, stream), ret_text,
                                   ret_next_offset, error);
  else
    ok = orch_log_read_fd (fd, &o, ret_text, ret_next_offset, error);
  close (fd);
  return ok;
}

int
orch_logs_open (OrchLogs *logs, const char *id, const char *stream, GError **error)
{
  return open_stream (logs, id, stream, error);
}

/* Unlinks or truncates @name; adds what it freed.  @gone (may be NULL):
 * set when there was no such file. */
static gboolean
drop_file (OrchLogs *logs, const char *name, gboolean truncate_only, guint64 *freed, gboolean *gone,
           GError **error)
{
  struct stat st;

  if (gone)
    *gone = FALSE;
  if (fstatat (logs->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        {
          if (gone)
            *gone = TRUE;
          return TRUE;
        }
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot inspect log %s: %s"), name,
                   g_strerror (errno));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("log %s is not a regular file; left alone"), name);
      return FALSE;
    }
  if (truncate_only)
    {
      int fd = openat (logs->dir_fd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
      int r = fd < 0 ? -1 : ftruncate (fd, 0);
      int saved = errno;
      if (fd >= 0)
        close (fd);
      if (r < 0)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot truncate log %s: %s"),
                       name, g_strerror (saved));
          return FALSE;
        }
    }
  else if (unlinkat (logs->dir_fd, name, 0) < 0 && errno != ENOENT)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot remove log %s: %s"), name,
                   g_strerror (errno));
      return FALSE;
    }
  if (freed)
    *freed += (guint64) st.st_size;
  return TRUE;
}

gboolean
orch_logs_delete (OrchLogs *logs, const char *id, GError **error)
{
  OrchJob *job = orch_manager_lookup (logs->manager, id, error);
  gboolean active;
  g_autofree char *out = NULL, *err = NULL;

  if (job == NULL)
    return FALSE;
  active = orch_job_state_is_active (job->state);
  out = g_strconcat (job->id, STDOUT_SUFFIX, NULL);
  err = g_strconcat (job->id, STDERR_SUFFIX, NULL);
  if (!drop_file (logs, out, active, NULL, NULL, error) ||
      !drop_file (logs, err, active, NULL, NULL, error))
    return FALSE;
  /* Rotated generations are written by no one: they go either way.
   * Rotation shifts them up from .1, so they end at the first number
   * neither stream has (looking up all MAX_GENERATIONS names of each of
   * 9 000 jobs purged at once held the loop for 10 s). */
  for (guint i = 1; i <= MAX_GENERATIONS; i++)
    {
      g_autofree char *o = g_strdup_printf ("%s.%u", out, i);
      g_autofree char *e = g_strdup_printf ("%s.%u", err, i);
      gboolean o_gone, e_gone;

      if (!drop_file (logs, o, FALSE, NULL, &o_gone, error) ||
          !drop_file (logs, e, FALSE, NULL, &e_gone, error))
        return FALSE;
      if (o_gone && e_gone)
        break;
    }
  return TRUE;
}

/* The job id a log file name belongs to (<id>.log, <id>.stderr.log, and
 * their rotated generations <name>.N), or NULL for other files. */
static char *
id_of_log_name (const char *name)
{
  gsize len = strlen (name);
  const char *dot = strrchr (name, '.');

  if (dot && g_ascii_isdigit (dot[1]) && strspn (dot + 1, "0123456789") == strlen (dot + 1))
    len = dot - name;

  if (len == ORCH_JOB_ID_LEN + strlen (STDOUT_SUFFIX) &&
      strncmp (name + ORCH_JOB_ID_LEN, STDOUT_SUFFIX, strlen (STDOUT_SUFFIX)) == 0)
    ;
  else if (len == ORCH_JOB_ID_LEN + strlen (STDERR_SUFFIX) &&
           strncmp (name + ORCH_JOB_ID_LEN, STDERR_SUFFIX, strlen (STDERR_SUFFIX)) == 0)
    ;
  else
    return NULL;
  {
    g_autofree char *id = g_strndup (name, ORCH_JOB_ID_LEN);
    return orch_job_id_is_valid (id) ? g_steal_pointer (&id) : NULL;
  }
}

gboolean
orch_logs_cleanup (OrchLogs *logs, GVariant *options, guint *ret_removed, guint64 *ret_bytes,
                   GError **error)
{
  guint64 older_than_s = 0;
  gint64 now = g_get_real_time ();
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint removed = 0;
  guint64 freed = 0;
  DIR *d;
  struct dirent *de;
  int fd;

  if (!orch_vardict_check (options, _("option"), (const char *const[]){ "older_than_s", "t", NULL },
                           error))
    return FALSE;
  g_variant_lookup (options, "older_than_s", "t", &older_than_s);
  if (older_than_s > (guint64) G_MAXINT64 / G_USEC_PER_SEC)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("option “older_than_s”: out of range"));
      return FALSE;
    }

  /* A duplicate of the directory fd: closedir() closes what it reads. */
  fd = fcntl (logs->dir_fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot list the log directory: %s"),
                   g_strerror (errno));
      return FALSE;
    }
  rewinddir (d);
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      g_ptr_array_add (names, g_strdup (de->d_name));
  closedir (d);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *id = id_of_log_name (name);
      OrchJob *job;
      gint64 ended;
      struct stat st;

      if (id == NULL)
        continue;
      job = orch_manager_lookup (logs->manager, id, NULL);
      if (job && orch_job_state_is_active (job->state))
        continue;
      if (job)
        ended = job->finished_at;
      else if (fstatat (logs->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        ended = (gint64) st.st_mtime * G_USEC_PER_SEC;
      else
        continue;
      if (now - ended < (gint64) older_than_s * G_USEC_PER_SEC)
        continue;
      if (!drop_file (logs, name, FALSE, &freed, NULL, error))
        return FALSE;
      removed++;
    }
  *ret_removed = removed;
  *ret_bytes = freed;
  return TRUE;
}

/* ---- rotation ----
 *
 * Copy-truncate, as logrotate's copytruncate: the job keeps its O_APPEND
 * fd and goes on writing at the start of the emptied file.  The daemon is
 * not in the data path and a job can write faster than anything copies,
 * so a rotation copies at most max_log_bytes of what the log held when it
 * began (the newest bytes), ROTATE_STEP bytes per main-loop iteration,
 * then truncates: a generation never holds more than the cap, and no
 * iteration does more than one step of copying. */

/* About 0.2 ms of copying from the page cache. */
#define ROTATE_STEP ((guint64) 1 << 20)
/* The daemon's log hears of dropped bytes at most this often per log. */
#define DROP_NOTE_US (60 * G_USEC_PER_SEC)
/* A log that outran the cap is checked this often until it calms down,
 * not once a tick: what it can write past the cap shrinks with it. */
#define HOT_CHECK_MS 100
/* Forgotten logs (of jobs no longer running) are pruned every this many ticks. */
#define PRUNE_TICKS 64

#define DROP_MARK "--- orchestrator: %" G_GUINT64_FORMAT " bytes dropped here: the log outgrew max_log_bytes between two checks ---\n"

/* What the last check saw of one live log. */
typedef struct {
  guint64 size;
  gboolean rotating;
  gboolean hot;         /* outran the cap: checked every HOT_CHECK_MS */
  guint64 dropped;      /* not told yet */
  gint64 told_at;       /* monotonic */
} LogSeen;

typedef struct {
  char *name;           /* the live log */
  LogSeen *seen;        /* owned by OrchLogs.seen, kept while rotating */
  int src, dst;         /* the live log (read-write) and <name>.1 */
  guint64 from, end;    /* the part of the live log still to copy */
  guint64 room;         /* what <name>.1 may still take under the cap */
} Rotation;

static void
rotation_free (Rotation *r)
{
  close (r->src);
  close (r->dst);
  r->seen->rotating = FALSE;
  g_free (r->name);
  g_free (r);
}

static void
logs_rotation_init (OrchLogs *logs)
{
  logs->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  logs->rotations = g_queue_new ();
}

static void
logs_rotation_clear (OrchLogs *logs)
{
  if (logs->step_source)
    g_source_remove (logs->step_source);
  if (logs->hot_source)
    g_source_remove (logs->hot_source);
  logs->step_source = logs->hot_source = 0;
  if (logs->rotations)
    g_queue_free_full (logs->rotations, (GDestroyNotify) rotation_free);
  logs->rotations = NULL;
  g_clear_pointer (&logs->seen, g_hash_table_unref);
}

/* Appends to @dst_fd at most @len bytes of @src_fd from @from; returns
 * how many (fewer at the end of the file), or -errno. */
static gint64
copy_range (int src_fd, int dst_fd, guint64 from, guint64 len)
{
  loff_t in = (loff_t) from;
  guint64 done = 0;

  while (done < len)
    {
      ssize_t n = copy_file_range (src_fd, &in, dst_fd, NULL, (size_t) MIN (len - done, ROTATE_STEP), 0);
      if (n == 0)
        break;
      if (n < 0)
        {
          char buf[65536];
          ssize_t r;
          if (errno == EINTR)
            continue;
          if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
            return -errno;
          /* No copy_file_range here: plain reads and writes. */
          r = pread (src_fd, buf, (size_t) MIN (sizeof buf, len - done), in);
          if (r < 0)
            return -errno;
          if (r == 0)
            break;
          if (write (dst_fd, buf, (size_t) r) != r)
            return errno ? -errno : -EIO;
          n = r;
          in += r;
        }
      done += (guint64) n;
    }
  return (gint64) done;
}

static gboolean hot_check (gpointer data);

static void
note_dropped (OrchLogs *logs, LogSeen *seen, const char *name, guint64 bytes)
{
  gint64 now = g_get_monotonic_time ();

  seen->hot = TRUE;
  if (logs->hot_source == 0)
    logs->hot_source = g_timeout_add (MIN (HOT_CHECK_MS, logs->config->sample_interval_ms),
                                      hot_check, logs);
  seen->dropped += bytes;
  if (seen->told_at != 0 && now - seen->told_at < DROP_NOTE_US)
    return;
  g_message ("log %s: %" G_GUINT64_FORMAT " bytes dropped: the job writes more than "
             "[logs] max_log_bytes between two checks", name, seen->dropped);
  seen->dropped = 0;
  seen->told_at = now;
}

/* The copy is done: what the job wrote meanwhile goes in too if it fits
 * under the cap (a job that outran the copy loses it), then the live log
 * is emptied.  A line written between the size check and the truncate is
 * lost: a window of one bounded copy at most. */
static void
rotation_finish (OrchLogs *logs, Rotation *r)
{
  struct stat st;
  guint64 tail = 0;

  if (fstat (r->src, &st) == 0 && (guint64) st.st_size > r->end)
    {
      tail = (guint64) st.st_size - r->end;
      if (tail <= MIN (r->room, ROTATE_STEP) && copy_range (r->src, r->dst, r->end, tail) == (gint64) tail)
        tail = 0;
    }
  if (ftruncate (r->src, 0) < 0)
    {
      g_warning ("cannot truncate %s: %s", r->name, g_strerror (errno));
      return;
    }
  r->seen->size = 0;
  if (tail > 0)
    note_dropped (logs, r->seen, r->name, tail);
}

/* One step of copying, for the rotation first in line. */
static gboolean
rotate_step (gpointer data)
{
  OrchLogs *logs = data;
  Rotation *r = g_queue_pop_head (logs->rotations);
  gint64 n;

  if (r == NULL)
    {
      logs->step_source = 0;
      return G_SOURCE_REMOVE;
    }
  n = copy_range (r->src, r->dst, r->from, MIN (r->end - r->from, ROTATE_STEP));
  if (n < 0)
    {
      g_warning ("cannot rotate %s: %s", r->name, g_strerror ((int) -n));
      rotation_free (r);
    }
  else
    {
      r->from += (guint64) n;
      r->room -= MIN (r->room, (guint64) n);
      /* Shorter than it was: Logs.Delete emptied it meanwhile. */
      if (n == 0)
        r->end = r->from;
      if (r->from < r->end)
        g_queue_push_tail (logs->rotations, r);
      else
        {
          rotation_finish (logs, r);
          rotation_free (r);
        }
    }
  if (g_queue_is_empty (logs->rotations))
    {
      logs->step_source = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* <name>.N-1 becomes <name>.N, and a new <name>.1 starts with the newest
 * max_log_bytes of the @size bytes the log holds now. */
static void
rotation_start (OrchLogs *logs, const char *name, guint64 size, LogSeen *seen)
{
  guint keep = logs->config->rotate_keep;
  guint64 cap = logs->config->max_log_bytes;
  g_autofree char *first = g_strdup_printf ("%s.1", name);
  g_autofree char *mark = NULL;
  Rotation *r;
  int src, dst;

  src = openat (logs->dir_fd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (src < 0)
    return;
  if (keep == 0)
    {
      if (ftruncate (src, 0) < 0)
        g_warning ("cannot truncate %s: %s", name, g_strerror (errno));
      else
        seen->size = 0;
      close (src);
      return;
    }
  for (guint i = keep; i > 1; i--)
    {
      g_autofree char *from = g_strdup_printf ("%s.%u", name, i - 1);
      g_autofree char *to = g_strdup_printf ("%s.%u", name, i);
      if (renameat (logs->dir_fd, from, logs->dir_fd, to) < 0 && errno != ENOENT)
        g_warning ("cannot rotate %s: %s", from, g_strerror (errno));
    }
  dst = openat (logs->dir_fd, first, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (dst < 0)
    {
      g_warning ("cannot rotate %s: %s", name, g_strerror (errno));
      close (src);
      return;
    }

  r = g_new0 (Rotation, 1);
  r->name = g_strdup (name);
  r->seen = seen;
  r->src = src;
  r->dst = dst;
  r->end = size;
  r->room = cap;
  if (size > cap)
    {
      /* More than a generation holds: the newest bytes stay, after a line
       * that says how many went (its length counts under the cap). */
      guint64 from = size - cap;
      for (int i = 0; i < 4; i++)
        {
          g_free (mark);
          mark = g_strdup_printf (DROP_MARK, from);
          if (strlen (mark) >= cap || size - (cap - strlen (mark)) == from)
            break;
          from = size - (cap - strlen (mark));
        }
      if (strlen (mark) < cap && write (dst, mark, strlen (mark)) == (ssize_t) strlen (mark))
        r->room -= strlen (mark);
      else
        from = size - cap;
      r->from = from;
      note_dropped (logs, seen, name, from);
    }
  r->room -= r->end - r->from;
  seen->rotating = TRUE;
  g_queue_push_tail (logs->rotations, r);
  /* Beside the bus's source, at its priority: steps and calls take turns. */
  if (logs->step_source == 0)
    logs->step_source = g_idle_add_full (G_PRIORITY_DEFAULT, rotate_step, logs, NULL);
}

/* TRUE if @name is being rotated.  Rotates it when it has passed the cap, or would pass it before the
 * next check at the rate it grew since the last one: twice that rate, so
 * that what the job writes while the copy runs still fits under the cap. */
static gboolean
check_log (OrchLogs *logs, const char *name)
{
  guint64 cap = logs->config->max_log_bytes;
  LogSeen *seen = g_hash_table_lookup (logs->seen, name);
  guint64 size, grew;
  struct stat st;

  if (seen && seen->rotating)
    return TRUE;
  if (fstatat (logs->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
    return FALSE;
  if (seen == NULL)
    {
      seen = g_new0 (LogSeen, 1);
      g_hash_table_insert (logs->seen, g_strdup (name), seen);
    }
  size = (guint64) st.st_size;
  grew = size >= seen->size ? size - seen->size : size;
  seen->size = size;
  if (size > cap || (grew > 0 && grew > (cap - size) / 2))
    {
      rotation_start (logs, name, size, seen);
      return TRUE;
    }
  return FALSE;
}

/* The current logs (<id>.log, <id>.stderr.log) written since the last
 * call, into @names; FALSE when that is not known (no watch, or the
 * kernel's event queue overflowed). */
static gboolean
written_logs (OrchLogs *logs, GHashTable *names)
{
  char buf[4096] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
  gboolean known = logs->inotify_fd >= 0;

  while (logs->inotify_fd >= 0)
    {
      ssize_t n = read (logs->inotify_fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      for (char *p = buf; p < buf + n;)
        {
          const struct inotify_event *ev = (const struct inotify_event *) (void *) p;

          if (ev->mask & IN_Q_OVERFLOW)
            known = FALSE;
          else if (ev->len > 0 && g_str_has_suffix (ev->name, STDOUT_SUFFIX))
            g_hash_table_add (names, g_strdup (ev->name));
          p += sizeof *ev + ev->len;
        }
    }
  return known;
}

/* The job a live log name (<id>.log, <id>.stderr.log) belongs to, if it
 * runs: only running jobs grow their logs. */
static OrchJob *
running_job_of (OrchLogs *logs, const char *name)
{
  gsize suffix = strlen (g_str_has_suffix (name, STDERR_SUFFIX) ? STDERR_SUFFIX : STDOUT_SUFFIX);
  g_autofree char *id = g_strndup (name, strlen (name) - MIN (suffix, strlen (name)));
  OrchJob *job = orch_manager_lookup (logs->manager, id, NULL);

  return job && orch_job_state_is_active (job->state) ? job : NULL;
}

static void
rotate_all (OrchLogs *logs)
{
  g_autoptr(GPtrArray) jobs = orch_manager_list (logs->manager, NULL, NULL, NULL);

  for (guint i = 0; i < jobs->len; i++)
    {
      OrchJob *job = jobs->pdata[i];
      g_autofree char *out = NULL, *err = NULL;
      if (!orch_job_state_is_active (job->state))
        continue;
      out = g_strconcat (job->id, STDOUT_SUFFIX, NULL);
      check_log (logs, out);
      if (job->stderr_log_path)
        {
          err = g_strconcat (job->id, STDERR_SUFFIX, NULL);
          check_log (logs, err);
        }
    }
}

/* The logs that outran the cap, checked between ticks until one check
 * finds them under it. */
static gboolean
hot_check (gpointer data)
{
  OrchLogs *logs = data;
  GHashTableIter it;
  gpointer key, value;
  gboolean any = FALSE;

  g_hash_table_iter_init (&it, logs->seen);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      LogSeen *seen = value;
      if (!seen->hot)
        continue;
      seen->hot = running_job_of (logs, key) != NULL && check_log (logs, key);
      any |= seen->hot;
    }
  if (!any)
    logs->hot_source = 0;
  return any ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
rotate_tick (gpointer data)
{
  OrchLogs *logs = data;
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter it;
  gpointer key, value;

  if (!written_logs (logs, names))
    rotate_all (logs);
  else
    {
      g_hash_table_iter_init (&it, names);
      while (g_hash_table_iter_next (&it, &key, NULL))
        if (running_job_of (logs, key))
          check_log (logs, key);
    }

  if (++logs->ticks % PRUNE_TICKS == 0)
    {
      g_hash_table_iter_init (&it, logs->seen);
      while (g_hash_table_iter_next (&it, &key, &value))
        if (!((LogSeen *) value)->rotating && running_job_of (logs, key) == NULL)
          g_hash_table_iter_remove (&it);
    }
  return G_SOURCE_CONTINUE;
}
