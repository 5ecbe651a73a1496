/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Parsers for the metrics sources (docs/ARCHITECTURE.md, "Metrics sources").
 *
 * Common rules for every parser below:
 *  - pure functions over (text, len); @text need not be NUL-terminated and
 *    nothing past @len is read.  @text may be NULL when @len is 0.
 *  - return 0 on success, -EBADMSG on malformed input; the ret out-param
 *    is written only on success (returned GArrays are freed on error).
 *  - unknown keys and lines are ignored (kernels add fields); a field the
 *    function documents as required that is missing, a number that does not
 *    parse, is negative, or overflows its type, a name longer than its buffer
 *    gives -EBADMSG.
 *  - a missing final newline is accepted.  Consequence: a read that stops in
 *    the middle of the very last number cannot be told from a shorter
 *    number; a cut anywhere else (a required key, '=' or unit missing, too
 *    few fields on a line) gives -EBADMSG.  Readers hand over whole files.
 *  - no allocation except the returned GArrays.
 */

typedef struct { guint64 user, nice, system, idle, iowait, irq, softirq, steal; } OrchCpuTimes; /* clock ticks */

typedef struct {
  OrchCpuTimes total;
  GArray *cpus;            /* OrchCpuTimes for cpu0..cpuN in order */
  guint64 processes;       /* "processes": forks since boot */
  guint32 procs_running, procs_blocked;
  guint64 boot_time;       /* "btime", seconds since the epoch */
} OrchSysStat;

/* /proc/stat.  Required: the aggregate "cpu" line (at least user, nice,
 * system, idle; iowait..steal are 0 when an old kernel omits them; guest
 * columns are validated and ignored, user already contains guest time) and
 * "btime".  "processes", "procs_running", "procs_blocked" are 0 if absent.
 * cpus[i] is cpuI: the kernel skips offline CPUs, their entries are all
 * zero.  cpuN lines must be in ascending order, N < 65536.  On success
 * ret->cpus is a new GArray; release with orch_sys_stat_clear(). */
int orch_parse_sys_stat (const char *text, gsize len, OrchSysStat *ret);
/* Frees s->cpus and zeroes @s.  Safe on a zeroed or already cleared struct. */
void orch_sys_stat_clear (OrchSysStat *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (OrchSysStat, orch_sys_stat_clear)

/* Busy share in percent (0..100) between two readings of one CPU (or the
 * total); 0 when no time passed.  Idle is idle + iowait; everything else,
 * steal included, is busy.  A field that went backwards (iowait can) counts
 * as 0 elapsed. */
double orch_cpu_busy_percent (const OrchCpuTimes *prev, const OrchCpuTimes *cur);

typedef struct { guint64 total, free, available, buffers, cached, shmem, sreclaimable, swap_total, swap_free; } OrchMeminfo; /* bytes */

/* /proc/meminfo.  Required: MemTotal.  The known fields must carry the
 * " kB" unit.  Others are 0 if absent; MemAvailable absent (kernels before
 * 3.14) -> available = free + buffers + cached. */
int orch_parse_meminfo (const char *text, gsize len, OrchMeminfo *ret);

typedef struct { double load1, load5, load15; guint32 running, total; } OrchLoadavg;

/* /proc/loadavg: "L1 L5 L15 RUNNING/TOTAL LASTPID", all five required. */
int orch_parse_loadavg (const char *text, gsize len, OrchLoadavg *ret);
/* /proc/uptime: "UPTIME IDLE", both required; returns the first. */
int orch_parse_uptime (const char *text, gsize len, double *ret_seconds);

typedef struct { char name[32]; guint64 rx_bytes, rx_packets, rx_errs, rx_drop, tx_bytes, tx_packets, tx_errs, tx_drop; } OrchNetDev;

/* /proc/net/dev, GArray of OrchNetDev.  Required: the two header lines
 * (each holds a '|'); every further line is "NAME: " and at least 16
 * numbers (old kernels print "eth0:123" without a space). */
int orch_parse_net_dev (const char *text, gsize len, GArray **ret);

typedef struct { char name[32]; guint32 major, minor; guint64 reads, read_sectors, writes, write_sectors, io_ms; } OrchDiskStat;

/* /proc/diskstats (14, 18 or 20 fields per line; at least 14 required, more
 * are validated and ignored), sectors are 512 bytes.  GArray of
 * OrchDiskStat; an empty file is an empty array. */
int orch_parse_diskstats (const char *text, gsize len, GArray **ret);

typedef struct {
  double some_avg10, some_avg60, some_avg300;
  guint64 some_total_us;
  gboolean has_full;
  double full_avg10, full_avg60, full_avg300;
  guint64 full_total_us;
} OrchPressure;

/* /proc/pressure/<res> and <cgroup>/<res>.pressure.  Required: the "some"
 * line with avg10, avg60, avg300 and total; the "full" line is optional
 * (cpu on kernels before 5.13), but when present needs all four too. */
int orch_parse_pressure (const char *text, gsize len, OrchPressure *ret);

typedef struct { guint64 usage_usec, user_usec, system_usec, nr_periods, nr_throttled, throttled_usec; } OrchCgroupCpuStat;

/* <cgroup>/cpu.stat.  usage_usec required, others 0 if absent (a hybrid
 * host's unified tree has no cpu controller: no nr_* lines). */
int orch_parse_cgroup_cpu_stat (const char *text, gsize len, OrchCgroupCpuStat *ret);

/* A file holding one number: memory.current, memory.peak, pids.current,
 * memory.max...  "max" -> G_MAXUINT64.  One token, optional newline, nothing
 * else. */
int orch_parse_cgroup_u64 (const char *text, gsize len, guint64 *ret);

typedef struct { guint64 low, high, max, oom, oom_kill; } OrchCgroupMemoryEvents;

/* <cgroup>/memory.events.  Required: low, high, max, oom; oom_kill (4.13)
 * is 0 if absent. */
int orch_parse_cgroup_memory_events (const char *text, gsize len, OrchCgroupMemoryEvents *ret);

typedef struct { guint64 rbytes, wbytes, rios, wios; } OrchCgroupIoStat;   /* summed over all devices */

/* <cgroup>/io.stat: lines "MAJ:MIN key=value...".  Each line requires
 * rbytes, wbytes, rios, wios; other keys (dbytes, dios, cost.*) are ignored.
 * Empty file = all zero, success. */
int orch_parse_cgroup_io_stat (const char *text, gsize len, OrchCgroupIoStat *ret);

typedef struct { char name[64]; char state; guint64 vm_size, vm_rss; guint32 threads; guint32 uid; } OrchProcStatus; /* bytes */

/* /proc/PID/status.  Required: Name (kept as the kernel escapes it), State,
 * Uid (the real uid, first column), Threads.  VmSize and VmRSS are 0 if
 * absent (kernel threads) and need the " kB" unit when present. */
int orch_parse_proc_status (const char *text, gsize len, OrchProcStatus *ret);

typedef struct { guint64 rchar, wchar, read_bytes, write_bytes, cancelled_write_bytes; } OrchProcIo;

/* /proc/PID/io.  All five fields required (the kernel always prints them). */
int orch_parse_proc_io (const char *text, gsize len, OrchProcIo *ret);

G_END_DECLS
