/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The shim's bearer token in @path: read if the file exists (it must not
 * be readable by others), else made from 32 random bytes and written
 * with mode 0640, group @group where that group exists, so root and the
 * group can read it and nobody else.  @ret_created says which. */
char *orch_rest_token_load_or_create (const char *path, const char *group,
                                      gboolean *ret_created, GError **error);

G_END_DECLS
