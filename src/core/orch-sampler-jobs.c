/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Each job's figures: its cgroup files (or its processes' /proc files)
 * kept open across ticks within the fd budget, its history ring. */
#include "config.h"

#include "orch-sampler-private.h"
#include "orch-history-prefill.h"
#include "basic/orch-cgroup.h"
#include "basic/orch-fd-budget.h"
#include "basic/orch-proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Big enough for any per-job file; cgroup.procs of a huge job is cut. */
#define SCRATCH_SIZE (64 * 1024)

static void
job_entry_close (JobEntry *e)
{
  orch_job_files_close (&e->files);
  e->open = FALSE;
}

static void
job_entry_open (JobEntry *e)
{
  const char *mount;

  if (e->cgroup && e->cgroup[0] && orch_cgroup_v2_mount (&mount) == 0)
    {
      g_autofree char *dir = g_build_filename (mount, e->cgroup, NULL);
      orch_job_files_open (&e->files, dir);
    }
  else
    orch_job_files_open (&e->files, NULL);
  e->open = TRUE;
}

/* Between ticks for an uncached job: fds closed, what was read kept. */
static void
job_entry_release (JobEntry *e)
{
  orch_job_files_release (&e->files);
  e->open = FALSE;
}

static void job_tree_release (JobTree **t);

static void
job_entry_free (JobEntry *e)
{
  job_tree_release (&e->tree);
  job_entry_close (e);
  g_free (e->cgroup);
  orch_ring_free (e->history);
  g_free (e);
}

/* A process no job holds, as the last scans saw it. */
typedef struct {
  ino_t ino;    /* of its /proc directory: a reused pid has another */
  pid_t pgrp;   /* 0: a zombie */
  guint reads;  /* scans since its stat was read */
  guint64 scan; /* the last scan that saw it */
} Foreign;

/* A foreign process's stat is read again every this many scans, in case
 * it changed its group: those of jobs' processes are always fresh. */
#define FOREIGN_REREAD_SCANS 10

/* pgid -> GArray of pids, for jobs without a cgroup (none backend): one
 * /proc scan serves them all.  The processes of jobs were read this tick
 * or the last through their kept fds, so their group is known; the other
 * processes on the host are remembered by the inode of their /proc
 * directory, so only new ones have their stat file opened.  The scan
 * counts the processes too. */
static GHashTable *
scan_process_groups (OrchSampler *s)
{
  GHashTable *groups = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_array_unref);
  g_autoptr(GHashTable) known = g_hash_table_new (NULL, NULL);
  GHashTableIter it;
  gpointer value;
  struct dirent *de;
  guint count = 0;

  if (s->proc_dir == NULL)
    return groups;
  s->scans++;
  g_hash_table_iter_init (&it, s->jobs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      const JobEntry *e = value;
      for (guint i = 0; e->files.procs && i < e->files.procs->len; i++)
        {
          const OrchPidFiles *p = &g_array_index (e->files.procs, OrchPidFiles, i);
          if (p->pgrp > 0)
            g_hash_table_insert (known, GINT_TO_POINTER (p->pid), GINT_TO_POINTER (p->pgrp));
        }
    }
  rewinddir (s->proc_dir);
  while ((de = readdir (s->proc_dir)))
    {
      OrchProcStat st;
      char *end;
      long pid = strtol (de->d_name, &end, 10);
      pid_t pgrp;
      GArray *pids;

      if (*end || pid <= 0 || pid > G_MAXINT32)
        continue;
      count++;
      pgrp = GPOINTER_TO_INT (g_hash_table_lookup (known, GINT_TO_POINTER (pid)));
      if (pgrp == 0)
        {
          Foreign *f = g_hash_table_lookup (s->foreign, GINT_TO_POINTER (pid));
          if (f == NULL || f->ino != de->d_ino || ++f->reads >= FOREIGN_REREAD_SCANS)
            {
              if (orch_proc_read_stat_at (dirfd (s->proc_dir), (pid_t) pid, s->scratch,
                                          SCRATCH_SIZE, &st) < 0)
                continue;
              if (f == NULL)
                {
                  f = g_new0 (Foreign, 1);
                  g_hash_table_insert (s->foreign, GINT_TO_POINTER (pid), f);
                }
              f->ino = de->d_ino;
              f->pgrp = st.state == 'Z' ? 0 : st.pgrp;
              f->reads = 0;
            }
          f->scan = s->scans;
          pgrp = f->pgrp;
          if (pgrp == 0)
            continue;
        }
      pids = g_hash_table_lookup (groups, GINT_TO_POINTER (pgrp));
      if (pids == NULL)
        {
          pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
          g_hash_table_insert (groups, GINT_TO_POINTER (pgrp), pids);
        }
      g_array_append_vals (pids, &(pid_t){ (pid_t) pid }, 1);
    }
  /* Forget the processes that are gone. */
  g_hash_table_iter_init (&it, s->foreign);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((Foreign *) value)->scan != s->scans)
      g_hash_table_iter_remove (&it);
  s->process_count = count;
  s->count_age = 1;
  s->count_nlink = 0; /* this count is not of that link count */
  return groups;
}

