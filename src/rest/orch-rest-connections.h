/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The deadlines of the shim's HTTP connections: a connection that stalls
 * for @timeout_s seconds in a request (half a request sent, an answer
 * not read) or that idles that long between two requests is dropped, and
 * one whose client closed it while it idled is closed at once.
 *
 * libsoup before 3.3.0 does neither for an idle keep-alive connection: it
 * keeps the connection and its fd for ever (CLOSE-WAIT), so there the
 * shim watches each idle connection itself.  And libsoup before 3.4.0
 * keeps one reference too many on each accepted socket (a few hundred
 * bytes per connection, for ever), which the shim gives back. */
typedef struct _OrchRestConnections OrchRestConnections;

OrchRestConnections *orch_rest_connections_new (SoupServer *server, guint timeout_s);
void orch_rest_connections_set_timeout (OrchRestConnections *self, guint timeout_s);
void orch_rest_connections_free (OrchRestConnections *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchRestConnections, orch_rest_connections_free)

G_END_DECLS
