/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Starts fn(arg) in a child that shares the caller's memory until it
 * execs or exits (vfork semantics: the calling thread waits until then),
 * so nothing of a large address space is copied, and no copy-on-write
 * fault follows in the caller.  fn must be vfork-safe: syscalls only, no
 * allocation, no return (execve or _exit).  Every signal is blocked in
 * the child when fn starts; fn sets its own mask.
 *
 * @cgroup_fd >= 0: the child starts in that cgroup2 directory
 * (clone3's CLONE_INTO_CGROUP, Linux >= 5.7), with no attach step.
 * *ret_in_cgroup says whether it did: where the kernel cannot (older
 * kernel, seccomp, a v1-only or hybrid quirk) the child starts where the
 * caller is, and the caller attaches it.
 *
 * Main loop only: one child stack is kept and reused.  Returns the pid,
 * or -errno. */
pid_t orch_clone_vfork (int (*fn) (void *), void *arg, int cgroup_fd, bool *ret_in_cgroup);
