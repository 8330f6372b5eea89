/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql_source: the log store as a logql_source_t. A file of its own so
 * that programs which evaluate over another source (the unit tests) do not
 * pull the store's select into their link.
 */
#include "query/logql.h"

static int store_select(void *ctx, const logs_select_t *q, logs_select_fn fn, void *fn_ctx)
{
    return logs_store_select((logs_store_t *)ctx, q, fn, fn_ctx);
}

logql_source_t logql_source_store(logs_store_t *s)
{
    return (logql_source_t){ .select = store_select, .ctx = s };
}
