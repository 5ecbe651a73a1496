/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
  pid_t pid;
  char comm[64];
  char state;            /* R S D Z T t X ... */
  pid_t ppid;
  pid_t pgrp;
  pid_t session;
  guint64 utime;         /* clock ticks */
  guint64 stime;
  guint64 starttime;     /* clock ticks after boot */
  guint64 vsize;         /* bytes */
  gint64 rss;            /* pages */
  gint64 num_threads;
} OrchProcStat;

/* Parses the text of /proc/PID/stat.  The comm field may hold spaces and
 * parentheses, so it is delimited by the last ')'.  -EBADMSG on anything
 * malformed or truncated. */
int orch_proc_parse_stat (const char *text, gsize len, OrchProcStat *ret);

/* Reads and parses /proc/PID/stat (under @proc_root, NULL = "/proc"). */
int orch_proc_read_stat (const char *proc_root, pid_t pid, OrchProcStat *ret);

/* Reads and parses PID/stat under the /proc directory open as @proc_fd,
 * with @buf (of @size bytes) for the text: no allocation. */
int orch_proc_read_stat_at (int proc_fd, pid_t pid, char *buf, gsize size, OrchProcStat *ret);

/* 1 if a live (not zombie) process has process group @pgrp, 0 if none. */
int orch_proc_pgrp_has_live (const char *proc_root, pid_t pgrp);

/* The start time of live process @pid (clock ticks after boot, the
 * identity that survives PID reuse); 0 if it is gone or a zombie. */
guint64 orch_process_start_time (pid_t pid);

/* The first child of @pid (the monitor's is the job's process), 0 if none. */
pid_t orch_process_first_child (pid_t pid);

G_END_DECLS
