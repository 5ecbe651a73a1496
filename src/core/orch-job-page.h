/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* One page of a job list (Jobs.List's "after" and "limit"), so that a
 * client with thousands of jobs asks for them a page at a time, each page
 * costing its own size and not the list's. */
#include <glib.h>

G_BEGIN_DECLS

/* An item's place in creation order: a number that only grows. */
typedef guint64 (*OrchJobPageSeq) (gconstpointer item);

/* Where in @order (items by ascending @seq_of) the first item whose
 * number is above @after is: @order->len if none.  A binary search: a
 * page "after" a job costs log n to find, not a walk of the list. */
guint orch_job_page_start (GPtrArray *order, OrchJobPageSeq seq_of, guint64 after);

G_END_DECLS
