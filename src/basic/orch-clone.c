/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-clone.h"

#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Enough for a child that only moves fds and execs; a guard page below. */
#define CHILD_STACK_SIZE (64 * 1024)

static void *child_stack; /* the base of the usable part */

static int
ensure_stack (void)
{
  long page = sysconf (_SC_PAGESIZE);
  char *p;

  if (child_stack)
    return 0;
  p = mmap (NULL, CHILD_STACK_SIZE + page, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (p == MAP_FAILED)
    return -errno;
  /* An overflow faults instead of writing over whatever is mapped below. */
  (void) mprotect (p, page, PROT_NONE);
  child_stack = p + page;
  return 0;
}

#if defined(__x86_64__) && defined(__NR_clone3)
#define HAVE_CLONE3_ASM 1
/* clone3 has no glibc wrapper here, and a child on its own stack cannot
 * return through syscall(): it calls fn straight from the syscall's
 * return, on the new stack, and exits with what fn returns. */
static long
clone3_call (struct clone_args *args, int (*fn) (void *), void *arg)
{
  register long rax __asm__("rax") = __NR_clone3;
  register struct clone_args *rdi __asm__("rdi") = args;
  register unsigned long rsi __asm__("rsi") = sizeof *args;
  register int (*r12) (void *) __asm__("r12") = fn;
  register void *r13 __asm__("r13") = arg;

  __asm__ volatile("syscall\n\t"
                   "test %%rax, %%rax\n\t"
                   "jnz 1f\n\t"
                   "xor %%ebp, %%ebp\n\t"
                   "mov %%r13, %%rdi\n\t"
                   "call *%%r12\n\t"
                   "mov %%eax, %%edi\n\t"
                   "mov %[nr_exit], %%eax\n\t"
                   "syscall\n\t"
                   "hlt\n"
                   "1:\n\t"
                   : "+r"(rax)
                   : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13), [nr_exit] "i"(__NR_exit)
                   : "rcx", "r11", "memory", "cc");
  return rax;
}

static bool clone3_missing; /* ENOSYS once (old kernel, or a seccomp filter) */

static pid_t
try_clone3 (int (*fn) (void *), void *arg, int cgroup_fd)
{
  struct clone_args args;
  long r;

  if (clone3_missing)
    return -ENOSYS;
  memset (&args, 0, sizeof args);
  args.flags = CLONE_VM | CLONE_VFORK;
  args.exit_signal = SIGCHLD;
  args.stack = (uint64_t) (uintptr_t) child_stack;
  args.stack_size = CHILD_STACK_SIZE;
  if (cgroup_fd >= 0)
    {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t) cgroup_fd;
    }
  r = clone3_call (&args, fn, arg);
  if (r == -ENOSYS)
    clone3_missing = true;
  return (pid_t) r;
}
#endif

static pid_t
spawn (int (*fn) (void *), void *arg, int cgroup_fd, bool *ret_in_cgroup)
{
  pid_t pid;

  *ret_in_cgroup = false;
#ifdef HAVE_CLONE3_ASM
  if (cgroup_fd >= 0)
    {
      pid = try_clone3 (fn, arg, cgroup_fd);
      if (pid > 0)
        {
          *ret_in_cgroup = true;
          return pid;
        }
      /* EAGAIN and ENOMEM would fail again below and say so; anything
       * else is the cgroup part: started here, attached by the caller. */
    }
  pid = try_clone3 (fn, arg, -1);
  if (pid != -ENOSYS)
    return pid;
#else
  (void) cgroup_fd;
#endif
  pid = clone (fn, (char *) child_stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
  return pid < 0 ? -errno : pid;
}

pid_t
orch_clone_vfork (int (*fn) (void *), void *arg, int cgroup_fd, bool *ret_in_cgroup)
{
  sigset_t all, old;
  pid_t pid;
  int r;

  *ret_in_cgroup = false;
  if ((r = ensure_stack ()) < 0)
    return r;
  /* The child runs on our memory: a signal must not run one of our
   * handlers in it before it has set them back to the defaults. */
  sigfillset (&all);
  if ((r = pthread_sigmask (SIG_SETMASK, &all, &old)) != 0)
    return -r;
  pid = spawn (fn, arg, cgroup_fd, ret_in_cgroup);
  (void) pthread_sigmask (SIG_SETMASK, &old, NULL);
  return pid;
}
