/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-chunks.h"

#include <string.h>

/* The encoding, per record, bits most significant first:
 *
 *   first record of a chunk: time (64), then each value's bits (64);
 *   then: the delta of delta of the time, in microseconds:
 *     '0' = 0; '10' + 14 bits; '110' + 20 bits; '1110' + 32 bits;
 *     '1111' + 64 bits (signed, two's complement), and per value the XOR
 *     with the previous value's bits:
 *     '0' = the same; '10' + the meaningful bits, in the previous
 *     window (leading zeros and length) when they fit in it; '11' +
 *     leading zeros (6) + length - 1 (6) + the meaningful bits.
 *
 * Sampling at a steady interval with microsecond jitter costs ~16 bits of
 * time; an unchanged value 1 bit. */

typedef struct {
  guint32 n;     /* records */
  guint32 nbits; /* bits written */
  guint32 cap;   /* bytes of data */
  guint8 data[];
} Chunk;

/* What decoding (or encoding) the next record needs from the last. */
typedef struct {
  gint64 t;
  gint64 delta;
  guint64 *bits; /* width: the last values */
  guint8 *lead;  /* width: the XOR window; NO_WINDOW before the first */
  guint8 *len;
} State;

#define NO_WINDOW 0xff
/* The most bits one record can take: 4 + 64 of time, 2 + 12 + 64 a value. */
#define MAX_TIME_BITS 68u
#define MAX_VALUE_BITS 78u
/* Bytes kept after the data, for get_bits()'s 9-byte reads. */
#define PAD 9u

struct _OrchChunks {
  guint width;
  guint capacity;
  guint len;  /* records held */
  guint skip; /* records of the oldest chunk dropped already */
  guint n_slots;
  guint head; /* slot of the oldest chunk */
  guint n_chunks;
  Chunk **chunks;
  State enc;         /* after the newest record */
  State first;       /* the oldest held record, decoded */
  guint32 first_pos; /* bit position just after it in the oldest chunk */
  State scratch;     /* iteration */
};

static void
state_init (State *s, char **p, guint width)
{
  s->bits = (guint64 *) (void *) *p;
  *p += (gsize) width * sizeof (guint64);
  s->lead = (guint8 *) *p;
  *p += width;
  s->len = (guint8 *) *p;
  *p += width;
}

static void
state_copy (State *dst, const State *src, guint width)
{
  dst->t = src->t;
  dst->delta = src->delta;
  memcpy (dst->bits, src->bits, (gsize) width * sizeof (guint64));
  memcpy (dst->lead, src->lead, width);
  memcpy (dst->len, src->len, width);
}

OrchChunks *
orch_chunks_new (guint width, guint capacity)
{
  gsize n_slots = capacity / ORCH_CHUNK_RECORDS + 2;
  gsize per_state = (gsize) width * (sizeof (guint64) + 2);
  gsize states = 3 * ((per_state + 7) & ~(gsize) 7);
  OrchChunks *c;
  char *p;

  G_STATIC_ASSERT (sizeof (OrchChunks) % 8 == 0);
  g_return_val_if_fail (width <= 4096, NULL);

  c = g_malloc0 (sizeof (OrchChunks) + n_slots * sizeof (Chunk *) + states);
  c->width = width;
  c->capacity = capacity;
  c->n_slots = n_slots;
  p = (char *) (c + 1);
  c->chunks = (Chunk **) (void *) p;
  p += n_slots * sizeof (Chunk *);
  state_init (&c->enc, &p, width);
  p = (char *) c + ((gsize) (p - (char *) c + 7) & ~(gsize) 7);
  state_init (&c->first, &p, width);
  p = (char *) c + ((gsize) (p - (char *) c + 7) & ~(gsize) 7);
  state_init (&c->scratch, &p, width);
  return c;
}

void
orch_chunks_free (OrchChunks *c)
{
  if (c == NULL)
    return;
  for (guint i = 0; i < c->n_chunks; i++)
    g_free (c->chunks[(c->head + i) % c->n_slots]);
  g_free (c);
}

guint
orch_chunks_len (OrchChunks *c)
{
  return c->len;
}

static inline Chunk *
chunk_at (OrchChunks *c, guint i)
{
  return c->chunks[(c->head + i) % c->n_slots];
}

/* Writes the low @n bits of @v (n <= 64) into zeroed data: ORed in as
 * one big-endian word and at most one byte more, which reserve() keeps
 * in bounds (a record's most bits plus PAD), rather than a byte at a
 * time: the encoder spends most of its time here. */
static inline void
put_bits (Chunk *ch, guint64 v, guint n)
{
  guint8 *p = ch->data + (ch->nbits >> 3);
  guint off = ch->nbits & 7;
  guint64 w;

  if (n == 0)
    return;
  if (n < 64)
    v &= ((guint64) 1 << n) - 1;
  memcpy (&w, p, sizeof w);
  w = GUINT64_FROM_BE (w);
  if (off + n <= 64)
    w |= v << (64 - off - n);
  else
    {
      w |= v >> (off + n - 64);
      p[8] |= (guint8) (v << (72 - off - n));
    }
  w = GUINT64_TO_BE (w);
  memcpy (p, &w, sizeof w);
  ch->nbits += n;
}

