/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the benchmark clients both measure with: a clock, a median's sort
 * order, and a process's CPU from /proc. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static inline uint64_t
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* /proc/@pid/stat into @buf; the fields from the state (3) on, or NULL. */
static inline const char *
proc_stat_fields (int pid, char *buf, size_t size)
{
  char path[64];
  FILE *f;
  char *p;
  size_t n;

  snprintf (path, sizeof path, "/proc/%d/stat", pid);
  f = fopen (path, "re");
  if (f == NULL)
    return NULL;
  n = fread (buf, 1, size - 1, f);
  fclose (f);
  buf[n] = '\0';
  /* comm may hold spaces and parentheses: fields start after the last ')'. */
  p = strrchr (buf, ')');
  return p ? p + 2 : NULL;
}

/* utime+stime of @pid in clock ticks, or -1. */
static inline long long
proc_cpu_ticks (int pid)
{
  char buf[2048];
  unsigned long long utime, stime;
  const char *p = proc_stat_fields (pid, buf, sizeof buf);

  /* state(3) ... utime(14) stime(15): skip 11 fields after the state. */
  if (p == NULL ||
      sscanf (p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
    return -1;
  return (long long) (utime + stime);
}

/* On-CPU time of every thread of @pid in ns (schedstat), or -1. */
static inline long long
proc_cpu_ns (int pid)
{
  char path[64];
  g_autoptr(GDir) dir = NULL;
  const char *name;
  long long total = 0;
  gboolean any = FALSE;

  snprintf (path, sizeof path, "/proc/%d/task", pid);
  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL)
    return -1;
  while ((name = g_dir_read_name (dir)))
    {
      char file[128];
      unsigned long long ns;
      FILE *f;

      snprintf (file, sizeof file, "/proc/%d/task/%s/schedstat", pid, name);
      f = fopen (file, "re");
      if (f == NULL)
        continue;
      if (fscanf (f, "%llu", &ns) == 1)
        {
          total += (long long) ns;
          any = TRUE;
        }
      fclose (f);
    }
  return any ? total : -1;
}

/* When @pid started (field 22 of /proc/PID/stat, clock ticks since boot),
 * or 0.  A pid with its start time names one process: pids are reused
 * (pid_max is 32768 here, and the machine runs thousands of jobs). */
static inline unsigned long long
proc_start_ticks (int pid)
{
  char buf[2048];
  unsigned long long start;
  const char *p = proc_stat_fields (pid, buf, sizeof buf);

  /* state(3) ... starttime(22): skip 18 fields after the state. */
  if (p == NULL ||
      sscanf (p,
              "%*c"
              "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
              &start) != 1)
    return 0;
  return start;
}

/* Appends "PID START" to @f: the driver's sweep kills only that process. */
static inline void
write_job_pid (FILE *f, unsigned pid)
{
  fprintf (f, "%u %llu\n", pid, proc_start_ticks ((int) pid));
  fflush (f);
}

/* The number after "@key:" in /proc/@pid/status (kB for the Vm and Rss
 * lines), or -1. */
static inline long
proc_status_kb (int pid, const char *key)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (p = strstr (text, key)) == NULL)
    return -1;
  return strtol (p + strlen (key) + 1, NULL, 10);
}
