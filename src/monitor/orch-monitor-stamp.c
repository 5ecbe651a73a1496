/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log_timestamps in orchestrator-monitor: the job's output passes through
 * here, so its time of arrival is read by the job's own monitor (in the
 * job's cgroup, charged to the job), never by the daemon, which stays out
 * of every log's data path. */
#include "orch-monitor-stamp.h"
#include "basic/orch-log-record.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One read takes at most this; the pipes are asked to hold as much, so a
 * fast writer is woken less often. */
#define IN_SIZE (1024 * 1024)
#define OUT_SIZE (256 * 1024)
/* After the job ends: what is left in a pipe is read, up to this much, so
 * a process the job left behind cannot keep its monitor from recording
 * the end by writing forever. */
#define DRAIN_MAX (64 * 1024 * 1024)

typedef struct {
  int log_fd;
  char carry[ORCH_LOG_RECORD_MAX_PAYLOAD]; /* a line's start, its end not read yet */
  size_t carry_len;
  long long carry_us; /* when its first byte came */
  char out[OUT_SIZE];
  size_t out_len;
} Stream;

static Stream streams[2];
static char in_buf[IN_SIZE];
static long long last_us;
static long long stamp_sec = -1;
static char stamp_head[20];

/* The time now, never before the last one given: the wall clock may be
 * set back, a log's times must not go back with it. */
static long long
arrival_us (void)
{
  struct timespec ts;
  long long us;

  clock_gettime (CLOCK_REALTIME, &ts);
  us = (long long) ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
  if (us < last_us)
    us = last_us;
  last_us = us;
  return us;
}

static void
format_stamp (long long us, char *out)
{
  long long sec = us / 1000000LL;
  long frac = (long) (us % 1000000LL);

  if (sec != stamp_sec)
    {
      time_t t = (time_t) sec;
      struct tm tm;
      gmtime_r (&t, &tm);
      strftime (stamp_head, sizeof stamp_head, "%Y-%m-%dT%H:%M:%S", &tm);
      stamp_sec = sec;
    }
  memcpy (out, stamp_head, 19);
  out[19] = '.';
  for (int i = 25; i >= 20; i--, frac /= 10)
    out[i] = (char) ('0' + frac % 10);
  out[26] = 'Z';
}

