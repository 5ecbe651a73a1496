/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-rest-cache.h"

#include <string.h>

typedef struct {
  char *key;
  char *content_type;
  GBytes *body;
  gint64 stored_us;
} Entry;

typedef struct {
  char *key;
  gpointer leader;
  guint64 generation;
  GPtrArray *waiters;
} Fetch;

struct _OrchRestCache {
  guint max_entries;
  gsize max_bytes;
  gint64 max_age_us;
  guint64 generation;
  GHashTable *entries; /* key -> Entry, owned */
  GQueue order;        /* Entry, oldest first */
  gsize bytes;
  GPtrArray *fetches; /* Fetch; few at once */
};

static void
entry_free (Entry *e)
{
  g_free (e->key);
  g_free (e->content_type);
  g_bytes_unref (e->body);
  g_free (e);
}

static void
fetch_free (Fetch *f)
{
  g_free (f->key);
  if (f->waiters)
    g_ptr_array_unref (f->waiters);
  g_free (f);
}

OrchRestCache *
orch_rest_cache_new (guint max_entries, gsize max_bytes, gint64 max_age_us)
{
  OrchRestCache *self = g_new0 (OrchRestCache, 1);

  self->max_entries = max_entries;
  self->max_bytes = max_bytes;
  self->max_age_us = max_age_us;
  self->entries = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&self->order);
  self->fetches = g_ptr_array_new_with_free_func ((GDestroyNotify) fetch_free);
  return self;
}

static void
drop (OrchRestCache *self, Entry *e)
{
  g_hash_table_remove (self->entries, e->key);
  g_queue_remove (&self->order, e);
  self->bytes -= g_bytes_get_size (e->body);
  entry_free (e);
}

static void
drop_all (OrchRestCache *self)
{
  Entry *e;

  while ((e = g_queue_pop_head (&self->order)))
    entry_free (e);
  g_hash_table_remove_all (self->entries);
  self->bytes = 0;
}

void
orch_rest_cache_free (OrchRestCache *self)
{
  if (self == NULL)
    return;
  drop_all (self);
  g_hash_table_unref (self->entries);
  g_ptr_array_unref (self->fetches);
  g_free (self);
}

guint64
orch_rest_cache_generation (const OrchRestCache *self)
{
  return self->generation;
}

void
orch_rest_cache_invalidate (OrchRestCache *self)
{
  self->generation++;
  drop_all (self);
}

GBytes *
orch_rest_cache_lookup (OrchRestCache *self, const char *key, gint64 now_us,
                        const char **ret_content_type)
{
  Entry *e = g_hash_table_lookup (self->entries, key);

  if (e == NULL)
    return NULL;
  if (now_us - e->stored_us >= self->max_age_us || now_us < e->stored_us)
    {
      drop (self, e);
      return NULL;
    }
  *ret_content_type = e->content_type;
  return g_bytes_ref (e->body);
}

gboolean
orch_rest_cache_store (OrchRestCache *self, const char *key, guint64 generation, gint64 now_us,
                       const char *content_type, GBytes *body)
{
  gsize size = g_bytes_get_size (body);
  Entry *e;

  if (generation != self->generation || size > self->max_bytes || self->max_entries == 0)
    return FALSE;
  if ((e = g_hash_table_lookup (self->entries, key)))
    drop (self, e);
  while (self->order.length >= self->max_entries || self->bytes + size > self->max_bytes)
    drop (self, g_queue_peek_head (&self->order));
  e = g_new0 (Entry, 1);
  e->key = g_strdup (key);
  e->content_type = g_strdup (content_type);
  e->body = g_bytes_ref (body);
  e->stored_us = now_us;
  g_hash_table_insert (self->entries, e->key, e);
  g_queue_push_tail (&self->order, e);
  self->bytes += size;
  return TRUE;
}

gboolean
orch_rest_cache_join (OrchRestCache *self, const char *key, gpointer leader_or_waiter)
{
  Fetch *f;

  for (guint i = 0; i < self->fetches->len; i++)
    {
      f = self->fetches->pdata[i];
      if (f->generation == self->generation && strcmp (f->key, key) == 0)
        {
          if (f->waiters == NULL)
            f->waiters = g_ptr_array_new ();
          g_ptr_array_add (f->waiters, leader_or_waiter);
          return TRUE;
        }
    }
  f = g_new0 (Fetch, 1);
  f->key = g_strdup (key);
  f->leader = leader_or_waiter;
  f->generation = self->generation;
  g_ptr_array_add (self->fetches, f);
  return FALSE;
}

GPtrArray *
orch_rest_cache_fetched (OrchRestCache *self, const char *key, gpointer leader)
{
  for (guint i = 0; i < self->fetches->len; i++)
    {
      Fetch *f = self->fetches->pdata[i];

      if (f->leader == leader && strcmp (f->key, key) == 0)
        {
          GPtrArray *waiters = f->waiters ? g_steal_pointer (&f->waiters) : g_ptr_array_new ();

          g_ptr_array_remove_index_fast (self->fetches, i);
          return waiters;
        }
    }
  return g_ptr_array_new ();
}