static void
job_tree_free (JobTree *t)
{
  if (t->fd >= 0)
    close (t->fd);
  g_free (t);
}

/* A tree lives while a running job in it is sampled: its fd is not held
 * for a slice or group removed since, nor counted as the daemon's own
 * once its last job ended. */
static void
job_tree_release (JobTree **t)
{
  JobTree *tree = *t;

  *t = NULL;
  if (tree && --tree->refs == 0)
    g_hash_table_remove (tree->owner, tree->path);
}

/* The tree of the cgroup that holds @cgroup (relative to the cgroup2
 * mount), a reference; NULL for one at the top, whose parent is the whole
 * host. */
static JobTree *
job_tree_for (OrchSampler *s, const char *cgroup)
{
  g_autofree char *parent = NULL;
  const char *mount;
  JobTree *t;

  if (cgroup == NULL || cgroup[0] == '\0' || orch_cgroup_v2_mount (&mount) < 0)
    return NULL;
  parent = g_path_get_dirname (cgroup);
  if (strcmp (parent, "/") == 0 || strcmp (parent, ".") == 0)
    return NULL;
  t = g_hash_table_lookup (s->trees, parent);
  if (t == NULL)
    {
      g_autofree char *path = g_build_filename (mount, parent, "cpu.stat", NULL);
      t = g_new0 (JobTree, 1);
      t->fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      t->owner = s->trees;
      t->path = parent;
      g_hash_table_insert (s->trees, g_steal_pointer (&parent), t);
    }
  t->refs++;
  return t;
}

/* Whether nothing under @t has run since the tick before: read once a
 * tick, before the first of its jobs, so any run after a job's last read
 * shows in the next reading. */
static gboolean
job_tree_quiet (OrchSampler *s, JobTree *t)
{
  if (t == NULL || t->fd < 0)
    return FALSE;
  if (t->tick != s->ticks || !t->have)
    {
      OrchCgroupCpuStat cpu;
      ssize_t n = pread (t->fd, s->scratch, SCRATCH_SIZE - 1, 0);
      gboolean ok = n > 0 && orch_parse_cgroup_cpu_stat (s->scratch, (gsize) n, &cpu) == 0;

      t->quiet = ok && t->have && cpu.usage_usec == t->usage_usec;
      t->have = ok;
      t->usage_usec = ok ? cpu.usage_usec : 0;
      t->tick = s->ticks;
    }
  return t->quiet;
}

/* @pos: the job's place in the manager's list, G_MAXUINT outside a tick.
 * The list keeps its order, so the entry found there last tick is mostly
 * the one: no hashing of the id. */