/* Reads @n bits (n <= 64) at *pos: a big-endian load of the 8 bytes
 * there and the next one, which PAD keeps in bounds. */
static inline guint64
get_bits (const Chunk *ch, guint32 *pos, guint n)
{
  const guint8 *p = ch->data + (*pos >> 3);
  guint off = *pos & 7;
  guint64 w;

  if (n == 0)
    return 0;
  memcpy (&w, p, sizeof w);
  w = GUINT64_FROM_BE (w) << off;
  if (off > 0)
    w |= (guint64) p[8] >> (8 - off);
  *pos += n;
  return w >> (64 - n);
}

static inline gboolean
fits (gint64 v, guint bits)
{
  return v >= -((gint64) 1 << (bits - 1)) && v < ((gint64) 1 << (bits - 1));
}

static inline gint64
sign_extend (guint64 v, guint bits)
{
  return bits == 64 ? (gint64) v : (gint64) (v << (64 - bits)) >> (64 - bits);
}

/* Unsigned, so that any two times subtract without overflow. */
static inline gint64
sub (gint64 a, gint64 b)
{
  return (gint64) ((guint64) a - (guint64) b);
}

static void
encode (Chunk *ch, State *s, guint width, gint64 t, const double *values)
{
  if (ch->n == 0)
    {
      put_bits (ch, (guint64) t, 64);
      s->delta = 0;
    }
  else
    {
      gint64 delta = sub (t, s->t), dod = sub (delta, s->delta);

      if (dod == 0)
        ch->nbits++; /* '0': the data is zeroed */
      else if (fits (dod, 14))
        put_bits (ch, (2u << 14) | ((guint64) dod & 0x3fff), 16);
      else if (fits (dod, 20))
        put_bits (ch, (6u << 20) | ((guint64) dod & 0xfffff), 23);
      else if (fits (dod, 32))
        {
          put_bits (ch, 14, 4);
          put_bits (ch, (guint64) dod & 0xffffffffu, 32);
        }
      else
        {
          put_bits (ch, 15, 4);
          put_bits (ch, (guint64) dod, 64);
        }
      s->delta = delta;
    }
  s->t = t;

  for (guint j = 0; j < width; j++)
    {
      guint64 raw, x;

      memcpy (&raw, &values[j], sizeof raw);
      if (ch->n == 0)
        {
          put_bits (ch, raw, 64);
          s->lead[j] = NO_WINDOW;
        }
      else if ((x = raw ^ s->bits[j]) == 0)
        {
          /* '0', mostly: a sleeping job's figures stand still. */
          ch->nbits++;
          continue;
        }
      else
        {
          guint lz = (guint) __builtin_clzll (x), tz = (guint) __builtin_ctzll (x);

          if (s->lead[j] != NO_WINDOW && lz >= s->lead[j] && tz >= 64u - s->lead[j] - s->len[j])
            {
              put_bits (ch, 2, 2);
              put_bits (ch, x >> (64u - s->lead[j] - s->len[j]), s->len[j]);
            }
          else
            {
              guint len = 64 - lz - tz;

              put_bits (ch, (3u << 12) | (lz << 6) | (len - 1), 14);
              put_bits (ch, x >> tz, len);
              s->lead[j] = (guint8) lz;
              s->len[j] = (guint8) len;
            }
        }
      s->bits[j] = raw;
    }
  ch->n++;
}

/* Decodes record @idx of @ch, the one after @s, from *pos. */
static void
decode (const Chunk *ch, guint idx, guint32 *pos, State *s, guint width)
{
  if (idx == 0)
    {
      s->t = (gint64) get_bits (ch, pos, 64);
      s->delta = 0;
    }
  else
    {
      guint ones = 0;
      static const guint width_of[] = { 0, 14, 20, 32, 64 };
      gint64 dod = 0;

      while (ones < 4 && get_bits (ch, pos, 1) == 1)
        ones++;
      if (ones > 0)
        dod = sign_extend (get_bits (ch, pos, width_of[ones]), width_of[ones]);
      s->delta = (gint64) ((guint64) s->delta + (guint64) dod);
      s->t = (gint64) ((guint64) s->t + (guint64) s->delta);
    }

  for (guint j = 0; j < width; j++)
    {
      if (idx == 0)
        {
          s->bits[j] = get_bits (ch, pos, 64);
          s->lead[j] = NO_WINDOW;
        }
      else if (get_bits (ch, pos, 1) == 1)
        {
          if (get_bits (ch, pos, 1) == 1)
            {
              guint64 h = get_bits (ch, pos, 12);

              s->lead[j] = (guint8) (h >> 6);
              s->len[j] = (guint8) ((h & 63) + 1);
            }
          s->bits[j] ^= get_bits (ch, pos, s->len[j]) << (64u - s->lead[j] - s->len[j]);
        }
    }
}

static void
state_values (const State *s, guint width, double *values)
{
  if (values != NULL)
    memcpy (values, s->bits, (gsize) width * sizeof (double));
}

