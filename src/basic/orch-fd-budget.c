/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-fd-budget.h"
#include "orch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  OrchFdGiveBackFunc give_back;
  gpointer user_data;
  guint64 held;
} Cache;

/* reserve[0] is never released: the fd the probes duplicate. */
static int reserve[ORCH_FD_RESERVE + 1] = { [0 ... ORCH_FD_RESERVE] = -1 };
static gboolean initialized;
static GArray *caches;  /* Cache */
static guint64 base;    /* fds open at the first use, the reserve's included */
static guint per_job = ORCH_FD_PER_JOB; /* learned by orch_fd_budget_calibrate() */
static guint64 watched;                 /* orch_fd_budget_watched_add() */

/* Open fds: the size Linux ≥ 6.2 gives /proc/self/fd (the count, from
 * the fd table's bitmap: one system call whatever is open), else a
 * listing of it, whose cost grows with the fds held (0.5 ms at 1 800
 * here). */
static guint64
count_open (void)
{
  struct stat st;
  GDir *d;
  guint64 n = 0;

  if (stat ("/proc/self/fd", &st) == 0 && st.st_size > 0)
    return (guint64) st.st_size;
  d = g_dir_open ("/proc/self/fd", 0, NULL);
  if (d == NULL)
    return ORCH_FD_BASE;
  while (g_dir_read_name (d))
    n++;
  g_dir_close (d);
  return n > 0 ? n - 1 : 0; /* not the listing's own */
}

/* Taken at the first use, which is at the daemon's start (the sampler
 * registers its cache then): while fds are plenty. */
static void
ensure_init (void)
{
  if (initialized)
    return;
  initialized = TRUE;
  caches = g_array_new (FALSE, FALSE, sizeof (Cache));
  reserve[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (reserve[0] < 0)
    g_warning ("cannot open /dev/null: %s; no spare fds are kept", g_strerror (errno));
  orch_fd_budget_maintain ();
  base = count_open ();
}

void
orch_fd_budget_add_cache (OrchFdGiveBackFunc give_back, gpointer user_data)
{
  Cache c = { give_back, user_data, 0 };

  ensure_init ();
  g_array_append_val (caches, c);
}

void
orch_fd_budget_cache_held (OrchFdGiveBackFunc give_back, gpointer user_data, guint64 held)
{
  for (guint i = 0; caches && i < caches->len; i++)
    {
      Cache *c = &g_array_index (caches, Cache, i);
      if (c->give_back == give_back && c->user_data == user_data)
        c->held = held;
    }
}

void
orch_fd_budget_remove_cache (OrchFdGiveBackFunc give_back, gpointer user_data)
{
  for (guint i = 0; caches && i < caches->len; i++)
    {
      Cache *c = &g_array_index (caches, Cache, i);
      if (c->give_back == give_back && c->user_data == user_data)
        {
          g_array_remove_index (caches, i);
          return;
        }
    }
}

guint64
orch_fd_budget_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
    return G_MAXUINT64;
  return (guint64) rl.rlim_cur;
}

gboolean
orch_fd_budget_has_free (guint n)
{
  int taken[ORCH_FD_HEADROOM + ORCH_FD_LAUNCH];
  guint got = 0;

  ensure_init ();
  if (reserve[0] < 0)
    return TRUE; /* cannot tell */
  /* Fds above the probe's reach: enough if this many are. */
  n = MIN (n, G_N_ELEMENTS (taken));
  while (got < n && (taken[got] = fcntl (reserve[0], F_DUPFD_CLOEXEC, 0)) >= 0)
    got++;
  for (guint i = 0; i < got; i++)
    close (taken[i]);
  return got == n;
}

gboolean
orch_fd_budget_far_from_limit (guint64 limit, guint64 held, guint64 n)
{
  return held <= limit && n + ORCH_FD_SLACK <= limit - held;
}

void
orch_fd_budget_watched_add (gint delta)
{
  g_return_if_fail (delta >= 0 || watched >= (guint64) - (gint64) delta);
  watched = (guint64) ((gint64) watched + delta);
}

guint64
orch_fd_budget_watched (void)
{
  return watched;
}

static guint64
cached_total (void)
{
  guint64 n = 0;

  for (guint i = 0; caches && i < caches->len; i++)
    n += g_array_index (caches, Cache, i).held;
  return n;
}

/* What the daemon holds by the estimate, @jobs running. */
static guint64
estimate (guint jobs)
{
  return base + watched + (guint64) jobs * per_job + cached_total ();
}

