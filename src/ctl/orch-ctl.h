/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Exit codes scripts can rely on (also in the man page). */
enum {
  ORCH_CTL_EXIT_OK = 0,
  ORCH_CTL_EXIT_FAILED = 1,
  ORCH_CTL_EXIT_USAGE = 2,
  ORCH_CTL_EXIT_NOT_FOUND = 4,
};

/* What every subcommand gets: the global options and, once asked for,
 * the bus. */
typedef struct {
  gboolean system;
  gboolean user;          /* session bus */
  char *bus_address;
  gboolean colour;        /* stdout is a terminal and NO_COLOR is unset */
  GDBusConnection *bus;
} OrchCtl;

typedef int (*OrchCtlCommand) (OrchCtl *ctl, int argc, char **argv);

/* ---- orch-ctl-args.c ---- */

/* Prints "orchestratorctl: MESSAGE" on stderr (one line) and returns @code. */
int orch_ctl_fail (int code, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Parses a subcommand's options (@entries, plus the global ones unless
 * @no_user_global: `run --user` names the job's user).  -h/--help prints
 * the help and sets *@exit_code to 0; a bad option sets it to 2; either
 * way FALSE.  @params is the synopsis after the command ("ID"). */
gboolean orch_ctl_parse (OrchCtl *ctl, const char *command, const char *params, const char *summary,
                         const GOptionEntry *entries, gboolean no_user_global, int *argc, char ***argv,
                         int *exit_code);

/* Exactly @n positional arguments left (argv[1..n]), else a usage error. */
gboolean orch_ctl_want_args (int argc, char **argv, int n, const char *command, int *exit_code);

/* ---- orch-ctl-bus.c ---- */

/* Calls org.orchestrator.@iface.@method on the daemon.  On failure prints
 * one line saying what to do, sets *@exit_code (4 NotFound, 2 the user's
 * input was wrong, 1 otherwise) and returns NULL. */
GVariant *orch_ctl_call (OrchCtl *ctl, const char *iface, const char *method, GVariant *params,
                         const char *reply_type, int *exit_code);
/* As orch_ctl_call, with an fd list back (Logs.Open). */
GVariant *orch_ctl_call_fds (OrchCtl *ctl, const char *iface, const char *method, GVariant *params,
                             const char *reply_type, GUnixFDList **ret_fds, int *exit_code);
/* As orch_ctl_call, quietly: the error is the caller's (the bus must be
 * connected already). */
GVariant *orch_ctl_try_call (OrchCtl *ctl, const char *iface, const char *method, GVariant *params,
                             const char *reply_type, GError **error);
/* Prints a failed call's error as orch_ctl_call does; returns the exit code. */
int orch_ctl_report_error (GError *error);
/* The bus, connected on first use; NULL (message printed) on failure. */
GDBusConnection *orch_ctl_bus (OrchCtl *ctl, int *exit_code);
/* Jobs.Get: the record, or NULL with the error printed. */
GVariant *orch_ctl_get_job (OrchCtl *ctl, const char *id, int *exit_code);

/* ---- orch-ctl-output.c ---- */

/* SGR sequences, or "" when colour is off. */
const char *orch_ctl_sgr (OrchCtl *ctl, const char *sgr);
#define ORCH_SGR_BOLD "1"
#define ORCH_SGR_DIM "2"
#define ORCH_SGR_RED "31"
#define ORCH_SGR_GREEN "32"
#define ORCH_SGR_YELLOW "33"
/* The colour that says a job state at a glance. */
const char *orch_ctl_state_colour (const char *state);

/* Pretty JSON of @v on stdout, one trailing newline. */
void orch_ctl_print_json (GVariant *v);

/* Record fields, tolerant of a missing key. */
const char *orch_ctl_rec_str (GVariant *rec, const char *key);
guint64 orch_ctl_rec_u64 (GVariant *rec, const char *key);
gint64 orch_ctl_rec_i64 (GVariant *rec, const char *key, gint64 missing);
double orch_ctl_rec_double (GVariant *rec, const char *key);
gboolean orch_ctl_rec_has (GVariant *rec, const char *key);

/* A job's state, is it over (exited, failed, stopped)? */
gboolean orch_ctl_state_is_final (const char *state);

/* How long a job has been up ("5min 3s"), or "-" when it does not run. */
char *orch_ctl_job_uptime (GVariant *rec, gint64 now_usec);
/* "12.3" or "-" */
char *orch_ctl_format_percent (GVariant *rec, const char *key);
/* A time in µs since the epoch as local "YYYY-MM-DD HH:MM:SS". */
char *orch_ctl_format_time (guint64 usec);

/* ---- orch-ctl-table.c ---- */

typedef struct _OrchCtlTable OrchCtlTable;

OrchCtlTable *orch_ctl_table_new (OrchCtl *ctl, const char *const *headers);
void orch_ctl_table_free (OrchCtlTable *t);
/* Columns holding numbers align right. */
void orch_ctl_table_align_right (OrchCtlTable *t, guint column);
/* A row of as many cells as headers; @colour (an SGR, or NULL) for the
 * cell in @colour_column. */
void orch_ctl_table_add (OrchCtlTable *t, const char *const *cells, guint colour_column, const char *colour);
/* The table as text, each line at most @max_width columns (0: no limit). */
void orch_ctl_table_print (OrchCtlTable *t, GString *out, guint max_width);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchCtlTable, orch_ctl_table_free)

/* The job table of `list` and `top`: ID NAME STATE PID CPU% MEMORY UPTIME. */
OrchCtlTable *orch_ctl_job_table (OrchCtl *ctl, GVariant *jobs, gboolean busiest_first);

/* ---- subcommands ---- */
int orch_ctl_cmd_run (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_list (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_status (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_stop (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_restart (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_rm (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_logs (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_cleanup (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_metrics (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_top (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_set_limits (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_events (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_schedule (OrchCtl *ctl, int argc, char **argv);

/* ---- orch-ctl-schedules.c ---- */

/* Schedules.Create's a{sv} (floating): @job is the job spec; 0/NULL leave
 * a key out. */
GVariant *orch_ctl_schedule_params (const char *name, const char *calendar, const char *cron,
                                    guint64 every_s, const char *overlap, gboolean persistent,
                                    guint32 delay_s, guint32 timeout_s, GVariant *job);
int orch_ctl_cmd_group (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_scale (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_forecast (OrchCtl *ctl, int argc, char **argv);
int orch_ctl_cmd_recommend (OrchCtl *ctl, int argc, char **argv);

/* Reads a log: the last @tail_lines lines (0: all of it) of @stream
 * into @out; *@ret_end is the offset after it.  For status and logs;
 * the bus must be connected. */
gboolean orch_ctl_read_log (OrchCtl *ctl, const char *id, const char *stream, guint tail_lines,
                            GString *out, guint64 *ret_end, GError **error);
/* The same with timestamps b / format s ("text", "json") added to each
 * Logs.Read (the daemon refuses them for a job without log_timestamps). */
gboolean orch_ctl_read_log_shown (OrchCtl *ctl, const char *id, const char *stream,
                                  guint tail_lines, gboolean timestamps, const char *format,
                                  GString *out, guint64 *ret_end, GError **error);

G_END_DECLS
