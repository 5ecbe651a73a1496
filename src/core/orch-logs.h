/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-config.h"
#include "basic/orch-log-read.h"
#include "orch-manager.h"

#include <glib.h>

G_BEGIN_DECLS

/* The job logs on disk: reading, handing out fds, deleting, cleaning up.
 * Every file is reached through the log directory's fd by a name built
 * from a validated job id, never from a path a caller gave. */
typedef struct _OrchLogs OrchLogs;

OrchLogs *orch_logs_new (const OrchConfig *config, OrchManager *manager, GError **error);
void orch_logs_free (OrchLogs *logs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchLogs, orch_logs_free)

/* options (a{sv}): stream s (all|stdout|stderr), offset t, tail_lines u,
 * max_bytes u. */
gboolean orch_logs_read (OrchLogs *logs, const char *id, GVariant *options,
                         char **ret_text, guint64 *ret_next_offset, GError **error);
/* What @stream of @job holds, as JSON lines name it: "all" (stdout and
 * stderr merged, in the order written), "stdout" or "stderr". */
const char *orch_logs_stream_name (OrchJob *job, const char *stream);
/* options (a{sv}) also: timestamps b, format s (text|json), which need a
 * job created with log_timestamps (else ORCH_ERROR_INVALID_ARGUMENT). */
/* A read-only fd on the job's @stream log, for following it. */
int orch_logs_open (OrchLogs *logs, const char *id, const char *stream, GError **error);
/* Removes the job's logs; a running job's are truncated instead, so its
 * output keeps landing in a file that clients can see. */
gboolean orch_logs_delete (OrchLogs *logs, const char *id, GError **error);
/* options: older_than_s t.  Removes the logs of finished jobs that ended
 * at least that long ago (and of jobs no longer known, by file age). */
gboolean orch_logs_cleanup (OrchLogs *logs, GVariant *options, guint *ret_removed,
                            guint64 *ret_bytes, GError **error);

G_END_DECLS
