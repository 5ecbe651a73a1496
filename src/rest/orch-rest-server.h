/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-rest-bus.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* The REST shim's HTTP side: every endpoint is one call to orchestratord
 * on @bus (GDBus, async: a request waits paused, nothing blocks), which
 * answers 503 while the bus is away and 504 when the daemon does not
 * answer in time. */
typedef struct _OrchRestServer OrchRestServer;

/* @token: required as "Authorization: Bearer <token>" on every endpoint
 * but the public ones (/healthz, /openapi.json, /docs), NULL for none.
 * @data_dir holds the files the file routes serve (openapi.json,
 * docs.html); they are read here, once. */
OrchRestServer *orch_rest_server_new (OrchRestBus *bus, const char *token,
                                      const char *data_dir, GError **error);
void orch_rest_server_free (OrchRestServer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchRestServer, orch_rest_server_free)

/* Seconds a connection may stall on one read or write (default 30). */
void orch_rest_server_set_timeout (OrchRestServer *self, guint seconds);

/* Request headers over @max_header_bytes get 431. */
void orch_rest_server_set_limits (OrchRestServer *self, guint max_header_bytes);
/* Origins answered with CORS headers ("*": any); none by default. */
void orch_rest_server_set_cors (OrchRestServer *self, const char *const *origins);

/* "127.0.0.1:8000", "[::1]:8000", "localhost:0" ... */
gboolean orch_rest_server_listen (OrchRestServer *self, const char *host_port, GError **error);
/* A socket from systemd socket activation. */
gboolean orch_rest_server_listen_fd (OrchRestServer *self, int fd, GError **error);
/* The URIs listened on (for tests that asked for port 0). */
GSList *orch_rest_server_get_uris (OrchRestServer *self);

/* Whether @host_port only listens on loopback. */
gboolean orch_rest_listen_is_loopback (const char *host_port);

G_END_DECLS
