/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* What orchestrator-monitor wrote when the job's process ended: the
 * daemon's side of the format in orch-launch-proto.h. */
typedef struct {
  pid_t pid;
  int status;           /* waitpid()'s */
  gint64 finished_at;   /* microseconds since the epoch */
} OrchExitRecord;

/* Parses ID.exit (ORCH_EXIT_RECORD_FORMAT); -EBADMSG if it is not that. */
int orch_exit_record_parse (const char *text, gsize len, OrchExitRecord *out);
/* Reads @dir_fd/@id.exit: 0, -ENOENT, or another -errno. */
int orch_exit_record_read (int dir_fd, const char *id, OrchExitRecord *out);
/* Removes ID.exit and, with @prepared_too, the ID.exit.tmp a killed
 * monitor may have left (a record that was read consumed its own). */
void orch_exit_record_remove (int dir_fd, const char *id, gboolean prepared_too);

G_END_DECLS