static JobEntry *
job_entry_for (OrchSampler *s, OrchJob *job, guint pos)
{
  JobEntry *e = NULL;

  if (pos < s->by_pos->len)
    {
      JobEntry *c = s->by_pos->pdata[pos];
      if (c && c->job == job && strcmp (c->id, job->id) == 0)
        e = c;
    }
  if (e == NULL)
    e = g_hash_table_lookup (s->jobs, job->id);
  if (e == NULL)
    {
      char *id = g_strdup (job->id);

      e = g_new0 (JobEntry, 1);
      e->run = -1; /* so the files are opened below */
      e->files.dir_fd = -1;
      for (int i = 0; i < ORCH_CG_N_FILES; i++)
        e->files.cg[i] = -1;
      e->history = orch_ring_new (ORCH_JOB_N_SERIES, s->config->job_history_size,
                                  s->config->job_history_coarse_size,
                                  s->config->job_history_coarse_step_s);
      e->id = id;
      g_hash_table_insert (s->jobs, id, e);
    }
  e->job = job;
  if (pos != G_MAXUINT)
    {
      if (pos >= s->by_pos->len)
        g_ptr_array_set_size (s->by_pos, pos + 1);
      s->by_pos->pdata[pos] = e;
    }
  /* A new run (restart), or a cgroup learned since: start over. */
  if (e->run != job->started_at || g_strcmp0 (e->cgroup, job->cgroup) != 0)
    {
      job_entry_close (e);
      g_free (e->cgroup);
      e->cgroup = g_strdup (job->cgroup);
      job_tree_release (&e->tree);
      e->tree = job_tree_for (s, e->cgroup);
      e->idle_reads = 0;
      e->run = job->started_at;
      e->time_us = 0;
      e->peak_seen = 0;
      memset (&e->stats, 0, sizeof e->stats);
      /* Opened in sample_job(); kept only while fds are not short. */
      e->uncached = s->fds_tight || s->cached_fds + ORCH_CG_N_FILES + 1 > s->fd_cap;
    }
  return e;
}

/* Rescanned every this many ticks: a job's process group rarely changes,
 * and a scan reads every process on the host. */
#define GROUP_SCAN_TICKS 10

static void
sample_job_files (OrchSampler *s, OrchJob *job, JobEntry *e, gboolean refresh, OrchJobStats *now);
static JobEntry *
record_sample (OrchSampler *s, OrchJob *job, JobEntry *e, const OrchJobStats *now, gint64 t);

static JobEntry *
sample_job (OrchSampler *s, OrchJob *job, guint pos)
{
  JobEntry *e = job_entry_for (s, job, pos);
  OrchJobStats now;
  gboolean refresh;

  e->seen = s->ticks;
  /* An uncached job's files, released last tick, open only if this tick
   * reads them (its processes' files as they are read). */
  if (!e->open && (!e->uncached || !e->files.released))
    job_entry_open (e);
  refresh = orch_job_files_tick (&e->files);

  /* Nothing under the job's parent ran: its figures stand, but for the
   * memory of a refresh tick.  A full read all the same now and then, for
   * what changes without running (a process moved in from outside). */
  if (pos != G_MAXUINT && job_tree_quiet (s, e->tree) && e->time_us > 0 &&
      (!refresh || ++e->idle_reads < ORCH_JOB_PIDS_MAX_SKIPS))
    {
      if (refresh && !e->open)
        job_entry_open (e);
      orch_job_stats_read_idle (&e->files, &e->stats, refresh, s->scratch, SCRATCH_SIZE, &now);
    }
  else
    {
      e->idle_reads = 0;
      if (!e->open)
        job_entry_open (e);
      sample_job_files (s, job, e, refresh, &now);
    }
  /* Counted either way: what it would hold if cached again. */
  e->n_fds = orch_job_files_count (&e->files);
  if (e->uncached)
    job_entry_release (e);
  /* A tick's samples share its time: one clock read a tick, not one a
   * job, and every job's history has the same times. */
  return record_sample (s, job, e, &now, pos != G_MAXUINT ? s->tick_time_us : g_get_real_time ());
}

