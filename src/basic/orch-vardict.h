/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Checks that @dict (a{sv}) has only keys of @allowed ({"key", "type",
 * ..., NULL}) with those types; @what names the dict in messages
 * ("option", "filter").  Then g_variant_lookup() reads them safely. */
gboolean orch_vardict_check (GVariant *dict, const char *what,
                             const char *const *allowed, GError **error);

G_END_DECLS
