/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-rest-bus.h"
#include "orch-rest-sdbus.h"

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "basic/orch-log-read.h"

G_BEGIN_DECLS

/* GET /logs/{id}?follow=1: the log as a chunked stream from @offset (or
 * from its current end when @from_end), new output as it lands, until the
 * job ends or the client goes away; through a lost bus too.  @msg is
 * paused; this unpauses it. */
void orch_rest_follow_log (OrchRestBus *bus, SoupServerMessage *msg, const char *id,
                           const char *stream, guint64 offset, gboolean from_end);
/* The same, shown as @show says (timestamps=1, format=json): a job with
 * log_timestamps is rendered record by record (JSON lines as
 * application/x-ndjson); another job takes only ORCH_LOG_SHOW_PLAIN. */
void orch_rest_follow_log_shown (OrchRestBus *bus, SoupServerMessage *msg, const char *id,
                                 const char *stream, guint64 offset, gboolean from_end,
                                 OrchLogShow show);

/* /ws/metrics: every SystemSampled and JobChanged as JSON text frames,
 * {"type": "system", "data": {...}} and {"type": "job", "id": ...,
 * "data": {...}}, to every connected client. */
typedef struct _OrchRestFeed OrchRestFeed;

OrchRestFeed *orch_rest_feed_new (OrchRestBus *bus);
void orch_rest_feed_add (OrchRestFeed *feed, SoupWebsocketConnection *conn);
void orch_rest_feed_free (OrchRestFeed *feed);
/* The `jobs` frame's Jobs.List goes over @sdbus (owned by the caller,
 * outliving @feed) when it is connected, by GDBus otherwise. */
void orch_rest_feed_set_sdbus (OrchRestFeed *feed, OrchRestSdBus *sdbus);

G_END_DECLS
