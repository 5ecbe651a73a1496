/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-bus-jobs.h"
#include "orch-bus-auth.h"
#include "orch-bus-error.h"
#include "orch-bus-variant.h"

#include "core/orch-auth.h"
#include "basic/orch-error.h"
#include "basic/orch-id.h"
#include "core/orch-sd-bus.h"
#include "basic/orch-vardict.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#define OBJ_PATH "/org/orchestrator"
#define JOB_PREFIX "/org/orchestrator/job"
#define JOBS_IFACE "org.orchestrator.Jobs"
#define JOB_IFACE "org.orchestrator.Job"

struct _OrchBusJobs {
  sd_bus *bus;
  OrchManager *manager;
  OrchBusAuth *auth;
  sd_bus_slot *slots[5];
  guint last_running;
  OrchEvents *events;
};

/* ---- helpers ---- */

static char *
job_path (const char *id)
{
  return g_strconcat (JOB_PREFIX "/", id, NULL);
}

static const char *
id_from_path (const char *path)
{
  if (!g_str_has_prefix (path, JOB_PREFIX "/"))
    return NULL;
  path += strlen (JOB_PREFIX "/");
  return orch_job_id_is_valid (path) ? path : NULL;
}

static int
append_field (sd_bus_message *m, const OrchJobField *f, const OrchFieldValue *v)
{
  switch (f->type)
    {
    case ORCH_FIELD_STRV:
      return sd_bus_message_append_strv (m, (char **) v->strv);
    case ORCH_FIELD_UINT32:
      return sd_bus_message_append_basic (m, 'u', &v->u);
    case ORCH_FIELD_INT32:
      return sd_bus_message_append_basic (m, 'i', &v->i);
    case ORCH_FIELD_UINT64:
      return sd_bus_message_append_basic (m, 't', &v->t);
    case ORCH_FIELD_DOUBLE:
      return sd_bus_message_append_basic (m, 'd', &v->d);
    case ORCH_FIELD_BOOLEAN:
      {
        int b = v->u != 0;
        return sd_bus_message_append_basic (m, 'b', &b);
      }
    case ORCH_FIELD_STRING:
    default:
      return sd_bus_message_append_basic (m, 's', v->s);
    }
}

/* The job record as a{sv}, written straight into @m: records are what the
 * daemon sends most (List, JobChanged), and going through GVariant cost
 * several times more (measured with perf: GVariant locking and allocation
 * dominated a List of 200 jobs). */
static int
append_fields (sd_bus_message *m, const OrchJob *job, guint64 mask)
{
  gsize n;
  const OrchJobField *fields = orch_job_fields (&n);
  int r = sd_bus_message_open_container (m, 'a', "{sv}");

  for (gsize i = 0; r >= 0 && i < n; i++)
    {
      OrchFieldValue v;
      if (!(mask & (G_GUINT64_CONSTANT (1) << i)) || !fields[i].get (job, &v))
        continue;
      r = sd_bus_message_open_container (m, 'e', "sv");
      if (r >= 0)
        r = sd_bus_message_append_basic (m, 's', fields[i].key);
      if (r >= 0)
        r = sd_bus_message_open_container (m, 'v', orch_field_type_signature (fields[i].type));
      if (r >= 0)
        r = append_field (m, &fields[i], &v);
      if (r >= 0)
        r = sd_bus_message_close_container (m);
      if (r >= 0)
        r = sd_bus_message_close_container (m);
    }
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  return r;
}

static int
append_record (sd_bus_message *m, const OrchJob *job)
{
  return append_fields (m, job, ORCH_JOB_FIELDS_ALL);
}

static int
reply_record (sd_bus_message *m, OrchJob *job)
{
  g_autoptr(sd_bus_message) reply = NULL;
  int r;

  r = sd_bus_message_new_method_return (m, &reply);
  if (r >= 0)
    r = append_record (reply, job);
  if (r >= 0)
    r = sd_bus_send (NULL, reply, NULL);
  return r;
}

/* A reply that waits for the job (Stop, Restart). */
typedef struct {
  OrchBusJobs *self;
  sd_bus_message *m;
} Deferred;

