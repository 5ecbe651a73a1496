/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-ring.h"

G_BEGIN_DECLS

/* History rows (aa{sv}) from @ring for a query's options (since t, limit
 * u, step_s u): timestamp t and @keys[i] d for column i; an unknown (NaN)
 * value is left out of its row rather than shown as 0. */
GVariant *orch_history_rows (OrchRing *ring, const char *const *keys, guint n_keys,
                             GVariant *options, GError **error);

G_END_DECLS
