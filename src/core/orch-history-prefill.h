/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* Test only: with ORCH_TEST_HISTORY_PREFILL set in the daemon's
 * environment, a history ring starts out as full as 24 h of sampling
 * leaves it, so that the daemon's memory with full history depth can be
 * measured without waiting a day (tests/bench/bench-rss.sh). */
#include "basic/orch-ring.h"

G_BEGIN_DECLS

/* Whether ORCH_TEST_HISTORY_PREFILL is set (read once). */
gboolean orch_history_prefill_enabled (void);

/* Fills @ring, still empty, with samples every @interval_ms (and the timer
 * jitter the sampler has) from @depth_s seconds before @time_us until just
 * before it.  @values (n of them) are the subject's first figures: a
 * sleeping job's stay as they are but for a rare CPU blip; with @vary every
 * figure moves by up to ±0.5 % a sample (the system's: a worst case for
 * the XOR encoding).  Nothing when not enabled or @ring holds samples. */
void orch_history_prefill (OrchRing *ring, gint64 time_us, const double *values, guint n,
                           guint interval_ms, guint depth_s, gboolean vary);

G_END_DECLS
