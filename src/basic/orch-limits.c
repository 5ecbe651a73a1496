/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-limits.h"
#include "orch-error.h"

#include <glib/gi18n.h>
#include <string.h>

/* Indexed by OrchLimit. */
static const OrchLimitInfo limits[ORCH_LIMIT_N] = {
  [ORCH_LIMIT_MEMORY_MAX] = { "memory_max", "memory", "memory.max", "MemoryMax" },
  [ORCH_LIMIT_MEMORY_HIGH] = { "memory_high", "memory", "memory.high", "MemoryHigh" },
  [ORCH_LIMIT_CPU_QUOTA] = { "cpu_quota", "cpu", "cpu.max", "CPUQuotaPerSecUSec" },
  [ORCH_LIMIT_CPU_WEIGHT] = { "cpu_weight", "cpu", "cpu.weight", "CPUWeight" },
  [ORCH_LIMIT_TASKS_MAX] = { "tasks_max", "pids", "pids.max", "TasksMax" },
  [ORCH_LIMIT_IO_WEIGHT] = { "io_weight", "io", "io.weight", "IOWeight" },
};

const char *const orch_limits_field_types[] = {
  "memory_max", "t",         "memory_high", "t",         "cpu_quota", "d",  "cpu_weight",
  "u",          "tasks_max", "u",           "io_weight", "u",         NULL,
};

/* The kernel's cpu.max period: quota per second / 10. */
#define CPU_PERIOD_US 100000

const OrchLimitInfo *
orch_limit_info (OrchLimit l)
{
  g_return_val_if_fail ((guint) l < ORCH_LIMIT_N, &limits[0]);
  return &limits[l];
}

static guint64
cores_to_usec (double cores)
{
  return cores > 0 ? (guint64) (cores * 1000000.0 + 0.5) : 0;
}

void
orch_limits_from_spec (const OrchSpec *spec, OrchLimits *out)
{
  out->mask = (1u << ORCH_LIMIT_N) - 1;
  out->value[ORCH_LIMIT_MEMORY_MAX] = spec->memory_max;
  out->value[ORCH_LIMIT_MEMORY_HIGH] = spec->memory_high;
  out->value[ORCH_LIMIT_CPU_QUOTA] = cores_to_usec (spec->cpu_quota);
  out->value[ORCH_LIMIT_CPU_WEIGHT] = spec->cpu_weight;
  out->value[ORCH_LIMIT_TASKS_MAX] = spec->tasks_max;
  out->value[ORCH_LIMIT_IO_WEIGHT] = spec->io_weight;
}

void
orch_limits_set_in_spec (const OrchSpec *spec, OrchLimits *out)
{
  orch_limits_from_spec (spec, out);
  for (guint i = 0; i < ORCH_LIMIT_N; i++)
    if (out->value[i] == 0)
      out->mask &= ~(1u << i);
}

static gboolean
is_zero (GVariant *v)
{
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64))
    return g_variant_get_uint64 (v) == 0;
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (v) == 0;
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    return g_variant_get_double (v) == 0.0;
  return FALSE;
}

gboolean
orch_limits_from_variant (GVariant *dict, OrchLimits *out, GError **error)
{
  g_autoptr(OrchSpec) scratch = orch_spec_new ();
  OrchLimits parsed = { 0 };
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      guint i;

      for (i = 0; i < ORCH_LIMIT_N; i++)
        if (strcmp (limits[i].key, key) == 0)
          break;
      if (i == ORCH_LIMIT_N)
        {
          g_set_error (
              error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
              _("“%s” is not a limit (memory_max, memory_high, cpu_quota, cpu_weight, tasks_max, io_weight)"),
              key);
          g_variant_unref (value);
          return FALSE;
        }
      if (parsed.mask & (1u << i))
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("limit “%s” is given more than once"), key);
          g_variant_unref (value);
          return FALSE;
        }
      parsed.mask |= 1u << i;
      /* 0 removes the limit; anything else is checked as at Create. */
      if (is_zero (value))
        continue;
      if (!orch_spec_parse_field (scratch, key, value, error))
        {
          g_variant_unref (value);
          return FALSE;
        }
    }
  if (parsed.mask == 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, _("no limit given"));
      return FALSE;
    }
  orch_limits_from_spec (scratch, out);
  out->mask = parsed.mask;
  return TRUE;
}