/* The job's files (or its processes' /proc files) read in full. */
static void
sample_job_files (OrchSampler *s, OrchJob *job, JobEntry *e, gboolean refresh, OrchJobStats *now)
{
  const pid_t *pids = NULL;
  guint n_pids = 0;

  if (e->files.dir_fd >= 0)
    {
      /* Between refreshes pids stays NULL: the last set is kept. */
      if (refresh && orch_job_files_want_pids (&e->files) &&
          orch_job_files_pids (&e->files, s->scratch, SCRATCH_SIZE, s->pids) == 0)
        {
          /* Not orchestrator-monitor, the job's parent in its cgroup: its
           * few pages are not the job's, and reading its /proc files
           * would double the work of the procfs fallback. */
          for (guint i = 0; i < s->pids->len; i++)
            if (job->monitor_pid > 0 && g_array_index (s->pids, pid_t, i) == job->monitor_pid)
              {
                g_array_remove_index_fast (s->pids, i);
                break;
              }
          pids = (const pid_t *) s->pids->data;
          n_pids = s->pids->len;
        }
    }
  else
    {
      GArray *group;
      if (s->groups == NULL)
        {
          s->groups = scan_process_groups (s);
          s->groups_age = 0;
        }
      /* The child made itself leader of its own group: pgid == pid. */
      group = g_hash_table_lookup (s->groups, GINT_TO_POINTER (job->pid));
      if (group)
        {
          pids = (const pid_t *) group->data;
          n_pids = group->len;
        }
      else if (job->pid > 0)
        {
          /* Started since the last scan: its main process at least. */
          pids = &job->pid;
          n_pids = 1;
        }
    }
  orch_job_stats_read (&e->files, pids, n_pids, refresh, s->proc_root, s->scratch, SCRATCH_SIZE,
                       now);
}

/* The figures of @now into the entry, the job and its history. */
static JobEntry *
record_sample (OrchSampler *s, OrchJob *job, JobEntry *e, const OrchJobStats *now_p, gint64 t)
{
  const OrchJobStats now = *now_p;
  double values[ORCH_JOB_N_SERIES];

  if (e->time_us > 0 && t > e->time_us)
    {
      /* /proc counts only live processes, so its total can drop. */
      guint64 used = now.cpu_usage_usec > e->stats.cpu_usage_usec
                         ? now.cpu_usage_usec - e->stats.cpu_usage_usec
                         : 0;
      e->cpu_percent = 100.0 * (double) used / (double) (t - e->time_us);
    }
  else if (job->started_at > 0 && t > job->started_at)
    /* First sample of the run: the average since it started. */
    e->cpu_percent = 100.0 * (double) now.cpu_usage_usec / (double) (t - job->started_at);
  e->peak_seen = MAX (e->peak_seen, now.memory_bytes);
  e->stats = now;
  e->time_us = t;

  job->cpu_percent = e->cpu_percent;
  job->memory_bytes = now.memory_bytes;
  job->io_known = now.io_source != ORCH_SOURCE_NONE;
  job->io_read_bytes = now.io_read_bytes;
  job->io_write_bytes = now.io_write_bytes;

  values[ORCH_JOB_SERIES_CPU_PERCENT] = e->cpu_percent;
  values[ORCH_JOB_SERIES_MEMORY_BYTES] = (double) now.memory_bytes;
  values[ORCH_JOB_SERIES_IO_READ_BYTES] = now.io_source ? (double) now.io_read_bytes : NAN;
  values[ORCH_JOB_SERIES_IO_WRITE_BYTES] = now.io_source ? (double) now.io_write_bytes : NAN;
  values[ORCH_JOB_SERIES_TASKS] = (double) now.tasks;
  orch_history_prefill (
      e->history, t, values, ORCH_JOB_N_SERIES, s->config->sample_interval_ms,
      MAX (s->config->job_history_coarse_size * s->config->job_history_coarse_step_s,
           s->config->job_history_size * s->config->sample_interval_ms / 1000),
      FALSE);
  orch_ring_push (e->history, t, values);
  return e;
}