static void
deferred_done (OrchJob *job, const GError *error, gpointer data)
{
  Deferred *d = data;
  int r = error ? orch_bus_reply_gerror (d->m, error) : reply_record (d->m, job);

  if (r < 0)
    g_debug ("cannot send a deferred reply: %s", g_strerror (-r));
  sd_bus_message_unref (d->m);
  g_free (d);
}

static Deferred *
deferred_new (OrchBusJobs *self, sd_bus_message *m)
{
  Deferred *d = g_new0 (Deferred, 1);

  d->self = self;
  d->m = sd_bus_message_ref (m);
  return d;
}

static int
do_stop (OrchBusJobs *self, sd_bus_message *m, const char *id, sd_bus_error *ret_error)
{
  g_autoptr(GVariant) opts = NULL;
  g_autoptr(GError) error = NULL;
  gint32 sig = 0;
  guint32 timeout_ms = 0;
  int r = orch_bus_read_argument (m, &opts, ret_error);

  if (r < 0)
    return r;
  if (!orch_vardict_check (opts, _("option"),
                           (const char *const[]){ "signal", "i", "timeout_ms", "u", NULL }, &error))
    return orch_bus_set_gerror (ret_error, error);
  g_variant_lookup (opts, "signal", "i", &sig);
  g_variant_lookup (opts, "timeout_ms", "u", &timeout_ms);
  if (g_variant_lookup_value (opts, "signal", NULL) && sig == 0)
    {
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("option “signal”: 0 is not a signal number"));
      return orch_bus_set_gerror (ret_error, error);
    }
  orch_manager_stop (self->manager, id, sig, timeout_ms, deferred_done, deferred_new (self, m));
  return 1;
}

static int
do_set_limits (OrchBusJobs *self, sd_bus_message *m, const char *id, sd_bus_error *ret_error)
{
  g_autoptr(GVariant) limits = NULL;
  int r = orch_bus_read_argument (m, &limits, ret_error);

  if (r < 0)
    return r;
  orch_manager_set_limits (self->manager, id, limits, deferred_done, deferred_new (self, m));
  return 1;
}

/* ---- org.orchestrator.Jobs ---- */

static int
create_job (OrchBusJobs *self, sd_bus_message *m, GVariant *spec, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  OrchJob *job = orch_manager_create (self->manager, spec, &error);

  if (job == NULL)
    return orch_bus_set_gerror (ret_error, error);
  path = job_path (job->id);
  return sd_bus_reply_method_return (m, "so", job->id, path);
}

/* Root or polkit said yes to running the job as the user it names. */
static int
create_as_named_user (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GVariant) spec = NULL;
  int r = sd_bus_message_rewind (m, 1);

  if (r >= 0)
    r = orch_bus_read_argument (m, &spec, ret_error);
  if (r < 0)
    return r;
  return create_job (userdata, m, spec, ret_error);
}

static int
create_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;
  g_autoptr(GVariant) spec = NULL;
  g_autoptr(GVariant) run_as = NULL;
  gboolean other_user;
  uid_t caller;
  int r = orch_bus_read_argument (m, &spec, ret_error);

  if (r < 0)
    return r;
  r = orch_bus_auth_caller_uid (self->auth, m, &caller);
  if (r < 0)
    return r;
  /* A caller other than root runs jobs as itself unless root or polkit
   * lets it name somebody else: the group grants managing jobs, not
   * becoming root. */
  run_as = orch_auth_spec_run_as (spec, caller, &other_user);
  if (other_user)
    return orch_bus_auth_gate_admin (self->auth, m, create_as_named_user, self, ret_error);
  return create_job (self, m, run_as, ret_error);
}

/* The jobs @filter selects, paged: List's and ListRows' common part.
 * @keys: List's "keys" (NULL where the filter may not have it). */
static GPtrArray *
list_filtered (OrchBusJobs *self, GVariant *filter, const char ***keys, GError **error)
{
  const char *state = NULL, *name = NULL, *after = NULL;
  guint32 limit = 0;

  if (!orch_vardict_check (filter, _("filter"),
                           (const char *const[]){ "state", "s", "name", "s", "limit", "u", "after",
                                                  "s", keys ? "keys" : NULL, "as", NULL },
                           error))
    return NULL;
  g_variant_lookup (filter, "state", "&s", &state);
  g_variant_lookup (filter, "name", "&s", &name);
  g_variant_lookup (filter, "limit", "u", &limit);
  g_variant_lookup (filter, "after", "&s", &after);
  if (keys)
    g_variant_lookup (filter, "keys", "^a&s", keys);
  return orch_manager_list_page (self->manager, state, name, after, limit, error);
}

