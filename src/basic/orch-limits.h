/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-spec.h"

#include <glib.h>

G_BEGIN_DECLS

/* The resource limits a job's group can carry, at Create (spec fields) and
 * later (SetLimits).  One table maps each to its cgroup v2 controller and
 * file and its systemd property; the backends walk it. */
typedef enum {
  ORCH_LIMIT_MEMORY_MAX,
  ORCH_LIMIT_MEMORY_HIGH,
  ORCH_LIMIT_CPU_QUOTA,
  ORCH_LIMIT_CPU_WEIGHT,
  ORCH_LIMIT_TASKS_MAX,
  ORCH_LIMIT_IO_WEIGHT,
  ORCH_LIMIT_N
} OrchLimit;

typedef struct {
  const char *key;        /* spec field and SetLimits key */
  const char *controller; /* cgroup v2 controller */
  const char *file;       /* its file in the job's cgroup */
  const char *property;   /* systemd unit property, type t */
} OrchLimitInfo;

const OrchLimitInfo *orch_limit_info (OrchLimit l);

/* The limits' keys and D-Bus types as pairs ("memory_max", "t", ...,
 * NULL), for clients decoding SetLimits' argument from another format. */
extern const char *const orch_limits_field_types[];

/* Limits to set: those in @mask (1 << OrchLimit), each 0 for "no limit".
 * cpu_quota is in microseconds of CPU per second (cores × 10⁶), the unit
 * both systemd and cpu.max take. */
typedef struct {
  guint mask;
  guint64 value[ORCH_LIMIT_N];
} OrchLimits;

/* Every limit of @spec, set or not (0). */
void orch_limits_from_spec (const OrchSpec *spec, OrchLimits *out);
/* Only the limits @spec sets. */
void orch_limits_set_in_spec (const OrchSpec *spec, OrchLimits *out);
/* A SetLimits argument: only limit keys, each checked as the spec field of
 * that name is, except that 0 removes the limit.  At least one. */
gboolean orch_limits_from_variant (GVariant *dict, OrchLimits *out, GError **error);
/* Writes @l's limits into @spec. */
void orch_limits_apply (const OrchLimits *l, OrchSpec *spec);
/* @l as a{sv} with the spec's keys and types (0 where removed). */
GVariant *orch_limits_to_variant (const OrchLimits *l);

/* The first limit of @l whose controller is not in @controllers (NULL-
 * terminated), or -1 when all are there. */
int orch_limits_missing_controller (const OrchLimits *l, const char *const *controllers);

/* The text to write to the limit's cgroup v2 file for @value. */
char *orch_limit_cgroup_text (OrchLimit l, guint64 value);
/* The value of the limit's systemd property for @value (0: its "unset"). */
guint64 orch_limit_systemd_value (OrchLimit l, guint64 value);

G_END_DECLS