/* Under pressure (orch-fd-budget.h): closes the files of cached jobs until
 * @want fds are given back; those jobs are read with open/read/close from
 * then on, and so are new runs for a while. */
static guint
give_back_fds (guint want, gpointer data)
{
  OrchSampler *s = data;
  GHashTableIter it;
  gpointer value;
  guint given = 0;

  s->fds_tight = TRUE;
  g_hash_table_iter_init (&it, s->jobs);
  while (given < want && g_hash_table_iter_next (&it, NULL, &value))
    {
      JobEntry *e = value;
      if (!e->open || e->uncached)
        continue;
      given += orch_job_files_count (&e->files);
      job_entry_release (e);
      e->uncached = TRUE;
    }
  s->cached_fds -= MIN (s->cached_fds, given);
  orch_fd_budget_cache_held (give_back_fds, s, s->cached_fds);
  return given;
}

/* Once fds are plenty again, one uncached job a tick keeps its files. */
static void
recache_one (OrchSampler *s)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, s->jobs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      JobEntry *e = value;
      if (e->uncached && e->seen == s->ticks && s->cached_fds + e->n_fds <= s->fd_cap)
        {
          e->uncached = FALSE; /* opened and kept from the next tick */
          return;
        }
    }
}

/* Free fds are counted (not estimated, orch-fd-budget.h) at least this
 * often: what the estimate does not see, e.g. the limit lowered under the
 * daemon, shows within it. */
#define FD_PROBE_MS 10000

/* The jobs' open files stay within their share of the fds: under the cap
 * the limit gives them, and handed back at once when fewer than the
 * headroom are free; taken again, a job a second, once fds are plenty.
 * @held is what they hold now, @running how many jobs run, @uncached how
 * many of them are read without keeping files. */
static void
balance_fds (OrchSampler *s, guint64 held, guint running, guint uncached)
{
  gboolean count = ++s->fd_probe_age >= s->fd_probe_ticks;
  guint64 limit = G_MAXUINT64;

  if (count)
    s->fd_probe_age = 0;
  /* With no job running nothing is cached: the limit (a syscall) is read
   * with the count then, so an idle tick makes none; else once, for the
   * cap and the checks below. */
  s->cached_fds = held;
  orch_fd_budget_cache_held (give_back_fds, s, held);
  if (count && running > 0)
    orch_fd_budget_calibrate (running);
  if (count || running > 0 || held > 0)
    {
      limit = orch_fd_budget_limit ();
      s->fd_cap = orch_fd_budget_cache_cap_jobs (limit, running);
    }
  if (held > s->fd_cap)
    give_back_fds ((guint) MIN (held - s->fd_cap, G_MAXUINT), s);
  else if (held > 0 && !orch_fd_budget_room_under (limit, ORCH_FD_HEADROOM, running, count))
    give_back_fds (ORCH_FD_HEADROOM, s);
  else if ((s->fds_tight || uncached > 0) && s->ticks % s->second_ticks == 0 &&
           orch_fd_budget_room_under (limit != G_MAXUINT64 ? limit : orch_fd_budget_limit (),
                                      ORCH_FD_HEADROOM + ORCH_FD_LAUNCH, running, FALSE))
    {
      s->fds_tight = FALSE;
      if (uncached > 0)
        recache_one (s);
    }
  orch_fd_budget_maintain ();
}