static int
list_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;
  g_autoptr(GVariant) filter = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(sd_bus_message) reply = NULL;
  g_autofree const char **keys = NULL;
  guint64 mask;
  int r = orch_bus_read_argument (m, &filter, ret_error);

  if (r < 0)
    return r;
  jobs = list_filtered (self, filter, &keys, &error);
  /* Only the fields a caller reads (the live frame): a record is mostly
   * fields it skips. */
  if (jobs == NULL || !orch_job_fields_mask (keys, &mask, &error))
    return orch_bus_set_gerror (ret_error, error);

  r = sd_bus_message_new_method_return (m, &reply);
  if (r < 0)
    return r;
  r = sd_bus_message_open_container (reply, 'a', "a{sv}");
  for (guint i = 0; r >= 0 && i < jobs->len; i++)
    r = append_fields (reply, jobs->pdata[i], mask);
  if (r >= 0)
    r = sd_bus_message_close_container (reply);
  if (r < 0)
    return r;
  return sd_bus_send (NULL, reply, NULL);
}

/* One job as a struct of @columns; a field the record has not reads as
 * its type's zero (a row has every column). */
static int
append_row (sd_bus_message *m, const OrchJob *job, GArray *columns, const char *members)
{
  gsize n;
  const OrchJobField *fields = orch_job_fields (&n);
  static const char *const none[] = { NULL };
  int r = sd_bus_message_open_container (m, 'r', members);

  for (guint c = 0; r >= 0 && c < columns->len; c++)
    {
      const OrchJobField *f = &fields[g_array_index (columns, gsize, c)];
      OrchFieldValue v = { 0 };

      if (!f->get (job, &v))
        {
          memset (&v, 0, sizeof v);
          if (f->type == ORCH_FIELD_STRING)
            v.s = "";
          else if (f->type == ORCH_FIELD_STRV)
            v.strv = none;
        }
      r = append_field (m, f, &v);
    }
  return r < 0 ? r : sd_bus_message_close_container (m);
}

/* List as rows of the record keys a caller names, in its order: one
 * struct a record instead of a dictionary of variants, several times
 * cheaper to write and to read (the shim's Prometheus exposition, issue
 * 15).  The rows come in a variant, since their type is the caller's. */
static int
list_rows_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;
  g_autoptr(GVariant) filter = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GArray) columns = NULL;
  g_autoptr(GString) members = g_string_new (NULL);
  g_autoptr(sd_bus_message) reply = NULL;
  g_auto(GStrv) keys = NULL;
  g_autofree char *array = NULL; /* a(...); the row is array + 1 */
  int r = sd_bus_message_read_strv (m, &keys);

  if (r < 0)
    return r;
  r = orch_bus_read_argument (m, &filter, ret_error);
  if (r < 0)
    return r;
  columns = orch_job_fields_columns ((const char *const *) keys, members, &error);
  if (columns == NULL || (jobs = list_filtered (self, filter, NULL, &error)) == NULL)
    return orch_bus_set_gerror (ret_error, error);
  array = g_strdup_printf ("a(%s)", members->str);

  r = sd_bus_message_new_method_return (m, &reply);
  if (r >= 0)
    r = sd_bus_message_open_container (reply, 'v', array);
  if (r >= 0)
    r = sd_bus_message_open_container (reply, 'a', array + 1);
  for (guint i = 0; r >= 0 && i < jobs->len; i++)
    r = append_row (reply, jobs->pdata[i], columns, members->str);
  if (r >= 0)
    r = sd_bus_message_close_container (reply);
  if (r >= 0)
    r = sd_bus_message_close_container (reply);
  if (r < 0)
    return r;
  return sd_bus_send (NULL, reply, NULL);
}