/* A full disk drops records (the job is not stopped for it). */
static void
flush (Stream *s)
{
  size_t done = 0;

  while (done < s->out_len)
    {
      ssize_t n = write (s->log_fd, s->out + done, s->out_len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += (size_t) n;
    }
  s->out_len = 0;
}

static void
emit (Stream *s, long long us, char flag, const char *p, size_t n)
{
  if (s->out_len + ORCH_LOG_RECORD_HEAD_LEN + n + 1 > OUT_SIZE)
    flush (s);
  format_stamp (us, s->out + s->out_len);
  s->out[s->out_len + ORCH_LOG_STAMP_LEN] = flag;
  s->out_len += ORCH_LOG_RECORD_HEAD_LEN;
  memcpy (s->out + s->out_len, p, n);
  s->out_len += n;
  s->out[s->out_len++] = '\n';
}

/* Where a full fragment of @len bytes ends: before a UTF-8 character it
 * would cut in two (at most 3 bytes go on to the next fragment), so a
 * reader that replaces invalid bytes sees the character whole. */
static size_t
utf8_cut (const char *p, size_t len)
{
  size_t k = len - 1, need;
  unsigned char lead;

  while (k > 0 && len - k < 4 && ((unsigned char) p[k] & 0xc0) == 0x80)
    k--;
  lead = (unsigned char) p[k];
  need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return lead >= 0xc0 && k + need > len && k > 0 ? k : len;
}

/* Cuts @buf (which came at @us) into records. */
static void
take (Stream *s, const char *buf, size_t n, long long us)
{
  while (n > 0)
    {
      const char *nl = memchr (buf, '\n', n);
      size_t seg = nl ? (size_t) (nl - buf) : n;

      /* Most lines come whole in one read. */
      if (s->carry_len == 0 && nl && seg <= ORCH_LOG_RECORD_MAX_PAYLOAD)
        {
          emit (s, us, ORCH_LOG_RECORD_LINE, buf, seg);
          buf += seg + 1;
          n -= seg + 1;
          continue;
        }
      while (seg > 0)
        {
          size_t k;
          if (s->carry_len == ORCH_LOG_RECORD_MAX_PAYLOAD)
            {
              size_t cut = utf8_cut (s->carry, s->carry_len);
              emit (s, s->carry_us, ORCH_LOG_RECORD_FRAGMENT, s->carry, cut);
              memmove (s->carry, s->carry + cut, s->carry_len - cut);
              s->carry_len -= cut;
            }
          if (s->carry_len == 0)
            s->carry_us = us;
          k = ORCH_LOG_RECORD_MAX_PAYLOAD - s->carry_len;
          k = k < seg ? k : seg;
          memcpy (s->carry + s->carry_len, buf, k);
          s->carry_len += k;
          buf += k;
          n -= k;
          seg -= k;
        }
      if (nl)
        {
          emit (s, s->carry_len ? s->carry_us : us, ORCH_LOG_RECORD_LINE, s->carry, s->carry_len);
          s->carry_len = 0;
          buf++;
          n--;
        }
    }
}

/* Reads what @fd has for @s; 0 at EOF, 1 after data, -1 nothing now. */
static int
pump (int fd, Stream *s)
{
  ssize_t n;

  do
    n = read (fd, in_buf, sizeof in_buf);
  while (n < 0 && errno == EINTR);
  if (n == 0 || (n < 0 && errno != EAGAIN))
    return 0;
  if (n < 0)
    return -1;
  take (s, in_buf, (size_t) n, arrival_us ());
  flush (s);
  return 1;
}

int
orch_stamp_setup (OrchStamp *s, int stdout_log, int stderr_log)
{
  int p[2], q[2] = { -1, -1 };

  if (pipe2 (p, O_CLOEXEC) < 0)
    return -errno;
  if (stderr_log != stdout_log && pipe2 (q, O_CLOEXEC) < 0)
    {
      int r = -errno;
      close (p[0]);
      close (p[1]);
      return r;
    }
  /* Larger pipes wake us less often under a fast writer; the default
   * (64 KiB) still works where the limit says no. */
  (void) fcntl (p[0], F_SETPIPE_SZ, IN_SIZE);
  if (q[0] >= 0)
    (void) fcntl (q[0], F_SETPIPE_SZ, IN_SIZE);
  s->log_fd[0] = stdout_log;
  s->log_fd[1] = stderr_log;
  s->pipe_rd[0] = p[0];
  s->pipe_rd[1] = q[0];
  s->pipe_wr[0] = p[1];
  s->pipe_wr[1] = q[1] >= 0 ? q[1] : p[1];
  return 0;
}

int
orch_stamp_child (const OrchStamp *s)
{
  if (dup2 (s->pipe_wr[0], STDOUT_FILENO) < 0 || dup2 (s->pipe_wr[1], STDERR_FILENO) < 0)
    return -errno;
  return 0;
}

int
orch_stamp_run (OrchStamp *s, pid_t pid)
{
  struct pollfd pfd[3];
  sigset_t chld;
  int status = -1, sfd, r;

  /* Only the monitor writes the logs now. */
  close (s->pipe_wr[0]);
  if (s->pipe_wr[1] != s->pipe_wr[0])
    close (s->pipe_wr[1]);
  streams[0].log_fd = s->log_fd[0];
  streams[1].log_fd = s->log_fd[1];

  /* SIGCHLD is blocked (the monitor blocks everything): read it here. */
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sfd = signalfd (-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  pfd[0] = (struct pollfd){ .fd = s->pipe_rd[0], .events = POLLIN };
  pfd[1] = (struct pollfd){ .fd = s->pipe_rd[1], .events = POLLIN };
  pfd[2] = (struct pollfd){ .fd = sfd, .events = POLLIN };

  for (;;)
    {
      /* Without a signalfd, check for the end every 100 ms. */
      r = poll (pfd, 3, sfd < 0 ? 100 : -1);
      if (r < 0 && errno != EINTR)
        break;
      for (int i = 0; i < 2 && r > 0; i++)
        if (pfd[i].fd >= 0 && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
            pump (pfd[i].fd, &streams[i]) == 0)
          pfd[i].fd = -1;
      if (sfd >= 0 && r > 0 && (pfd[2].revents & POLLIN))
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) > 0)
            ;
        }
      if (sfd < 0 || (r > 0 && (pfd[2].revents & POLLIN)))
        {
          pid_t w = waitpid (pid, &status, WNOHANG);
          if (w == pid || (w < 0 && errno != EINTR))
            break;
        }
    }

  /* Everything the job wrote before it ended is in the pipes already. */
  for (int i = 0; i < 2; i++)
    {
      size_t drained = 0;
      if (pfd[i].fd < 0)
        continue;
      (void) fcntl (pfd[i].fd, F_SETFL, O_NONBLOCK);
      while (drained < DRAIN_MAX && pump (pfd[i].fd, &streams[i]) > 0)
        drained += IN_SIZE;
    }
  for (int i = 0; i < 2; i++)
    {
      Stream *st = &streams[i];
      /* A last line without its newline keeps its bytes, as a fragment. */
      if (st->carry_len)
        emit (st, st->carry_us, ORCH_LOG_RECORD_FRAGMENT, st->carry, st->carry_len);
      st->carry_len = 0;
      flush (st);
    }
  if (s->pipe_rd[0] >= 0)
    close (s->pipe_rd[0]);
  if (s->pipe_rd[1] >= 0)
    close (s->pipe_rd[1]);
  if (sfd >= 0)
    close (sfd);
  if (status == -1)
    {
      /* The loop stopped on an error: wait the plain way. */
      do
        r = waitpid (pid, &status, 0);
      while (r < 0 && errno == EINTR);
      if (r < 0)
        return -1;
    }
  return status;
}