void
orch_sampler_sample_jobs (OrchSampler *s)
{
  GHashTableIter it;
  gpointer value;
  guint64 held = 0;
  guint running = 0, uncached = 0, seen = 0, n_jobs;

  if (s->manager == NULL)
    return;
  /* Nothing below makes or removes a job. */
  n_jobs = orch_manager_n_jobs (s->manager);
  s->ticks++;
  s->tick_time_us = g_get_real_time ();
  if (s->groups && ++s->groups_age >= GROUP_SCAN_TICKS)
    g_clear_pointer (&s->groups, g_hash_table_unref);
  for (guint i = 0; i < n_jobs; i++)
    {
      OrchJob *job = orch_manager_job_at (s->manager, i);
      /* The next entry's ring, while this job's files are read. */
      if (i + 1 < s->by_pos->len && s->by_pos->pdata[i + 1])
        orch_ring_prefetch (((JobEntry *) s->by_pos->pdata[i + 1])->history);
      if (job->state == ORCH_JOB_RUNNING || job->state == ORCH_JOB_STOPPING)
        {
          JobEntry *e = sample_job (s, job, i);
          running++;
          seen++;
          if (e->uncached)
            uncached++;
          else
            held += e->n_fds;
        }
      else
        {
          /* Finished: keep the figures and history, drop the fd. */
          JobEntry *e = g_hash_table_lookup (s->jobs, job->id);
          if (e)
            {
              job_entry_close (e);
              job_tree_release (&e->tree);
              e->seen = s->ticks;
              seen++;
            }
          if (i < s->by_pos->len)
            s->by_pos->pdata[i] = NULL;
          job->cpu_percent = 0.0;
        }
    }
  /* Only entries seen now stay in it, so none it holds is freed below. */
  if (s->by_pos->len > n_jobs)
    g_ptr_array_set_size (s->by_pos, n_jobs);
  /* Forget jobs that were removed: those the list above did not show.
   * The list names each job once, so when it showed as many entries as
   * there are, there is none to look for. */
  if (seen < g_hash_table_size (s->jobs))
    {
      g_hash_table_iter_init (&it, s->jobs);
      while (g_hash_table_iter_next (&it, NULL, &value))
        if (((JobEntry *) value)->seen != s->ticks)
          g_hash_table_iter_remove (&it);
    }
  balance_fds (s, held, running, uncached);
}

/* Pressure is read here, not on ticks: it is not kept in history. */
JobEntry *
orch_sampler_job_latest (OrchSampler *s, OrchJob *job)
{
  JobEntry *e = g_hash_table_lookup (s->jobs, job->id);

  if ((e == NULL || e->time_us == 0) &&
      (job->state == ORCH_JOB_RUNNING || job->state == ORCH_JOB_STOPPING))
    {
      /* Asked before the first tick reached it: sample it now. */
      sample_job (s, job, G_MAXUINT);
      e = g_hash_table_lookup (s->jobs, job->id);
    }
  if (e == NULL || e->time_us == 0)
    return e;
  if (e->open)
    orch_job_stats_read_pressure (&e->files, &e->stats);
  else if (e->uncached && (job->state == ORCH_JOB_RUNNING || job->state == ORCH_JOB_STOPPING))
    {
      job_entry_open (e);
      orch_job_stats_read_pressure (&e->files, &e->stats);
      job_entry_release (e);
    }
  return e;
}

void
orch_sampler_jobs_init (OrchSampler *s)
{
  s->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify) job_entry_free);
  s->by_pos = g_ptr_array_new ();
  s->foreign = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  s->trees = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify) job_tree_free);
  s->pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  s->scratch = g_malloc (SCRATCH_SIZE);
  s->fd_cap = orch_fd_budget_cache_cap (orch_fd_budget_limit ());
  orch_fd_budget_add_cache (give_back_fds, s);
  s->fd_probe_ticks = MAX (1, FD_PROBE_MS / MAX (s->config->sample_interval_ms, 1));
}

void
orch_sampler_jobs_clear (OrchSampler *s)
{
  orch_fd_budget_remove_cache (give_back_fds, s);
  g_clear_pointer (&s->by_pos, g_ptr_array_unref);
  g_clear_pointer (&s->jobs, g_hash_table_unref);
  g_clear_pointer (&s->trees, g_hash_table_unref);
  g_clear_pointer (&s->groups, g_hash_table_unref);
  g_clear_pointer (&s->foreign, g_hash_table_unref);
  g_clear_pointer (&s->pids, g_array_unref);
  g_clear_pointer (&s->scratch, g_free);
}