static int
get_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;
  g_autoptr(GError) error = NULL;
  const char *id;
  OrchJob *job;
  int r = sd_bus_message_read (m, "s", &id);

  if (r < 0)
    return r;
  job = orch_manager_lookup (self->manager, id, &error);
  if (job == NULL)
    return orch_bus_set_gerror (ret_error, error);
  return reply_record (m, job);
}

static int
stop_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  const char *id;
  int r = sd_bus_message_read (m, "s", &id);

  if (r < 0)
    return r;
  return do_stop (userdata, m, id, ret_error);
}

static int
restart_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;
  const char *id;
  int r = sd_bus_message_read (m, "s", &id);

  if (r < 0)
    return r;
  orch_manager_restart (self->manager, id, deferred_done, deferred_new (self, m));
  return 1;
}

static int
remove_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;
  g_autoptr(GError) error = NULL;
  const char *id;
  int r = sd_bus_message_read (m, "s", &id);

  if (r < 0)
    return r;
  if (!orch_manager_remove (self->manager, id, &error))
    return orch_bus_set_gerror (ret_error, error);
  return sd_bus_reply_method_return (m, NULL);
}

static int
set_limits_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  const char *id;
  int r = sd_bus_message_read (m, "s", &id);

  if (r < 0)
    return r;
  return do_set_limits (userdata, m, id, ret_error);
}

static int
get_events_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;
  g_autoptr(GVariant) opts = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(sd_bus_message) out = NULL;
  GVariantBuilder b;
  const char *id;
  guint64 since = 0;
  guint32 limit = 0;
  int r = sd_bus_message_read (m, "s", &id);

  if (r >= 0)
    r = orch_bus_read_argument (m, &opts, ret_error);
  if (r < 0)
    return r;
  if (!orch_vardict_check (opts, _("option"),
                           (const char *const[]){ "since", "t", "limit", "u", NULL }, &error))
    return orch_bus_set_gerror (ret_error, error);
  g_variant_lookup (opts, "since", "t", &since);
  g_variant_lookup (opts, "limit", "u", &limit);
  /* A job's id, or a job group's (its autoscaler's decisions). */
  if (*id && !orch_group_id_is_valid (id) &&
      orch_manager_lookup (self->manager, id, &error) == NULL &&
      !g_error_matches (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND))
    return orch_bus_set_gerror (ret_error, error); /* not an id at all */
  events = orch_events_list (self->events, id, since, limit, &error);
  if (events == NULL)
    return orch_bus_set_gerror (ret_error, error);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < events->len; i++)
    g_variant_builder_add_value (&b, orch_event_to_variant (events->pdata[i]));
  reply = g_variant_ref_sink (g_variant_builder_end (&b));
  r = sd_bus_message_new_method_return (m, &out);
  if (r >= 0)
    r = orch_bus_append_variant (out, reply);
  if (r >= 0)
    r = sd_bus_send (NULL, out, NULL);
  return r;
}

/* Every method goes through the caller check first. */
ORCH_BUS_GATED (method_create, OrchBusJobs, ORCH_ACCESS_MANAGE, create_authorized)
ORCH_BUS_GATED (method_list, OrchBusJobs, ORCH_ACCESS_READ, list_authorized)
ORCH_BUS_GATED (method_get, OrchBusJobs, ORCH_ACCESS_READ, get_authorized)
ORCH_BUS_GATED (method_stop, OrchBusJobs, ORCH_ACCESS_MANAGE, stop_authorized)
ORCH_BUS_GATED (method_restart, OrchBusJobs, ORCH_ACCESS_MANAGE, restart_authorized)
ORCH_BUS_GATED (method_remove, OrchBusJobs, ORCH_ACCESS_MANAGE, remove_authorized)
ORCH_BUS_GATED (method_set_limits, OrchBusJobs, ORCH_ACCESS_MANAGE, set_limits_authorized)
ORCH_BUS_GATED (method_get_events, OrchBusJobs, ORCH_ACCESS_READ, get_events_authorized)
ORCH_BUS_GATED (method_list_rows, OrchBusJobs, ORCH_ACCESS_READ, list_rows_authorized)

static int
prop_backend (sd_bus *bus, const char *path, const char *interface, const char *property,
              sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;

  return sd_bus_message_append (reply, "s", orch_manager_backend_name (self->manager));
}

