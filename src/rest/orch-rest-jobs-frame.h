/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* The /ws/metrics `jobs` frame, {"type":"jobs","data":[...]}, from a
 * Jobs.List reply: for each record with a process, its id, pid,
 * cpu_percent, memory_bytes and, when the record has them,
 * io_read_bytes and io_write_bytes (the sampler's figures, which have no
 * signal of their own).  From the message where it lies (@m at the
 * aa{sv}), the other keys skipped unread: the frame goes out after every
 * sample, and building the full records as GVariants was its cost.
 * Negative errno for a malformed reply, with @out as it was. */
int orch_rest_jobs_frame_from_message (GString *out, sd_bus_message *m);

/* Jobs.List's arguments for the frame: the filter naming only the keys
 * it reads (floating). */
GVariant *orch_rest_jobs_frame_list_args (void);

/* The same text from the reply as GDBus has it (@jobs: aa{sv}), for
 * when the sd-bus connection is not there. */
void orch_rest_jobs_frame_from_variant (GString *out, GVariant *jobs);

G_END_DECLS