gboolean
orch_chunks_oldest (OrchChunks *c, gint64 *time_us, double *values)
{
  if (c->len == 0)
    return FALSE;
  if (time_us != NULL)
    *time_us = c->first.t;
  state_values (&c->first, c->width, values);
  return TRUE;
}

void
orch_chunks_drop_oldest (OrchChunks *c)
{
  Chunk *oldest;

  if (c->len == 0)
    return;
  c->len--;
  c->skip++;
  oldest = chunk_at (c, 0);
  if (c->skip == oldest->n)
    {
      /* Only a full chunk, or the last one once empty, ends here. */
      g_free (oldest);
      c->chunks[c->head] = NULL;
      c->head = (c->head + 1) % c->n_slots;
      c->n_chunks--;
      c->skip = 0;
      c->first_pos = 0;
    }
  if (c->len > 0)
    decode (chunk_at (c, 0), c->skip, &c->first_pos, &c->first, c->width);
}

/* Room for one more record of the newest chunk, starting one if needed. */
static Chunk *
reserve (OrchChunks *c)
{
  guint slot;
  Chunk *ch = c->n_chunks > 0 ? chunk_at (c, c->n_chunks - 1) : NULL;
  guint32 need_bits = MAX_TIME_BITS + MAX_VALUE_BITS * c->width;
  guint32 need;

  if (ch == NULL || ch->n == ORCH_CHUNK_RECORDS)
    {
      slot = (c->head + c->n_chunks) % c->n_slots;
      need = (need_bits + 7) / 8 + PAD + 16;
      ch = g_malloc0 (sizeof (Chunk) + need);
      ch->cap = need;
      c->chunks[slot] = ch;
      c->n_chunks++;
      return ch;
    }
  slot = (c->head + c->n_chunks - 1) % c->n_slots;
  need = (ch->nbits + need_bits + 7) / 8 + PAD;
  if (need > ch->cap)
    {
      /* Small steps: the chunk's slack is most of what a ring wastes. */
      guint32 cap = need + MAX (16u, ch->cap / 8);

      ch = g_realloc (ch, sizeof (Chunk) + cap);
      memset (ch->data + ch->cap, 0, cap - ch->cap);
      ch->cap = cap;
      c->chunks[slot] = ch;
    }
  return ch;
}

void
orch_chunks_push (OrchChunks *c, gint64 time_us, const double *values)
{
  Chunk *ch;

  if (c->capacity == 0)
    return;
  if (c->len == c->capacity)
    orch_chunks_drop_oldest (c);
  ch = reserve (c);
  encode (ch, &c->enc, c->width, time_us, values);
  if (ch->n == ORCH_CHUNK_RECORDS)
    {
      /* Sealed: give back the slack. */
      guint slot = (c->head + c->n_chunks - 1) % c->n_slots;

      ch->cap = (ch->nbits + 7) / 8 + PAD;
      c->chunks[slot] = g_realloc (ch, sizeof (Chunk) + ch->cap);
    }
  if (c->len++ == 0)
    {
      c->first_pos = 0;
      decode (chunk_at (c, 0), 0, &c->first_pos, &c->first, c->width);
    }
}

gsize
orch_chunks_bytes (OrchChunks *c)
{
  gsize per_state = (gsize) c->width * (sizeof (guint64) + 2);
  gsize bytes = sizeof (OrchChunks) + c->n_slots * sizeof (Chunk *) +
                3 * ((per_state + 7) & ~(gsize) 7);

  for (guint i = 0; i < c->n_chunks; i++)
    bytes += sizeof (Chunk) + chunk_at (c, i)->cap;
  return bytes;
}

void
orch_chunks_prefetch (OrchChunks *c)
{
  if (c->n_chunks > 0)
    {
      Chunk *ch = chunk_at (c, c->n_chunks - 1);

      __builtin_prefetch (ch, 1);
      __builtin_prefetch (ch->data + (ch->nbits >> 3), 1);
    }
  __builtin_prefetch (c->enc.bits, 1);
}

void
orch_chunks_iter_init (OrchChunks *c, OrchChunksIter *it)
{
  it->c = c;
  it->chunk = 0;
  it->idx = c->skip + 1;
  it->pos = c->first_pos;
  it->remaining = c->len;
  it->fresh = TRUE;
  if (c->len > 0)
    state_copy (&c->scratch, &c->first, c->width);
}

gboolean
orch_chunks_iter_next (OrchChunksIter *it, gint64 *time_us, double *values)
{
  OrchChunks *c = it->c;

  if (it->remaining == 0)
    return FALSE;
  if (it->fresh)
    it->fresh = FALSE;
  else
    {
      Chunk *ch = chunk_at (c, it->chunk);

      if (it->idx == ch->n)
        {
          ch = chunk_at (c, ++it->chunk);
          it->idx = 0;
          it->pos = 0;
        }
      decode (ch, it->idx++, &it->pos, &c->scratch, c->width);
    }
  it->remaining--;
  if (time_us != NULL)
    *time_us = c->scratch.t;
  state_values (&c->scratch, c->width, values);
  return TRUE;
}