static int
prop_running (sd_bus *bus, const char *path, const char *interface, const char *property,
              sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;

  return sd_bus_message_append (reply, "u", orch_manager_running_count (self->manager));
}

static int
prop_max (sd_bus *bus, const char *path, const char *interface, const char *property,
          sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;

  return sd_bus_message_append (reply, "u", orch_manager_max_concurrent (self->manager));
}

static int
prop_unknown (sd_bus *bus, const char *path, const char *interface, const char *property,
              sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;

  return sd_bus_message_append_strv (reply, (char **) orch_manager_unknown_units (self->manager));
}

static const sd_bus_vtable jobs_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("Create", SD_BUS_ARGS ("a{sv}", spec),
                           SD_BUS_RESULT ("s", id, "o", path), method_create,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("List", SD_BUS_ARGS ("a{sv}", filter), SD_BUS_RESULT ("aa{sv}", jobs),
                           method_list, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Get", SD_BUS_ARGS ("s", id), SD_BUS_RESULT ("a{sv}", job), method_get,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Stop", SD_BUS_ARGS ("s", id, "a{sv}", options),
                           SD_BUS_RESULT ("a{sv}", job), method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Restart", SD_BUS_ARGS ("s", id), SD_BUS_RESULT ("a{sv}", job),
                           method_restart, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Remove", SD_BUS_ARGS ("s", id), SD_BUS_NO_RESULT, method_remove,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("SetLimits", SD_BUS_ARGS ("s", id, "a{sv}", limits),
                           SD_BUS_RESULT ("a{sv}", job), method_set_limits,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GetEvents", SD_BUS_ARGS ("s", id, "a{sv}", options),
                           SD_BUS_RESULT ("aa{sv}", events), method_get_events,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("ListRows", SD_BUS_ARGS ("as", keys, "a{sv}", filter),
                           SD_BUS_RESULT ("v", rows), method_list_rows, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_SIGNAL_WITH_ARGS ("JobChanged", SD_BUS_ARGS ("s", id, "a{sv}", job), 0),
  SD_BUS_SIGNAL_WITH_ARGS ("JobRemoved", SD_BUS_ARGS ("s", id), 0),
  SD_BUS_SIGNAL_WITH_ARGS ("JobEvent", SD_BUS_ARGS ("s", id, "s", kind, "t", time, "a{sv}", data),
                           0),
  SD_BUS_PROPERTY ("Backend", "s", prop_backend, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("RunningCount", "u", prop_running, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY ("MaxConcurrent", "u", prop_max, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("UnknownUnits", "as", prop_unknown, 0, 0),
  SD_BUS_VTABLE_END
};

/* ---- org.orchestrator.Job, one object per job ---- */

static OrchJob *
job_of_path (OrchBusJobs *self, const char *path, GError **error)
{
  const char *id = id_from_path (path);

  if (id == NULL)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND, _("no job at %s"), path);
      return NULL;
    }
  return orch_manager_lookup (self->manager, id, error);
}

static int
job_find (sd_bus *bus, const char *path, const char *interface, void *userdata,
          void **found, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;

  if (job_of_path (self, path, NULL) == NULL)
    return 0;
  *found = self;
  return 1;
}

static int
job_enumerate (sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;
  g_autoptr(GPtrArray) jobs = orch_manager_list (self->manager, NULL, NULL, NULL);

  for (guint i = 0; i < jobs->len; i++)
    jobs->pdata[i] = ((OrchJob *) jobs->pdata[i])->id;
  return orch_bus_node_list (JOB_PREFIX, jobs, nodes);
}

static int
job_prop (sd_bus *bus, const char *path, const char *interface, const char *property,
          sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  OrchJob *job = job_of_path (userdata, path, &error);
  gsize n;
  const OrchJobField *fields = orch_job_fields (&n);

  OrchBusJobs *self = userdata;
  sd_bus_message *current = sd_bus_get_current_message (bus);
  int r = 0;

  /* A caller reading properties is checked; the same getters also fill
   * PropertiesChanged signals, sent from whatever message caused them. */
  if (current && (sd_bus_message_is_method_call (current, "org.freedesktop.DBus.Properties", NULL) > 0 ||
                  sd_bus_message_is_method_call (current, "org.freedesktop.DBus.ObjectManager", NULL) > 0))
    r = orch_bus_auth_check_now (self->auth, current, ORCH_ACCESS_READ, ret_error);
  if (r < 0)
    return r;
  if (job == NULL)
    return orch_bus_set_gerror (ret_error, error);
  for (gsize i = 0; i < n; i++)
    if (g_strcmp0 (fields[i].property, property) == 0)
      {
        OrchFieldValue v;
        if (!fields[i].get (job, &v))
          return -ENOENT;
        return append_field (reply, &fields[i], &v);
      }
  return -ENOENT;
}

static int
job_stop_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  const char *id = id_from_path (sd_bus_message_get_path (m));

  if (id == NULL)
    return sd_bus_error_set (ret_error, orch_error_to_dbus_name (ORCH_ERROR_NOT_FOUND), "no such job");
  return do_stop (userdata, m, id, ret_error);
}

static int
job_restart_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusJobs *self = userdata;
  const char *id = id_from_path (sd_bus_message_get_path (m));

  if (id == NULL)
    return sd_bus_error_set (ret_error, orch_error_to_dbus_name (ORCH_ERROR_NOT_FOUND), "no such job");
  orch_manager_restart (self->manager, id, deferred_done, deferred_new (self, m));
  return 1;
}

static int
job_set_limits_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  const char *id = id_from_path (sd_bus_message_get_path (m));

  if (id == NULL)
    return sd_bus_error_set (ret_error, orch_error_to_dbus_name (ORCH_ERROR_NOT_FOUND),
                             "no such job");
  return do_set_limits (userdata, m, id, ret_error);
}

