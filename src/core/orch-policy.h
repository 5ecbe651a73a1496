/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-config.h"
#include "basic/orch-spec.h"

G_BEGIN_DECLS

#define ORCH_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Checks @spec against the command policy of @config and the system
 * (executable, cwd, user) and fills spec->resolved_*.  Touches nothing. */
gboolean orch_policy_check (const OrchConfig *config, OrchSpec *spec, GError **error);

/* The deny rule of @deny that @argv matches, or NULL. */
const char *orch_policy_match_deny (const char *const *deny, const char *const *argv,
                                    const char *resolved_exec);

/* The block device @argv writes to (a newly allocated path), or NULL:
 * dd's of=, a redirection in a shell string, an operand of tee, cp, mv,
 * install or truncate. */
char *orch_policy_device_write (const char *const *argv);

/* Resolves argv0 like execvp() would, with @path_env (NULL = default PATH)
 * and @cwd for relative names.  Returns a newly allocated absolute path. */
char *orch_policy_find_executable (const char *argv0, const char *path_env,
                                   const char *cwd, GError **error);

G_END_DECLS
