/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_notify_bind: the notifier's public constructors bound to the real
 * receiver table (alerts_recv_types) and Alertmanager client
 * (alerts_recv_am_post). Kept apart from alerts_notify.c so the notifier's
 * unit tests link with fake receivers and without libcurl-backed code.
 */
#include "alerts/alerts_int.h"

static alerts_notify_hooks_t real_hooks(void)
{
    alerts_notify_hooks_t h = { 0 };
    h.types = alerts_recv_types(&h.ntypes);
    h.am_post = alerts_recv_am_post;
    return h;
}

int alerts_notifier_create(const alerts_notifier_opts_t *o, alerts_notifier_t **out, buf_t *err)
{
    alerts_notify_hooks_t h = real_hooks();
    return alerts_notify_open(o, &h, out, err);
}

int alerts_notifier_check_config(const char *path, buf_t *err)
{
    alerts_notify_hooks_t h = real_hooks();
    return alerts_notify_check(path, h.types, h.ntypes, err);
}
