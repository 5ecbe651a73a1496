/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* orchestratord on a private bus for a test program: a dbus-daemon of its
 * own (GTestDBus), a scratch log directory, and for cgroupfs a cgroup
 * directory of its own; all of it gone after orch_test_daemon_free(). */
typedef struct {
  GTestDBus *dbus;
  GDBusConnection *conn;
  GSubprocess *daemon;
  char *backend;
  char *scratch;      /* temporary directory, removed at the end */
  char *log_dir;
  char *config_path;
  char *cgroup_mount; /* cgroupfs: the cgroup2 mount point */
  char *cgroup_root;  /* cgroupfs: the jobs' parent cgroup */
  int watcher_fd;     /* closing it tells the watcher to clean up */
  pid_t watcher_pid;
  char *bus_address;  /* the test bus, whichever kind */
  GSubprocess *open_bus; /* orch_test_daemon_new_open(): our own dbus-daemon */
} OrchTestDaemon;

/* Returns NULL after g_test_skip()-worthy reasons in @skip_reason. */
OrchTestDaemon *orch_test_daemon_new (const char *backend, const char *extra_config,
                                      char **skip_reason);
/* Same, on a dbus-daemon that lets every user connect and call anything,
 * so that what a test of callers sees is the daemon's own check. */
OrchTestDaemon *orch_test_daemon_new_open (const char *backend, const char *extra_config,
                                           char **skip_reason);
void orch_test_daemon_free (OrchTestDaemon *d);
/* Starts orchestratord (again) on the test bus and waits until it serves. */
void orch_test_daemon_spawn (OrchTestDaemon *d);
/* Sends @sig to the daemon and reaps it. */
void orch_test_daemon_kill (OrchTestDaemon *d, int sig);

/* Calls org.orchestrator.Jobs.@method; NULL and @error on failure. */
GVariant *orch_test_call (OrchTestDaemon *d, const char *method, GVariant *args, GError **error);

/* The record of @id, or NULL if the daemon says NotFound. */
GVariant *orch_test_get (OrchTestDaemon *d, const char *id);
/* Polls Get until the job's state is one of @states ("running|failed"),
 * for up to @timeout_ms; returns the record or fails the test. */
GVariant *orch_test_wait_state (OrchTestDaemon *d, const char *id, const char *states, guint timeout_ms);
/* Creates a job from GVariant text of a{sv}; returns its id. */
char *orch_test_create (OrchTestDaemon *d, const char *spec_text, GError **error);

/* Creates a job (the test fails if that fails) and waits for one of
 * @states; returns its id. */
char *orch_test_start (OrchTestDaemon *d, const char *spec_text, const char *states, guint timeout_ms);
/* Stops the job if it runs and removes it: a test's cleanup. */
void orch_test_discard (OrchTestDaemon *d, const char *id);

/* The pids of the job's group as the backend sees it, but its
 * orchestrator-monitor. */
GArray *orch_test_job_pids (OrchTestDaemon *d, GVariant *record);

gboolean orch_test_pid_alive (pid_t pid);

/* A record's string or number field; the test fails if it is missing. */
const char *orch_test_rec_str (GVariant *record, const char *key);
gint64 orch_test_rec_int (GVariant *record, const char *key);
/* The job's log file as it is now ("" if there is none). */
char *orch_test_log_text (OrchTestDaemon *d, const char *id);
/* How many events of @kind GetEvents' list @events holds. */
guint orch_test_count_kind (GVariant *events, const char *kind);

/* cgroupfs: the job's cgroup files say memory.max 64 MiB, cpu.max half a
 * core, pids.max 32 (the limits test-jobs and test-ctl ask for). */
void orch_test_check_limits (OrchTestDaemon *d, GVariant *record);

/* Starts orchestrator-rest ($ORCHESTRATOR_REST) against the test bus with
 * @extra arguments (--no-auth unless they name a --token-file) and reads
 * the URL it listens on into @ret_base (NULL if it refused to start: it
 * has exited then). */
/* A launcher whose children get SIGTERM when the test process dies, however
 * it dies (a helper tool such as a validating proxy). */
GSubprocessLauncher *orch_test_launcher_new (GSubprocessFlags flags);
GSubprocess *orch_test_shim_start (OrchTestDaemon *d, const char *const *extra, char **ret_base,
                                   GError **error);

/* One test case of a program: its GTest path and function. */
typedef struct {
  const char *path;
  GTestFunc func;
} OrchTestCase;

/* A bus test program, as its main() describes it to orch_test_main(). */
typedef struct {
  /* Where the tests find the daemon: set before the tests run. */
  OrchTestDaemon **daemon;
  /* The daemon's configuration beyond backend and directories. */
  const char *config;
  /* orch_test_daemon_new_open() rather than orch_test_daemon_new(). */
  gboolean open_bus;
  /* After g_test_init(), before the daemon starts: NULL, or why the
   * whole program is skipped. */
  char *(*prepare) (void);
  /* If set: orchestrator-rest listening on 127.0.0.1 for the tests, its
   * URL in *shim_base; at the end it must exit cleanly on SIGTERM. */
  GSubprocess **shim;
  char **shim_base;
  /* After the daemon (and shim) serve, before the tests run. */
  void (*setup) (void);
  /* After the tests, before the shim and the daemon go. */
  void (*teardown) (void);
  /* Up to { NULL, NULL }. */
  const OrchTestCase *tests;
} OrchTestProgram;

/* The main() of a bus test program: g_test_init(), the daemon on a
 * private bus with the backend argv[1] names after the GTest options
 * ("none" without one), the program's tests, and everything gone at the
 * end.  Returns g_test_run()'s status, or 77 (skip, said in TAP) when
 * the program or the backend cannot run here. */
int orch_test_main (int argc, char **argv, const OrchTestProgram *program);

G_END_DECLS