gboolean
orch_fd_budget_room_under (guint64 limit, guint n, guint jobs, gboolean exact)
{
  guint64 held;

  ensure_init ();
  held = estimate (jobs);
  if (!exact && orch_fd_budget_far_from_limit (limit, held, n))
    return TRUE;
  return orch_fd_budget_has_free (n);
}

gboolean
orch_fd_budget_room_for (guint n, guint jobs, gboolean exact)
{
  return orch_fd_budget_room_under (exact ? 0 : orch_fd_budget_limit (), n, jobs, exact);
}

guint
orch_fd_budget_per_job_from (guint64 open, guint64 fixed, guint64 cached, guint jobs)
{
  if (jobs == 0 || open <= fixed + cached)
    return ORCH_FD_PER_JOB;
  return (guint) MAX ((guint64) ORCH_FD_PER_JOB, (open - fixed - cached + jobs - 1) / jobs);
}

void
orch_fd_budget_calibrate (guint jobs)
{
  ensure_init ();
  per_job = orch_fd_budget_per_job_from (count_open (), base + watched, cached_total (), jobs);
}

guint
orch_fd_budget_per_job (void)
{
  return per_job;
}

/* Asks the caches for @want fds; how many they gave. */
static guint
shrink_caches (guint want)
{
  guint given = 0;

  for (guint i = 0; caches && i < caches->len && given < want; i++)
    {
      Cache *c = &g_array_index (caches, Cache, i);
      given += c->give_back (want - given, c->user_data);
    }
  return given;
}

gboolean
orch_fd_budget_make_room (guint n)
{
  if (orch_fd_budget_room_for (n, 0, FALSE))
    return TRUE;
  shrink_caches (n);
  if (orch_fd_budget_has_free (n))
    return TRUE;
  /* The last resort: what is held for this. */
  for (guint i = 1; i <= ORCH_FD_RESERVE; i++)
    if (reserve[i] >= 0)
      {
        close (reserve[i]);
        reserve[i] = -1;
      }
  return orch_fd_budget_has_free (n);
}

gboolean
orch_fd_budget_check_launch (guint jobs, GError **error)
{
  guint need = ORCH_FD_LAUNCH + ORCH_FD_HEADROOM;

  if (orch_fd_budget_room_for (need, jobs, FALSE))
    return TRUE;
  shrink_caches (need);
  if (orch_fd_budget_has_free (need))
    return TRUE;
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_LIMIT_REACHED,
               _("too few file descriptors left: a new job needs %u and %u stay free for "
                 "stopping jobs, but fewer than %u of the %llu the daemon may open "
                 "(RLIMIT_NOFILE) are free; stop some jobs or raise its LimitNOFILE"),
               ORCH_FD_LAUNCH, ORCH_FD_HEADROOM, need, (unsigned long long) orch_fd_budget_limit ());
  return FALSE;
}

void
orch_fd_budget_maintain (void)
{
  guint missing = 0;

  for (guint i = 1; i <= ORCH_FD_RESERVE; i++)
    missing += reserve[i] < 0;
  if (missing == 0 || reserve[0] < 0)
    return;
  /* Only out of what is truly spare: never the headroom. */
  if (!orch_fd_budget_has_free (missing + ORCH_FD_HEADROOM))
    return;
  for (guint i = 1; i <= ORCH_FD_RESERVE; i++)
    if (reserve[i] < 0)
      reserve[i] = fcntl (reserve[0], F_DUPFD_CLOEXEC, 0);
}

guint
orch_fd_budget_reserve_held (void)
{
  guint held = 0;

  ensure_init ();
  for (guint i = 1; i <= ORCH_FD_RESERVE; i++)
    held += reserve[i] >= 0;
  return held;
}

/* Half of what @limit leaves after the fixed fds and @taken more. */
static guint64
half_left (guint64 limit, guint64 taken)
{
  taken += ORCH_FD_HEADROOM + ORCH_FD_RESERVE + 1 + ORCH_FD_BASE;
  return limit > taken ? (limit - taken) / 2 : 0;
}

guint64
orch_fd_budget_cache_cap (guint64 limit)
{
  return half_left (limit, 0);
}

guint64
orch_fd_budget_cache_cap_jobs (guint64 limit, guint jobs)
{
  /* Never above orch_fd_budget_cache_cap (limit): the jobs only take. */
  return half_left (limit, (guint64) jobs * per_job + watched);
}