ORCH_BUS_GATED (job_method_stop, OrchBusJobs, ORCH_ACCESS_MANAGE, job_stop_authorized)
ORCH_BUS_GATED (job_method_restart, OrchBusJobs, ORCH_ACCESS_MANAGE, job_restart_authorized)
ORCH_BUS_GATED (job_method_set_limits, OrchBusJobs, ORCH_ACCESS_MANAGE, job_set_limits_authorized)

#define JOB_PROP(name, sig) \
  SD_BUS_PROPERTY (name, sig, job_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

static const sd_bus_vtable job_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("Stop", SD_BUS_ARGS ("a{sv}", options), SD_BUS_RESULT ("a{sv}", job),
                           job_method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Restart", SD_BUS_NO_ARGS, SD_BUS_RESULT ("a{sv}", job),
                           job_method_restart, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("SetLimits", SD_BUS_ARGS ("a{sv}", limits), SD_BUS_RESULT ("a{sv}", job),
                           job_method_set_limits, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_PROPERTY ("Id", "s", job_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  JOB_PROP ("Name", "s"),
  JOB_PROP ("Command", "as"),
  JOB_PROP ("State", "s"),
  JOB_PROP ("Pid", "u"),
  JOB_PROP ("Unit", "s"),
  JOB_PROP ("Cgroup", "s"),
  JOB_PROP ("ExitCode", "i"),
  JOB_PROP ("Signal", "i"),
  JOB_PROP ("Restarts", "u"),
  SD_BUS_PROPERTY ("CreatedAt", "t", job_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  JOB_PROP ("StartedAt", "t"),
  JOB_PROP ("FinishedAt", "t"),
  SD_BUS_PROPERTY ("Backend", "s", job_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("LogPath", "s", job_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  JOB_PROP ("Error", "s"),
  SD_BUS_VTABLE_END
};

/* ---- manager callbacks: signals ---- */

static void
emit_job_changed (OrchBusJobs *self, OrchJob *job)
{
  g_autoptr(sd_bus_message) sig = NULL;
  int r;

  r = sd_bus_message_new_signal (self->bus, &sig, OBJ_PATH, JOBS_IFACE, "JobChanged");
  if (r >= 0)
    r = sd_bus_message_append (sig, "s", job->id);
  if (r >= 0)
    r = append_record (sig, job);
  if (r >= 0)
    r = sd_bus_send (self->bus, sig, NULL);
  if (r < 0)
    g_warning ("cannot emit JobChanged: %s", g_strerror (-r));
}

static void
emit_running_count (OrchBusJobs *self)
{
  guint n = orch_manager_running_count (self->manager);

  if (n == self->last_running)
    return;
  self->last_running = n;
  sd_bus_emit_properties_changed (self->bus, OBJ_PATH, JOBS_IFACE, "RunningCount", NULL);
}

static void
on_job_added (OrchJob *job, gpointer data)
{
  OrchBusJobs *self = data;
  g_autofree char *path = job_path (job->id);

  sd_bus_emit_object_added (self->bus, path);
}

static void
on_job_changed (OrchJob *job, gpointer data)
{
  OrchBusJobs *self = data;
  g_autofree char *path = job_path (job->id);

  /* JobChanged first, then the properties, both in change order. */
  emit_job_changed (self, job);
  sd_bus_emit_properties_changed_strv (self->bus, path, JOB_IFACE, NULL);
  emit_running_count (self);
}

static void
on_job_removed (const char *id, gpointer data)
{
  OrchBusJobs *self = data;
  g_autofree char *path = job_path (id);

  sd_bus_emit_object_removed (self->bus, path);
  sd_bus_emit_signal (self->bus, OBJ_PATH, JOBS_IFACE, "JobRemoved", "s", id);
}

/* A new job: InterfacesAdded carries every property as it is now, so no
 * PropertiesChanged repeats them - one message fewer on every launch. */
static void
on_job_created (OrchJob *job, gpointer data)
{
  OrchBusJobs *self = data;

  on_job_added (job, data);
  emit_job_changed (self, job);
  emit_running_count (self);
}

static const OrchManagerCallbacks callbacks = {
  .job_added = on_job_added,
  .job_changed = on_job_changed,
  .job_removed = on_job_removed,
  .job_created = on_job_created,
};

const OrchManagerCallbacks *
orch_bus_jobs_callbacks (void)
{
  return &callbacks;
}

/* ---- setup ---- */

OrchBusJobs *
orch_bus_jobs_new (sd_bus *bus, GError **error)
{
  g_autoptr(OrchBusJobs) self = g_new0 (OrchBusJobs, 1);
  int r;

  self->bus = sd_bus_ref (bus);
  r = sd_bus_add_object_vtable (bus, &self->slots[0], OBJ_PATH, JOBS_IFACE, jobs_vtable, self);
  if (r >= 0)
    r = sd_bus_add_fallback_vtable (bus, &self->slots[1], JOB_PREFIX, JOB_IFACE, job_vtable,
                                    job_find, self);
  if (r >= 0)
    r = sd_bus_add_node_enumerator (bus, &self->slots[2], JOB_PREFIX, job_enumerate, self);
  if (r >= 0)
    r = sd_bus_add_object_manager (bus, &self->slots[3], OBJ_PATH);
  if (!orch_bus_check_export (r, error))
    {
      return NULL;
    }
  return g_steal_pointer (&self);
}

void
orch_bus_jobs_set_manager (OrchBusJobs *self, OrchManager *manager)
{
  self->manager = manager;
  self->last_running = orch_manager_running_count (manager);
}

void
orch_bus_jobs_set_events (OrchBusJobs *self, OrchEvents *events)
{
  self->events = events;
}

void
orch_bus_jobs_emit_event (OrchBusJobs *self, const OrchEvent *ev)
{
  g_autoptr(sd_bus_message) sig = NULL;
  guint64 time = (guint64) ev->time;
  int r;

  r = sd_bus_message_new_signal (self->bus, &sig, OBJ_PATH, JOBS_IFACE, "JobEvent");
  if (r >= 0)
    r = sd_bus_message_append (sig, "sst", ev->id, ev->kind, time);
  if (r >= 0)
    r = orch_bus_append_variant (sig, ev->data);
  if (r >= 0)
    r = sd_bus_send (self->bus, sig, NULL);
  if (r < 0)
    g_warning ("cannot emit JobEvent: %s", g_strerror (-r));
}

void
orch_bus_jobs_set_auth (OrchBusJobs *self, OrchBusAuth *auth)
{
  self->auth = auth;
}

void
orch_bus_jobs_free (OrchBusJobs *self)
{
  if (self == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (self->slots); i++)
    sd_bus_slot_unref (self->slots[i]);
  sd_bus_unref (self->bus);
  g_free (self);
}