void
orch_limits_apply (const OrchLimits *l, OrchSpec *spec)
{
  const guint64 *v = l->value;

  if (l->mask & (1u << ORCH_LIMIT_MEMORY_MAX))
    spec->memory_max = v[ORCH_LIMIT_MEMORY_MAX];
  if (l->mask & (1u << ORCH_LIMIT_MEMORY_HIGH))
    spec->memory_high = v[ORCH_LIMIT_MEMORY_HIGH];
  if (l->mask & (1u << ORCH_LIMIT_CPU_QUOTA))
    spec->cpu_quota = (double) v[ORCH_LIMIT_CPU_QUOTA] / 1000000.0;
  if (l->mask & (1u << ORCH_LIMIT_CPU_WEIGHT))
    spec->cpu_weight = (guint) v[ORCH_LIMIT_CPU_WEIGHT];
  if (l->mask & (1u << ORCH_LIMIT_TASKS_MAX))
    spec->tasks_max = (guint) v[ORCH_LIMIT_TASKS_MAX];
  if (l->mask & (1u << ORCH_LIMIT_IO_WEIGHT))
    spec->io_weight = (guint) v[ORCH_LIMIT_IO_WEIGHT];
}

GVariant *
orch_limits_to_variant (const OrchLimits *l)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (guint i = 0; i < ORCH_LIMIT_N; i++)
    {
      guint64 v = l->value[i];
      GVariant *gv;

      if (!(l->mask & (1u << i)))
        continue;
      if (i == ORCH_LIMIT_MEMORY_MAX || i == ORCH_LIMIT_MEMORY_HIGH)
        gv = g_variant_new_uint64 (v);
      else if (i == ORCH_LIMIT_CPU_QUOTA)
        gv = g_variant_new_double ((double) v / 1000000.0);
      else
        gv = g_variant_new_uint32 ((guint32) v);
      g_variant_builder_add (&b, "{sv}", limits[i].key, gv);
    }
  return g_variant_builder_end (&b);
}

int
orch_limits_missing_controller (const OrchLimits *l, const char *const *controllers)
{
  for (guint i = 0; i < ORCH_LIMIT_N; i++)
    if ((l->mask & (1u << i)) &&
        (controllers == NULL || !g_strv_contains (controllers, limits[i].controller)))
      return (int) i;
  return -1;
}

char *
orch_limit_cgroup_text (OrchLimit l, guint64 value)
{
  switch (l)
    {
    case ORCH_LIMIT_CPU_QUOTA:
      if (value == 0)
        return g_strdup ("max " G_STRINGIFY (CPU_PERIOD_US));
      return g_strdup_printf ("%" G_GUINT64_FORMAT " " G_STRINGIFY (CPU_PERIOD_US),
                              MAX (value / (1000000 / CPU_PERIOD_US), (guint64) 1000));
    case ORCH_LIMIT_CPU_WEIGHT:
      return g_strdup_printf ("%" G_GUINT64_FORMAT, value ? value : 100);
    case ORCH_LIMIT_IO_WEIGHT:
      return g_strdup_printf ("default %" G_GUINT64_FORMAT, value ? value : 100);
    case ORCH_LIMIT_MEMORY_MAX:
    case ORCH_LIMIT_MEMORY_HIGH:
    case ORCH_LIMIT_TASKS_MAX:
    case ORCH_LIMIT_N:
    default:
      return value ? g_strdup_printf ("%" G_GUINT64_FORMAT, value) : g_strdup ("max");
    }
}

guint64
orch_limit_systemd_value (OrchLimit l, guint64 value)
{
  /* systemd takes UINT64_MAX as "infinity" for the limits and "unset"
   * (the default) for the weights. */
  return value ? value : G_MAXUINT64;
}
